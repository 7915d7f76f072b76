package docker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/topology/cluster"
)

// instance is one container of a service. Its container, network alias and
// address stay the same across Kill/Start, Stop/Start and partitions.
type instance struct {
	t       *run
	svc     *cluster.Service
	cs      ContainerSpec
	service string
	version string
	index   int
	name    string
	alias   string // its name on the run network
	addr    string // alias:port, where the data plane reaches it
	ls      launchSpec

	// op serialises lifecycle operations.
	op cluster.OpLock

	mu          sync.Mutex
	id          string
	hostAddr    string // 127.0.0.1:<published port>
	wantRunning bool
	startedAt   time.Time
	died        chan struct{} // closed when the container dies unexpectedly, then replaced
	partitioned bool
	gone        bool
}

var _ cluster.Instance = (*instance)(nil)

func (in *instance) Name() string    { return in.name }
func (in *instance) Service() string { return in.service }
func (in *instance) Version() string { return in.version }

// Addr is where the instance listens, as the data plane reaches it on the
// run network (alias:port).
func (in *instance) Addr() string { return in.addr }

// HostAddr is the instance's port published on 127.0.0.1.
func (in *instance) HostAddr() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.hostAddr
}

// ContainerID is the instance's container id ("" before it was created).
func (in *instance) ContainerID() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.id
}

// Exited is closed when the container dies on its own (a Docker "die"
// event the harness did not cause).
func (in *instance) Exited() <-chan struct{} {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.died
}

// Index is the instance's number within its version.
func (in *instance) Index() int { return in.index }

func (in *instance) event(kind, msg string, fields map[string]any) {
	if fields == nil {
		fields = map[string]any{}
	}
	fields["version"] = in.version
	fields["addr"] = in.addr
	if id := in.ContainerID(); id != "" {
		fields["container"] = shortID(id)
	}
	in.t.event(record.Event{Kind: kind, Service: in.service, Target: in.name, Message: msg, Fields: fields})
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// startupWait is the wait strategy of the container's start: the health
// path over its published port (HTTP), an exec or a log line; nil for TCP
// (a published port accepts connections before the service listens, so
// only the router, inside the network, can tell).
func (in *instance) startupWait(timeout time.Duration) wait.Strategy {
	cs := in.cs
	var ws []wait.Strategy
	if cs.StartupLog != "" {
		ws = append(ws, wait.ForLog(cs.StartupLog).AsRegexp().WithStartupTimeout(timeout).WithPollInterval(100*time.Millisecond))
	}
	if len(cs.StartupExec) > 0 {
		ws = append(ws, wait.ForExec(cs.StartupExec).WithStartupTimeout(timeout).WithPollInterval(200*time.Millisecond))
	}
	if h := in.svc.Health; h.HTTP != "" && !h.TCP {
		path := h.HTTP
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		// Polled often: every dependent's start waits for this answer.
		ws = append(ws, wait.ForHTTP(path).WithPort(fmt.Sprintf("%d/tcp", in.ls.Port)).WithForcedIPv4LocalHost().
			WithStartupTimeout(timeout).WithPollInterval(20*time.Millisecond))
	}
	switch len(ws) {
	case 0:
		return nil
	case 1:
		return ws[0]
	}
	return wait.ForAll(ws...).WithDeadline(timeout)
}

// Launch creates and starts the instance's container and waits for its
// start-up checks (health path, exec, log line).
func (in *instance) Launch(ctx context.Context) error {
	timeout := startTimeout(in.svc.Spec)
	in.mu.Lock()
	// Before the container exists, so that an early death counts.
	in.wantRunning, in.startedAt = true, time.Now()
	in.mu.Unlock()
	ctr, err := in.t.runContainer(ctx, containerReq{
		name: in.alias, image: in.ls.Image, role: RoleInstance,
		labels:     map[string]string{LabelService: in.service, LabelInstance: in.name},
		aliases:    []string{in.alias},
		entrypoint: in.ls.Entrypoint, cmd: in.ls.Cmd, env: in.ls.Env,
		publish: []int{in.ls.Port},
		wait:    in.startupWait(timeout),
	})
	if ctr != nil {
		in.mu.Lock()
		in.id = ctr.GetContainerID()
		in.mu.Unlock()
	}
	if err != nil {
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("service %s: instance %s: start interrupted: %w", in.service, in.name, ctx.Err())
		}
		if last := in.lastHealth(ctx, ctr); last != "" {
			err = fmt.Errorf("%s (%w)", last, err)
		}
		return in.Failed(ctx, fmt.Errorf("start its container: %w", err))
	}
	if a, err := hostAddr(ctx, ctr, in.ls.Port); err == nil {
		in.mu.Lock()
		in.hostAddr = a
		in.mu.Unlock()
	}
	in.event(record.EvInstanceStarted, "container "+shortID(in.ContainerID()), nil)
	return nil
}

// Failed describes an instance that did not start, with the command and
// the end of its log; cause nil: its container exited first.
func (in *instance) Failed(ctx context.Context, cause error) error {
	if cause == nil {
		cause = errors.New("the container exited before it became healthy; fix its command or image")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "service %s: instance %s: %v", in.service, in.name, cause)
	fmt.Fprintf(&b, "\n  image: %s", in.ls.Image)
	if len(in.ls.Cmd) > 0 {
		fmt.Fprintf(&b, "\n  command: %s", strings.Join(in.ls.Cmd, " "))
	}
	if id := in.ContainerID(); id != "" {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		b.WriteString(logTail(lctx, in.t.c, id, 20))
		cancel()
	}
	return errors.New(b.String())
}

// Kill sends SIGKILL and waits until the container stopped. It stays down
// until Start.
func (in *instance) Kill(ctx context.Context) error {
	if err := in.op.Lock(ctx, in.name); err != nil {
		return err
	}
	defer in.op.Unlock()
	return in.stopLocked(ctx, cluster.ReasonKilled, 0)
}

// Stop stops the container gracefully (SIGTERM, SIGKILL after 3s). It stays
// down until Start.
func (in *instance) Stop(ctx context.Context) error {
	if err := in.op.Lock(ctx, in.name); err != nil {
		return err
	}
	defer in.op.Unlock()
	return in.stopLocked(ctx, cluster.ReasonStopped, cluster.StopGrace)
}

// Start starts a killed or stopped container again (same alias and
// address) and returns once it runs, not necessarily healthy.
func (in *instance) Start(ctx context.Context) error {
	if err := in.op.Lock(ctx, in.name); err != nil {
		return err
	}
	defer in.op.Unlock()
	return in.startLocked(ctx)
}

// Restart stops the container gracefully and starts it again.
func (in *instance) Restart(ctx context.Context) error {
	if err := in.op.Lock(ctx, in.name); err != nil {
		return err
	}
	defer in.op.Unlock()
	if err := in.stopLocked(ctx, cluster.ReasonRestart, cluster.StopGrace); err != nil {
		return err
	}
	return in.startLocked(ctx)
}

// Pause freezes the container (docker pause); Resume thaws it.
func (in *instance) Pause(ctx context.Context) error {
	if _, err := in.t.c.ContainerPause(ctx, in.ContainerID(), client.ContainerPauseOptions{}); err != nil {
		return fmt.Errorf("instance %s: docker pause: %w", in.name, err)
	}
	return nil
}

func (in *instance) Resume(ctx context.Context) error {
	if _, err := in.t.c.ContainerUnpause(ctx, in.ContainerID(), client.ContainerUnpauseOptions{}); err != nil {
		return fmt.Errorf("instance %s: docker unpause: %w", in.name, err)
	}
	return nil
}

// Partition disconnects the container from the run network: nothing
// reaches it and it reaches nothing (not even its dependencies) until
// Reconnect.
func (in *instance) Partition(ctx context.Context) error {
	if err := in.op.Lock(ctx, in.name); err != nil {
		return err
	}
	defer in.op.Unlock()
	in.mu.Lock()
	already := in.partitioned
	in.mu.Unlock()
	if already {
		return nil
	}
	if _, err := in.t.c.NetworkDisconnect(ctx, in.t.netID, client.NetworkDisconnectOptions{Container: in.ContainerID(), Force: true}); err != nil {
		return fmt.Errorf("instance %s: disconnect from network %s: %w", in.name, in.t.netName, err)
	}
	in.mu.Lock()
	in.partitioned = true
	in.mu.Unlock()
	in.event(EvInstancePartitioned, "disconnected from "+in.t.netName, nil)
	return nil
}

// Reconnect joins the run network again under the same alias.
func (in *instance) Reconnect(ctx context.Context) error {
	if err := in.op.Lock(ctx, in.name); err != nil {
		return err
	}
	defer in.op.Unlock()
	in.mu.Lock()
	was := in.partitioned
	in.mu.Unlock()
	if !was {
		return nil
	}
	_, err := in.t.c.NetworkConnect(ctx, in.t.netID, client.NetworkConnectOptions{
		Container: in.ContainerID(), EndpointConfig: &network.EndpointSettings{Aliases: []string{in.alias}},
	})
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		return fmt.Errorf("instance %s: reconnect to network %s: %w", in.name, in.t.netName, err)
	}
	in.mu.Lock()
	in.partitioned = false
	in.mu.Unlock()
	in.event(EvInstanceReconnected, "reconnected to "+in.t.netName+" as "+in.alias, nil)
	return nil
}

// state returns the container's state.
func (in *instance) state(ctx context.Context) (*container.State, error) {
	res, err := in.t.c.ContainerInspect(ctx, in.ContainerID(), client.ContainerInspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("instance %s: inspect: %w", in.name, err)
	}
	if res.Container.State == nil {
		return &container.State{}, nil
	}
	return res.Container.State, nil
}

// stopLocked stops the container: SIGKILL at once (grace 0) or docker stop
// with grace. A paused container is thawed first (Docker refuses to stop
// it). in.op must be held.
func (in *instance) stopLocked(ctx context.Context, reason string, grace time.Duration) error {
	if in.ContainerID() == "" {
		return nil
	}
	st, err := in.state(ctx)
	if err != nil {
		return err
	}
	in.mu.Lock()
	in.wantRunning = false
	in.mu.Unlock()
	if !st.Running {
		return nil
	}
	if st.Paused {
		_, _ = in.t.c.ContainerUnpause(ctx, in.ContainerID(), client.ContainerUnpauseOptions{})
	}
	if grace == 0 {
		if _, err := in.t.c.ContainerKill(ctx, in.ContainerID(), client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil && !isNotRunning(err) {
			return fmt.Errorf("instance %s: docker kill: %w", in.name, err)
		}
	} else {
		secs := int(grace.Seconds())
		if _, err := in.t.c.ContainerStop(ctx, in.ContainerID(), client.ContainerStopOptions{Timeout: &secs}); err != nil {
			return fmt.Errorf("instance %s: docker stop: %w", in.name, err)
		}
	}
	if err := in.waitStopped(ctx); err != nil {
		return err
	}
	code := 0
	if st, err := in.state(ctx); err == nil {
		code = st.ExitCode
	}
	in.event(record.EvInstanceStopped, reason+": exit code "+fmt.Sprint(code), map[string]any{"reason": reason, "exit_code": code})
	return nil
}

func isNotRunning(err error) bool {
	return errdefs.IsConflict(err) && strings.Contains(err.Error(), "is not running")
}

// waitStopped waits until the container no longer runs.
func (in *instance) waitStopped(ctx context.Context) error {
	for {
		st, err := in.state(ctx)
		if err != nil {
			return err
		}
		if !st.Running {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("instance %s: still running after being stopped: %w", in.name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// startLocked starts the container unless it runs already. in.op must be
// held.
func (in *instance) startLocked(ctx context.Context) error {
	in.mu.Lock()
	gone, id := in.gone, in.id
	in.mu.Unlock()
	if gone {
		return fmt.Errorf("instance %s was retired or the topology is down; it cannot start again", in.name)
	}
	if id == "" {
		return fmt.Errorf("instance %s has no container; it never started", in.name)
	}
	st, err := in.state(ctx)
	if err != nil {
		return err
	}
	in.mu.Lock()
	in.wantRunning, in.startedAt = true, time.Now()
	in.mu.Unlock()
	if st.Running {
		return nil
	}
	if _, err := in.t.c.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("instance %s: docker start: %w", in.name, err)
	}
	in.event(record.EvInstanceStarted, "container "+shortID(id)+" started again", nil)
	return nil
}

// Remove stops the container (gracefully, unless the topology is going
// down) and removes it for good.
func (in *instance) Remove(ctx context.Context, reason string) error {
	if err := in.op.Lock(ctx, in.name); err != nil {
		return err
	}
	defer in.op.Unlock()
	in.mu.Lock()
	in.gone, in.wantRunning = true, false
	id := in.id
	in.mu.Unlock()
	if id == "" {
		return nil
	}
	in.t.saveLog(ctx, in.name, id)
	if reason != cluster.ReasonDown {
		secs := int(cluster.StopGrace.Seconds())
		_, _ = in.t.c.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &secs})
	}
	if err := RemoveContainer(ctx, in.t.c, id); err != nil {
		return fmt.Errorf("instance %s: %w", in.name, err)
	}
	in.event(record.EvInstanceStopped, reason+": container removed", map[string]any{"reason": reason})
	return nil
}

// died is called for a container "die" event at time at.
func (in *instance) dieEvent(at time.Time, exitCode string) {
	in.mu.Lock()
	unexpected := in.wantRunning && !in.gone && !at.Before(in.startedAt)
	if unexpected {
		close(in.died)
		in.died = make(chan struct{})
		in.wantRunning = false
	}
	in.mu.Unlock()
	if unexpected {
		in.event(cluster.EvInstanceExited, "exited on its own: exit code "+exitCode, map[string]any{"exit_code": exitCode})
	}
}

// lastHealth asks a container that did not pass its start-up wait its
// health path once, so that the error says what it answered ("GET
// /healthz: status 503"), as the router's last check would; "" when it
// has no HTTP health check or cannot be asked.
func (in *instance) lastHealth(ctx context.Context, ctr testcontainers.Container) string {
	h := in.svc.Health
	if ctr == nil || h.HTTP == "" || h.TCP {
		return ""
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	addr, err := hostAddr(pctx, ctr, in.ls.Port)
	if err != nil {
		return ""
	}
	path := h.HTTP
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	req, err := http.NewRequestWithContext(pctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return ""
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Sprintf("GET %s: %v", path, err)
	}
	_ = resp.Body.Close()
	return fmt.Sprintf("GET %s: status %d", path, resp.StatusCode)
}
