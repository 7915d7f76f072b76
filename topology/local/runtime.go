// Package local runs a scenario's topology as child processes of the
// harness: one router per service and the embedded Toxiproxy live in the
// harness, each instance is a process in its own process group that dies
// with the harness (Pdeathsig).
package local

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
)

// DefaultStartTimeout bounds an instance's start when its service sets none.
const DefaultStartTimeout = 30 * time.Second

// downTimeout bounds Down, whatever the caller's context.
const downTimeout = 30 * time.Second

// Runtime is the local-process runtime. The zero value is ready to use; one
// Runtime runs one topology at a time.
type Runtime struct {
	mu   sync.Mutex
	topo *topo
}

var _ topology.Runtime = (*Runtime)(nil)

// New returns a local runtime.
func New() *Runtime { return &Runtime{} }

// Up starts the topology of sc: Toxiproxy, then, dependencies first, each
// service's router, its edge proxies and its instances. It returns once
// every instance is healthy; on error everything started is stopped. A
// failure of the machinery is an *InfraError (errors.Is(err, ErrInfra)).
func (r *Runtime) Up(ctx context.Context, sc *scenarios.Scenario, opts topology.Options) (topology.Topology, error) {
	if sc == nil {
		return nil, errors.New("local runtime: Up: no scenario")
	}
	r.mu.Lock()
	if r.topo != nil {
		r.mu.Unlock()
		return nil, errors.New("local runtime: Up: a topology is already up; call Down first or use another Runtime")
	}
	t := newTopo(ctx, sc, opts)
	r.topo = t // before anything starts, so a concurrent Down sees it
	r.mu.Unlock()

	if err := t.up(ctx); err != nil {
		// Whatever broke once the run was interrupted is a consequence of the
		// interrupt, not an infrastructure failure.
		if cause := ctx.Err(); cause != nil {
			err = fmt.Errorf("local runtime: up interrupted (%v): %w", err, cause)
		} else if t.ctx.Err() != nil && !errors.Is(err, context.Canceled) {
			err = fmt.Errorf("local runtime: up interrupted by Down (%v): %w", err, context.Canceled)
		}
		if derr := r.Down(context.WithoutCancel(ctx)); derr != nil {
			err = errors.Join(err, fmt.Errorf("and cleaning up after it: %w", derr))
		}
		return nil, err
	}
	return t, nil
}

// Down stops everything Up started: routers, instances (SIGTERM, SIGKILL
// after 3s), edge proxies and Toxiproxy. It is idempotent, safe for
// concurrent use, and bounded by its own timeout so it works after ctx was
// cancelled.
func (r *Runtime) Down(ctx context.Context) error {
	r.mu.Lock()
	t := r.topo
	r.mu.Unlock()
	if t == nil {
		return nil
	}
	err := t.down(context.WithoutCancel(ctx))
	r.mu.Lock()
	if r.topo == t {
		r.topo = nil
	}
	r.mu.Unlock()
	return err
}
