package docker

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// removeRun removes every container (but skip, an id prefix; "" for none)
// and then every network labelled with runID. It returns how many objects
// it removed. Objects already gone are not errors.
func removeRun(ctx context.Context, c *client.Client, runID, skip string) (int, error) {
	f := client.Filters{}.Add("label", LabelRun+"="+runID)
	list, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return 0, fmt.Errorf("list the containers of run %s: %w", runID, err)
	}
	var (
		mu   sync.Mutex
		n    int
		errs []error
		wg   sync.WaitGroup
	)
	for _, ct := range list.Items {
		if skip != "" && strings.HasPrefix(ct.ID, skip) {
			continue
		}
		wg.Go(func() {
			err := RemoveContainer(ctx, c, ct.ID)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			n++
		})
	}
	wg.Wait()
	if skip != "" {
		// The skipped container (the reaper) must leave the run's networks,
		// or they cannot be removed.
		nets, _ := c.NetworkList(ctx, client.NetworkListOptions{Filters: f})
		for _, nw := range nets.Items {
			_, _ = c.NetworkDisconnect(ctx, nw.ID, client.NetworkDisconnectOptions{Container: skip, Force: true})
		}
	}
	nets, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return n, errors.Join(append(errs, fmt.Errorf("list the networks of run %s: %w", runID, err))...)
	}
	for _, nw := range nets.Items {
		if _, err := c.NetworkRemove(ctx, nw.ID, client.NetworkRemoveOptions{}); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove network %s: %w", nw.Name, err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// RemoveContainer force-removes a container (and its anonymous volumes); one
// already gone or being removed by another remover is not an error.
func RemoveContainer(ctx context.Context, c *client.Client, id string) error {
	_, err := c.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !errdefs.IsNotFound(err) && !isRemovalInProgress(err) {
		return fmt.Errorf("remove container %.12s: %w", id, err)
	}
	return nil
}

// isRemovalInProgress: another remover (the reaper, a concurrent Down) got
// there first.
func isRemovalInProgress(err error) bool {
	return errdefs.IsConflict(err) && strings.Contains(err.Error(), "already in progress")
}

// Leftover is a container or network of a run that no live harness holds.
type Leftover struct {
	Kind  string // "container" or "network"
	ID    string
	Name  string
	RunID string
}

// FindLeftovers lists the containers and networks labelled firedrill.run
// whose run is not live. A run is live when its reaper says a harness holds
// it, or when the harness process named by its labels (pid on this boot of
// this host) still runs.
func FindLeftovers(ctx context.Context) ([]Leftover, error) {
	c, err := Client(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return findLeftovers(ctx, c)
}

func findLeftovers(ctx context.Context, c *client.Client) ([]Leftover, error) {
	f := client.Filters{}.Add("label", LabelRun)
	cts, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list firedrill containers: %w", err)
	}
	nets, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list firedrill networks: %w", err)
	}
	live := map[string]bool{}
	decide := func(runID string, labels map[string]string) {
		if !live[runID] && harnessAlive(labels) {
			live[runID] = true
		}
	}
	for _, ct := range cts.Items {
		runID := ct.Labels[LabelRun]
		decide(runID, ct.Labels)
		if ct.Labels[LabelRole] == RoleReaper && ct.State == container.StateRunning && !live[runID] {
			for _, p := range ct.Ports {
				if p.PrivatePort == reaperPort && p.PublicPort != 0 {
					addr := "127.0.0.1:" + strconv.Itoa(int(p.PublicPort))
					if ok, err := reaperStatusOf(ctx, addr, runID); err == nil && ok {
						live[runID] = true
					}
				}
			}
		}
	}
	for _, nw := range nets.Items {
		decide(nw.Labels[LabelRun], nw.Labels)
	}
	var out []Leftover
	for _, ct := range cts.Items {
		if runID := ct.Labels[LabelRun]; !live[runID] {
			name := ct.ID[:12]
			if len(ct.Names) > 0 {
				name = strings.TrimPrefix(ct.Names[0], "/")
			}
			out = append(out, Leftover{Kind: "container", ID: ct.ID, Name: name, RunID: runID})
		}
	}
	for _, nw := range nets.Items {
		if runID := nw.Labels[LabelRun]; !live[runID] {
			out = append(out, Leftover{Kind: "network", ID: nw.ID, Name: nw.Name, RunID: runID})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].RunID < out[j].RunID })
	return out, nil
}

// harnessAlive: the labels name a harness pid on this host's current boot
// that still runs.
func harnessAlive(labels map[string]string) bool {
	boot := labels[LabelBoot]
	if boot == "" || boot != bootID() {
		return false
	}
	pid, err := strconv.Atoi(labels[LabelPID])
	return err == nil && processAlive(pid)
}

// RemoveLeftovers removes what FindLeftovers finds (containers first, so
// that their networks can go) and returns it.
func RemoveLeftovers(ctx context.Context) ([]Leftover, error) {
	c, err := Client(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	left, err := findLeftovers(ctx, c)
	if err != nil {
		return nil, err
	}
	var errs []error
	var done []Leftover
	for _, l := range left {
		if l.Kind == "container" {
			if err := RemoveContainer(ctx, c, l.ID); err != nil {
				errs = append(errs, err)
				continue
			}
			done = append(done, l)
		}
	}
	for _, l := range left {
		if l.Kind == "network" {
			if _, err := c.NetworkRemove(ctx, l.ID, client.NetworkRemoveOptions{}); err != nil && !errdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("remove network %s: %w", l.Name, err))
				continue
			}
			done = append(done, l)
		}
	}
	return done, errors.Join(errs...)
}
