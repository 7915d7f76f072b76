package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/vishvananda/netlink"
)

// Netem is packet-level trouble inside an instance's network namespace
// (Linux netem): every packet it sends waits Delay (± Jitter), LossPercent
// of them are dropped and CorruptPercent get a flipped bit.
type Netem struct {
	Delay, Jitter               time.Duration
	LossPercent, CorruptPercent float64
}

// NoNetemKernel explains a kernel without the netem qdisc.
const NoNetemKernel = "this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM, module sch_netem); load the module or use Toxiproxy's latency and timeout faults on the edges instead"

// RoleNetem labels the helper container that holds a netem fault.
const RoleNetem = "netem"

// Lines the helper prints once the qdisc is set and once it is removed.
const (
	netemSet     = "netem set"
	netemRemoved = "netem removed"
)

func (n Netem) args() []string {
	return []string{"netem", "--delay", n.Delay.String(), "--jitter", n.Jitter.String(),
		"--loss", strconv.FormatFloat(n.LossPercent, 'f', -1, 64), "--corrupt", strconv.FormatFloat(n.CorruptPercent, 'f', -1, 64)}
}

// ServeNetem is what the helper container runs (`firedrill netem`): it
// sets a netem root qdisc on every non-loopback link of the namespace it
// shares, holds it until ctx ends (the helper is stopped), then removes
// it. It needs CAP_NET_ADMIN and nothing else.
func ServeNetem(ctx context.Context, n Netem, out io.Writer) error {
	links, err := netlink.LinkList()
	if err != nil {
		return fmt.Errorf("netem: list links: %w", err)
	}
	var set []netlink.Qdisc
	undo := func() error {
		var errs []error
		for _, q := range set {
			if err := netlink.QdiscDel(q); err != nil {
				errs = append(errs, fmt.Errorf("netem: remove from link %d: %w", q.Attrs().LinkIndex, err))
			}
		}
		return errors.Join(errs...)
	}
	for _, l := range links {
		if l.Attrs().Flags&net.FlagLoopback != 0 {
			continue
		}
		q := netlink.NewNetem(netlink.QdiscAttrs{LinkIndex: l.Attrs().Index, Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT},
			netlink.NetemQdiscAttrs{Latency: uint32(n.Delay.Microseconds()), Jitter: uint32(n.Jitter.Microseconds()),
				Loss: float32(n.LossPercent), CorruptProb: float32(n.CorruptPercent)})
		if err := netlink.QdiscReplace(q); err != nil {
			why := "the helper needs CAP_NET_ADMIN"
			if errors.Is(err, syscall.ENOENT) { // the kernel's "Specified qdisc kind is unknown"
				why = NoNetemKernel
			}
			return errors.Join(fmt.Errorf("netem: set on %s: %w (%s)", l.Attrs().Name, err, why), undo())
		}
		set = append(set, q)
	}
	if len(set) == 0 {
		return errors.New("netem: no link but loopback in this network namespace")
	}
	fmt.Fprintln(out, netemSet)
	<-ctx.Done()
	if err := undo(); err != nil {
		return err
	}
	fmt.Fprintln(out, netemRemoved)
	return nil
}

// Netem starts a helper container in the instance's network namespace
// (--network container:<id>, only NET_ADMIN, not privileged) that sets n
// and holds it; the revert stops the helper, which takes the qdisc out as
// it leaves, and removes it. Run cleanup removes a helper left behind by
// its label, and the qdisc dies with the instance's namespace anyway.
func (in *instance) Netem(ctx context.Context, n Netem) (func(context.Context) error, error) {
	id := in.ContainerID()
	if id == "" {
		return nil, fmt.Errorf("instance %s: not started; no network namespace to disturb", in.name)
	}
	c := in.t.c
	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: containerName(in.t.opts.RunID, in.name+"-netem-"+strconv.FormatInt(time.Now().UnixNano()%1e9, 36)),
		Config: &container.Config{Image: in.t.image, Cmd: n.args(),
			Labels: RunLabels(in.t.opts.RunID, in.t.sc.Name, RoleNetem)},
		HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode("container:" + id),
			CapDrop: []string{"ALL"}, CapAdd: []string{"NET_ADMIN"}, Privileged: false},
	})
	if err != nil {
		return nil, fmt.Errorf("instance %s: create the netem helper: %w", in.name, err)
	}
	helper := created.ID
	remove := func(ctx context.Context) error {
		_, err := c.ContainerRemove(ctx, helper, client.ContainerRemoveOptions{Force: true})
		return err
	}
	if _, err := c.ContainerStart(ctx, helper, client.ContainerStartOptions{}); err != nil {
		return nil, errors.Join(fmt.Errorf("instance %s: start the netem helper: %w", in.name, err), remove(ctx))
	}
	if err := in.waitLog(ctx, helper, netemSet); err != nil {
		return nil, errors.Join(err, remove(context.WithoutCancel(ctx)))
	}
	in.event(EvInstanceNetem, "netem set: "+n.describe(), map[string]any{"helper": shortID(helper)})
	return func(ctx context.Context) error {
		timeout := 10
		_, err := c.ContainerStop(ctx, helper, client.ContainerStopOptions{Timeout: &timeout})
		logs, _ := containerLogs(ctx, c, helper, "20")
		if err == nil && !strings.Contains(string(logs), netemRemoved) {
			err = fmt.Errorf("the helper left without removing netem: %s", strings.TrimSpace(string(logs)))
		}
		if rerr := remove(ctx); rerr != nil {
			err = errors.Join(err, rerr)
		}
		if err != nil {
			return fmt.Errorf("instance %s: take netem out: %w", in.name, err)
		}
		in.event(EvInstanceNetem, "netem removed", nil)
		return nil
	}, nil
}

// EvInstanceNetem is netem set on, or removed from, an instance.
const EvInstanceNetem = "instance_netem"

// waitLog waits until the container printed line, failing when it exits
// first or takes more than 30 s.
func (in *instance) waitLog(ctx context.Context, id, line string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		logs, _ := containerLogs(ctx, in.t.c, id, "all")
		if strings.Contains(string(logs), line) {
			return nil
		}
		res, err := in.t.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if err == nil && res.Container.State != nil && !res.Container.State.Running && res.Container.State.Status != container.StateCreated {
			return fmt.Errorf("instance %s: the netem helper exited: %s", in.name, strings.TrimSpace(string(logs)))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("instance %s: the netem helper did not set netem: %w; it said: %s", in.name, ctx.Err(), strings.TrimSpace(string(logs)))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (n Netem) describe() string {
	var parts []string
	if n.Delay > 0 {
		parts = append(parts, "delay "+n.Delay.String())
		if n.Jitter > 0 {
			parts[len(parts)-1] += " ±" + n.Jitter.String()
		}
	}
	if n.LossPercent > 0 {
		parts = append(parts, fmt.Sprintf("loss %g%%", n.LossPercent))
	}
	if n.CorruptPercent > 0 {
		parts = append(parts, fmt.Sprintf("corrupt %g%%", n.CorruptPercent))
	}
	return strings.Join(parts, ", ")
}

// SetNetem is Netem as the faults package asks for it (faults.NetemCapable).
func (in *instance) SetNetem(ctx context.Context, delay, jitter time.Duration, loss, corrupt float64) (func(context.Context) error, error) {
	return in.Netem(ctx, Netem{Delay: delay, Jitter: jitter, LossPercent: loss, CorruptPercent: corrupt})
}
