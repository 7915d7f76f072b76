package docker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
)

// Event kinds the docker runtime adds to record's set.
const (
	EvImageBuild          = "image_build" // building a static binary or the image
	EvImageReady          = "image_ready"
	EvInstanceExited      = "instance_exited" // as the local runtime's
	EvInstancePartitioned = "instance_partitioned"
	EvInstanceReconnected = "instance_reconnected"
	EvReaperLost          = "reaper_lost"
	EvEventsLost          = "docker_events_lost"
)

// downTimeout bounds Down, whatever the caller's context.
const downTimeout = 60 * time.Second

// stopGrace is how long a stopped container gets between SIGTERM and
// SIGKILL (as on the local runtime).
const stopGrace = 3 * time.Second

// drainTimeout bounds how long Retire waits for in-flight requests.
const drainTimeout = 5 * time.Second

// Config tunes the docker runtime. The zero value is ready to use.
type Config struct {
	// Image is a ready firedrill image tag; "" builds (or reuses) one from
	// topology.Options.Binary, see FiredrillImage.
	Image string
	// ModuleDir is the firedrill module a static binary is built from when
	// the harness's own binary cannot run in a scratch image ("" : found at
	// or above the working directory).
	ModuleDir string
	// Spec adds what scenarios.Service does not (yet) carry: container
	// port, entrypoint, start-up exec or log line. nil: defaults.
	Spec func(*scenarios.Service) ContainerSpec
	// Progress receives image build lines (nil: none).
	Progress func(line string)
	// NoReaper runs without the reaper container: a SIGKILLed harness then
	// leaves its containers until `firedrill clean`.
	NoReaper bool
	// ReaperGrace is how long the reaper waits for a dropped harness to
	// come back (default 5s).
	ReaperGrace time.Duration
}

// Runtime runs a scenario's topology as containers on a private network,
// with every router and the Toxiproxy server in one data plane container.
// One Runtime runs one topology at a time.
type Runtime struct {
	cfg  Config
	mu   sync.Mutex
	topo *topo
}

var _ topology.Runtime = (*Runtime)(nil)

// New returns a docker runtime with the default configuration.
func New() *Runtime { return &Runtime{} }

// NewWithConfig returns a docker runtime configured by cfg.
func NewWithConfig(cfg Config) *Runtime { return &Runtime{cfg: cfg} }

// Up checks that every image is present, builds the firedrill image if
// needed, then creates the run's network, its reaper, its data plane
// (routers and edge proxies) and, dependencies first, every instance. It
// returns once every instance is healthy; on error everything it created is
// removed before it returns.
func (r *Runtime) Up(ctx context.Context, sc *scenarios.Scenario, opts topology.Options) (topology.Topology, error) {
	if sc == nil {
		return nil, errors.New("docker runtime: Up: no scenario")
	}
	if opts.RunID == "" {
		return nil, errors.New("docker runtime: Up: no run id; set topology.Options.RunID")
	}
	r.mu.Lock()
	if r.topo != nil {
		r.mu.Unlock()
		return nil, errors.New("docker runtime: Up: a topology is already up; call Down first or use another Runtime")
	}
	t := newTopo(ctx, sc, opts, r.cfg)
	r.topo = t // before anything starts, so that a concurrent Down sees it
	r.mu.Unlock()

	if err := t.up(ctx); err != nil {
		if derr := r.Down(context.WithoutCancel(ctx)); derr != nil {
			err = errors.Join(err, fmt.Errorf("and cleaning up after it: %w", derr))
		}
		return nil, fmt.Errorf("docker runtime: %w", err)
	}
	return t, nil
}

// Down removes every container and the network of the run (found by its
// label, so also what a failed Up created half-way), after fetching the
// routers' last samples and the containers' logs. It is idempotent, safe for
// concurrent use, and bounded by its own timeout.
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
