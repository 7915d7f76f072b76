package docker

import (
	"context"
	"time"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/cluster"
)

// Event kinds the docker runtime adds to record's set.
const (
	EvImageBuild          = "image_build" // building a static binary or the image
	EvImageReady          = "image_ready"
	EvInstancePartitioned = "instance_partitioned"
	EvInstanceReconnected = "instance_reconnected"
	EvReaperLost          = "reaper_lost"
	EvEventsLost          = "docker_events_lost"
)

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
// One Runtime runs one topology at a time. Up checks that every image is
// present before anything is created; Down removes every container and the
// network of the run by its label.
type Runtime = cluster.Runtime

// New returns a docker runtime with the default configuration.
func New() *Runtime { return NewWithConfig(Config{}) }

// NewWithConfig returns a docker runtime configured by cfg.
func NewWithConfig(cfg Config) *Runtime {
	return cluster.NewRuntime(cluster.Config{
		Name: "docker runtime", StartTimeout: DefaultStartTimeout, DownTimeout: 60 * time.Second,
		Leftovers: "run `firedrill clean` to remove what is left of run %s",
	}, func(life context.Context, sc *scenarios.Scenario, opts topology.Options) cluster.Launcher {
		return newRun(life, sc, opts, cfg)
	})
}
