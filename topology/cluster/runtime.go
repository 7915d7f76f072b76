package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
)

// Config is what differs between runtimes in the control plane's work.
type Config struct {
	// Name names the runtime in errors ("local runtime").
	Name string
	// StartTimeout bounds an instance's start when its service sets none.
	StartTimeout time.Duration
	// DownTimeout bounds Down, whatever the caller's context.
	DownTimeout time.Duration
	// Leftovers says what to do when Down failed; %s is the run id.
	Leftovers string
}

// Runtime is a topology.Runtime over a runtime's Launcher. One Runtime
// runs one topology at a time.
type Runtime struct {
	cfg         Config
	newLauncher NewLauncher

	mu  sync.Mutex
	cur *Cluster
}

var _ topology.Runtime = (*Runtime)(nil)

// NewRuntime returns a runtime whose runs are launched by nl.
func NewRuntime(cfg Config, nl NewLauncher) *Runtime { return &Runtime{cfg: cfg, newLauncher: nl} }

// Up starts the topology of sc: the launcher's preparations, every
// service's router and edge proxies, then, dependencies first (a level's
// services together), every instance. It returns once every instance is
// healthy; on error everything started is stopped before it returns.
func (r *Runtime) Up(ctx context.Context, sc *scenarios.Scenario, opts topology.Options) (topology.Topology, error) {
	if sc == nil {
		return nil, fmt.Errorf("%s: Up: no scenario", r.cfg.Name)
	}
	r.mu.Lock()
	if r.cur != nil {
		r.mu.Unlock()
		return nil, fmt.Errorf("%s: Up: a topology is already up; call Down first or use another Runtime", r.cfg.Name)
	}
	c := newCluster(ctx, r.cfg, sc, opts, r.newLauncher)
	r.cur = c // before anything starts, so that a concurrent Down sees it
	r.mu.Unlock()

	if err := c.up(ctx); err != nil {
		// Whatever broke once the run was interrupted is a consequence of
		// the interrupt, not an infrastructure failure.
		switch {
		case ctx.Err() != nil:
			err = fmt.Errorf("%s: up interrupted (%v): %w", r.cfg.Name, err, ctx.Err())
		case c.life.Err() != nil && !errors.Is(err, context.Canceled):
			err = fmt.Errorf("%s: up interrupted by Down (%v): %w", r.cfg.Name, err, context.Canceled)
		default:
			err = fmt.Errorf("%s: %w", r.cfg.Name, err)
		}
		if derr := r.Down(context.WithoutCancel(ctx)); derr != nil {
			err = errors.Join(err, fmt.Errorf("and cleaning up after it: %w", derr))
		}
		return nil, err
	}
	return c, nil
}

// Down stops everything Up started. It is idempotent, safe for concurrent
// use (also while Up runs, from a signal handler), and bounded by its own
// timeout, so it works after ctx was cancelled.
func (r *Runtime) Down(ctx context.Context) error {
	r.mu.Lock()
	c := r.cur
	r.mu.Unlock()
	if c == nil {
		return nil
	}
	err := c.down(context.WithoutCancel(ctx))
	r.mu.Lock()
	if r.cur == c {
		r.cur = nil
	}
	r.mu.Unlock()
	return err
}
