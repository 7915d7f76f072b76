// Package firedrill is the library face of the tool: Run rehearses a
// scenario and returns its result, exactly as `firedrill run` does, so a team
// can run a rehearsal inside `go test` and assert on the result.
package firedrill

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/firedrill/firedrill/faults"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/simulator"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/docker"
	"github.com/firedrill/firedrill/topology/local"
	"github.com/firedrill/firedrill/traffic"
)

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
	// while the rollout runs (control.go; `firedrill approve RUN`).
	Control bool
}

// EvControl announces the control endpoint of a run with a rollout.
const EvControl = "control_endpoint"

// Run rehearses sc. It always returns a result when it got as far as
// creating the run directory (also when interrupted or failing), and an
// error that ExitCode maps to the CLI's exit code.
func Run(ctx context.Context, sc *scenarios.Scenario, opts Options) (*reports.Result, error) {
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
	if opts.SeedSet {
		seed = opts.Seed
	}
	rt, err := pickRuntime(runtimeName, opts)
	if err != nil {
		return nil, err
	}

	started := time.Now().UTC()
	runID := newRunID()
	dir := opts.OutDir
	if dir == "" {
		root := opts.OutRoot
		if root == "" {
			root = "out"
		}
		dir = filepath.Join(root, fmt.Sprintf("%s-%s", safeName(sc.Name), started.Format("20060102T150405Z")))
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return nil, &InfraError{fmt.Errorf("create run directory: %w", err)}
	}
	evFile, err := os.Create(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		return nil, &InfraError{fmt.Errorf("create events.jsonl: %w", err)}
	}
	defer evFile.Close()
	events := record.NewLog(evFile)
	if opts.OnEvent != nil {
		events.Subscribe(opts.OnEvent)
	}
	rec := opts.Recorder
	if rec == nil {
		rec = record.NewRecorder(started)
	}
	res := &reports.Result{
		SchemaVersion: reports.SchemaVersion, Scenario: sc.Name, ScenarioFile: sc.File, Description: sc.Description,
		Runtime: runtimeName, Seed: seed, RunID: runID, StartedAt: started, OutDir: dir,
		Rollout: reports.Rollout{Outcome: reports.None},
	}
	events.Add(record.Event{Kind: record.EvRunStarted, Message: fmt.Sprintf("run %s of %s on %s", runID, sc.Name, runtimeName),
		Fields: map[string]any{"run_id": runID, "seed": seed}})

	r := &runner{sc: sc, opts: opts, rt: rt, events: events, rec: rec, res: res, dir: dir, runID: runID, seed: seed}
	runErr := r.run(ctx)

	// Stop everything before writing: the result should tell the whole story.
	downCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	if err := rt.Down(downCtx); err != nil && runErr == nil {
		runErr = &InfraError{fmt.Errorf("stop topology: %w", err)}
	}
	cancel()
	if ctx.Err() != nil {
		res.Interrupted = true
		if !errors.Is(runErr, ErrInterrupted) {
			runErr = fmt.Errorf("%w: %v", ErrInterrupted, context.Cause(ctx))
		}
		events.Add(record.Event{Kind: record.EvInterrupted, Message: "interrupted: faults reverted, topology stopped"})
	}
	r.finish(runErr)
	if err := r.write(); err != nil && runErr == nil {
		runErr = &InfraError{err}
	}
	return res, runErr
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
	return nil, &InfraError{fmt.Errorf("runtime %q is not available in this build; use --runtime local or --runtime docker", name)}
}

type runner struct {
	sc     *scenarios.Scenario
	opts   Options
	rt     topology.Runtime
	events *record.Log
	rec    *record.Recorder
	res    *reports.Result
	dir    string
	runID  string
	seed   int64

	t0      time.Time // traffic start: time zero of windows and faults
	topo    topology.Topology
	outcome *simulator.Outcome
	faults  []faults.Outcome
	stats   traffic.Stats
	db      *statefulRun // databases, ledger (stateful.go)
}

func (r *runner) run(ctx context.Context) error {
	binary := r.opts.Binary
	if binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return &InfraError{fmt.Errorf("find the firedrill executable for fixtures: %w", err)}
		}
		binary = exe
	}
	defer r.stopDatabases() // stateful.go
	if err := r.startDatabases(ctx); err != nil {
		return err
	}
	topo, err := r.rt.Up(ctx, r.sc, topology.Options{
		RunID: r.runID, RunDir: r.dir, Binary: binary, Events: r.events, Recorder: r.rec, Progress: r.opts.OnHealthy,
		DatabaseAddr: r.databaseAddr,
	})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w while the topology came up", ErrInterrupted)
		}
		return &InfraError{fmt.Errorf("bring the topology up: %w", err)}
	}
	r.topo = topo
	r.events.Add(record.Event{Kind: record.EvTopologyUp, Message: fmt.Sprintf("%d services healthy", len(r.sc.Services))})
	if err := checkCapabilities(r.sc, topo, r.res.Runtime); err != nil { // rollout.go
		return err
	}

	// Live decisions (control.go) are served from before traffic starts.
	desk := r.opts.Desk
	if r.sc.Rollout != nil && r.opts.Control {
		if desk == nil {
			desk = simulator.NewDesk()
		}
		stop, err := startControl(desk, ControlInfo{RunID: r.runID, Scenario: r.sc.Name, OutDir: r.dir, Started: time.Now().UTC()})
		if err != nil {
			// The scheduled decisions still hold: the rehearsal goes on.
			r.events.Add(record.Event{Kind: EvControl, Message: "no live decisions in this run: " + err.Error(),
				Fields: map[string]any{"run_id": r.runID, "error": err.Error()}})
		} else {
			defer stop()
			r.events.Add(record.Event{Kind: EvControl, Message: fmt.Sprintf("live decisions: firedrill approve|reject|decide %s", r.runID),
				Fields: map[string]any{"run_id": r.runID}})
		}
	}

	tr := r.sc.Traffic
	r.t0 = time.Now()
	r.rec.SetStart(r.t0)
	if err := r.startStateful(ctx); err != nil { // stateful.go
		return err
	}
	gen, err := traffic.Start(ctx, traffic.Config{
		URL: topo.EntryURL(), Service: tr.Entry, Paths: tr.Paths, Method: tr.Method, Rate: tr.Rate,
		Duration: tr.Duration.D(), Timeout: tr.Timeout.D(), Warmup: tr.Warmup.D(),
	}, r.rec)
	if err != nil {
		return &InfraError{fmt.Errorf("start traffic: %w", err)}
	}
	r.events.Add(record.Event{At: r.t0, Kind: record.EvTrafficStarted,
		Message: fmt.Sprintf("%.0f rps to %s for %s", tr.Rate, tr.Entry, tr.Duration)})

	// Rollout and faults run while traffic flows; both end when it does.
	actCtx, stopActs := context.WithCancel(ctx)
	defer stopActs()
	steps := faults.NewSteps()
	var wg sync.WaitGroup
	var rolloutErr error
	if ro := r.sc.Rollout; ro != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer steps.Over()
			c := r.newController(topo, func(i, _ int, at time.Time) { steps.Started(i, at) }) // rollout.go
			c.Desk = desk
			r.outcome, rolloutErr = c.Run(actCtx)
		}()
	} else {
		steps.Over()
	}
	if len(r.sc.Faults) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			env := faults.Env{
				Toxiproxy: toxiclient.NewClient(topo.ToxiproxyURL()), ProxyName: topo.ProxyName,
				Instances: topo.Instances,
				DefaultVersion: func(s string) string {
					if svc := r.sc.Service(s); svc != nil {
						return svc.Version
					}
					return ""
				},
			}
			r.faults = faults.Run(actCtx, r.t0, r.sc.Faults, env, steps, r.events)
		}()
	}
	r.stats = gen.Wait()
	r.events.Add(record.Event{Kind: record.EvTrafficStopped,
		Message: fmt.Sprintf("%d requests sent, %d errors", r.stats.Sent, r.stats.Errors)})
	stopActs()
	wg.Wait()
	r.finishStateful(ctx) // stateful.go
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %v", ErrInterrupted, context.Cause(ctx))
	}
	if rolloutErr != nil && !errors.Is(rolloutErr, context.Canceled) {
		return &InfraError{fmt.Errorf("rollout: %w", rolloutErr)}
	}
	return nil
}

func newRunID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '-'
	}, s)
	if s == "" {
		return "scenario"
	}
	return s
}
