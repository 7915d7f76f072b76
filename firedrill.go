// Package firedrill is the library face of the tool: Run rehearses a
// scenario and returns its result, exactly as `firedrill run` does, so a team
// can run a rehearsal inside `go test` and assert on the result. The run
// itself lives in package rehearsal, its checks in verdict, its databases in
// stateful (docs/architecture.md has the map).
package firedrill

import (
	"context"
	"fmt"
	"slices"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/rehearsal"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/simulator"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/docker"
	"github.com/firedrill/firedrill/topology/local"
)

// Result is what a run found; result.json is its JSON form.
type Result = reports.Result

// Options tune a run. The zero value is usable.
type Options struct {
	// Runtime overrides the scenario's runtime ("local" or "docker").
	Runtime string
	// Seed overrides the scenario's seed when SeedSet.
	Seed    int64
	SeedSet bool
	// OutDir is the run's output directory. Default: OutRoot/<scenario>-<UTC timestamp>.
	OutDir string
	// OutRoot is where run directories are created (default "out").
	OutRoot string
	// Formats of the reports written besides result.json (default: all).
	Formats []string
	// Binary is the firedrill executable serving the built-in fixtures
	// (default: the running executable).
	Binary string
	// OnEvent is called for every event as it happens (progress output).
	OnEvent func(record.Event)
	// OnHealthy is called as each instance becomes healthy while the topology comes up.
	OnHealthy func(service, instance string, done, total int)
	// Recorder, when set, receives the run's samples, so a caller can look at
	// every request afterwards.
	Recorder *record.Recorder
	// Runtimes lets callers supply a runtime (tests, embedding); keyed by name.
	Runtimes map[string]topology.Runtime
	// Desk, when set, brings live decisions on the rollout's gates and
	// alerts (simulator.Desk.Decide), e.g. from a test.
	Desk *simulator.Desk
	// Control serves live decisions on a control endpoint on 127.0.0.1
	// while the rollout runs, and acknowledgements of faults (package
	// rehearsal/control; `firedrill approve RUN`, `firedrill ack RUN`).
	Control bool
	// Listen serves the run's Prometheus metrics on this loopback address
	// (e.g. 127.0.0.1:9464) while it runs (package observe).
	Listen string
}

// Run rehearses sc. It always returns a result when it got as far as
// creating the run directory (also when interrupted or failing), and an
// error that ExitCode maps to the CLI's exit code.
func Run(ctx context.Context, sc *scenarios.Scenario, opts Options) (*Result, error) {
	runtimeName := sc.Runtime
	if opts.Runtime != "" {
		runtimeName = opts.Runtime
	}
	if runtimeName != sc.Runtime && slices.Contains(scenarios.Runtimes, runtimeName) {
		// Validate against the runtime that will run it: some kinds of
		// service and fault exist on one runtime only. (A runtime given in
		// Options.Runtimes is the caller's: the file is validated as is.)
		cp := *sc
		cp.Runtime = runtimeName
		sc = &cp
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	if runtimeName == "" {
		runtimeName = "local"
	}
	seed := sc.Seed
	if opts.SeedSet && seed != opts.Seed {
		// One seed drives every random choice of the run: the routers'
		// draws and every fixture instance's read it from the scenario.
		seed = opts.Seed
		cp := *sc
		cp.Seed = seed
		sc = &cp
	}
	rt, err := pickRuntime(runtimeName, opts)
	if err != nil {
		return nil, err
	}
	return rehearsal.Run(ctx, rehearsal.Config{
		Scenario: sc, Runtime: rt, RuntimeName: runtimeName, Seed: seed,
		OutDir: opts.OutDir, OutRoot: opts.OutRoot, Formats: opts.Formats, Binary: opts.Binary,
		OnEvent: opts.OnEvent, OnHealthy: opts.OnHealthy, Recorder: opts.Recorder, Desk: opts.Desk, Control: opts.Control,
		Listen: opts.Listen,
	})
}

func pickRuntime(name string, opts Options) (topology.Runtime, error) {
	if rt, ok := opts.Runtimes[name]; ok {
		return rt, nil
	}
	switch name {
	case "local":
		return local.New(), nil
	case "docker":
		return docker.NewWithConfig(docker.Config{Spec: func(s *scenarios.Service) docker.ContainerSpec {
			return docker.ContainerSpec{Port: s.Port, Entrypoint: s.Entrypoint, StartupExec: s.Health.Exec, StartupLog: s.Health.Log}
		}}), nil
	}
	return nil, &InfraError{Err: fmt.Errorf("runtime %q is not available in this build; use --runtime local or --runtime docker", name)}
}
