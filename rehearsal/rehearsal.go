// Package rehearsal is one live run of a scenario, in order: databases and
// topology up -> traffic -> rollout controller and faults -> checks ->
// result, with one cleanup path for the end of the run, a failed step,
// Ctrl-C and SIGTERM. It computes no verdict itself: it gathers the
// evidence (result.go) and the verdict package judges it.
package rehearsal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/firedrill/firedrill/faults"
	"github.com/firedrill/firedrill/observe"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/simulator"
	"github.com/firedrill/firedrill/stateful"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/traffic"
)

// Config is one run. The caller has validated Scenario for RuntimeName.
type Config struct {
	Scenario *scenarios.Scenario
	// Runtime runs the topology; RuntimeName is its name in the result.
	Runtime     topology.Runtime
	RuntimeName string
	Seed        int64
	// OutDir is the run's output directory. Default: OutRoot/<scenario>-<UTC
	// timestamp>, OutRoot defaulting to "out".
	OutDir, OutRoot string
	// Formats of the reports written besides result.json (default: all).
	Formats []string
	// Binary is the firedrill executable serving the built-in fixtures
	// (default: the running executable).
	Binary string
	// OnEvent is called for every event as it happens (progress output).
	OnEvent func(record.Event)
	// OnHealthy is called as each instance becomes healthy while the topology comes up.
	OnHealthy func(service, instance string, done, total int)
	// Recorder receives the run's samples (default: a new one).
	Recorder *record.Recorder
	// Desk brings live decisions on the rollout's gates and alerts; Control
	// serves them on the control endpoint (control.go).
	Desk    *simulator.Desk
	Control bool
	// Listen, when set, serves the run's Prometheus metrics on this
	// loopback address while it runs (observe.go).
	Listen string
}

// rehearsal is the state of one run; each file adds one stage of it.
type rehearsal struct {
	cfg    Config
	sc     *scenarios.Scenario
	events *record.Log
	rec    *record.Recorder
	res    *reports.Result
	dir    string
	runID  string

	t0      time.Time // traffic start: time zero of windows and faults
	topo    topology.Topology
	db      *stateful.Run // databases, ledger
	outcome *simulator.Outcome
	faults  []faults.Outcome
	stats   traffic.Stats
	machine *reports.MachineLoad // the machine's CPU while traffic ran (machine.go)

	metrics    *observe.Metrics // nil without Config.Listen (observe.go)
	metricsSrv *observe.Server
	journeyRun *traffic.Journeys // nil without journeys (journeys.go)
	// abortReason says why abort_if stopped the drill ("" if it did not).
	abortReason string
}

// Run rehearses cfg.Scenario. It returns a result once the run directory
// and its events.jsonl exist (also when interrupted or failing), and an
// *InfraError, a wrapped ErrInterrupted, scenarios.Errors when the runtime
// lacks a capability the rollout needs (invalid input, found once the
// topology is up), or nil.
func Run(ctx context.Context, cfg Config) (*reports.Result, error) {
	sc := cfg.Scenario
	started := time.Now().UTC()
	runID := newRunID()
	dir := cfg.OutDir
	if dir == "" {
		root := cfg.OutRoot
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
	if cfg.OnEvent != nil {
		events.Subscribe(cfg.OnEvent)
	}
	rec := cfg.Recorder
	if rec == nil {
		rec = record.NewRecorder(started)
	}
	res := &reports.Result{
		SchemaVersion: reports.SchemaVersion, Scenario: sc.Name, ScenarioFile: sc.File, Description: sc.Description,
		Runtime: cfg.RuntimeName, Seed: cfg.Seed, RunID: runID, StartedAt: started, OutDir: dir,
		Rollout: reports.Rollout{Outcome: reports.None},
	}
	events.Add(record.Event{Kind: record.EvRunStarted, Message: fmt.Sprintf("run %s of %s on %s", runID, sc.Name, cfg.RuntimeName),
		Fields: map[string]any{"run_id": runID, "seed": cfg.Seed}})

	r := &rehearsal{cfg: cfg, sc: sc, events: events, rec: rec, res: res, dir: dir, runID: runID,
		db: stateful.New(stateful.Config{Scenario: sc, RunID: runID, Dir: dir, Containers: cfg.RuntimeName == "docker", Events: events})}
	runErr := r.startObserve() // observe.go
	if runErr == nil {
		runErr = r.live(ctx)
	}
	defer r.stopObserve()
	return res, r.end(ctx, runErr)
}

// end is the one way out: stop the topology, mark an interrupted run, fill
// and write the result.
func (r *rehearsal) end(ctx context.Context, runErr error) error {
	// Stop everything before writing: the result should tell the whole story.
	downCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	if err := r.cfg.Runtime.Down(downCtx); err != nil && runErr == nil {
		runErr = &InfraError{fmt.Errorf("stop topology: %w", err)}
	}
	cancel()
	if ctx.Err() != nil {
		r.res.Interrupted = true
		if !errors.Is(runErr, ErrInterrupted) {
			runErr = fmt.Errorf("%w: %v", ErrInterrupted, context.Cause(ctx))
		}
		r.events.Add(record.Event{Kind: record.EvInterrupted, Message: "interrupted: faults reverted, topology stopped"})
	}
	r.finish(runErr) // result.go
	if err := r.write(); err != nil && runErr == nil {
		runErr = &InfraError{err}
	}
	return runErr
}

// live runs the rehearsal proper; the databases are gone when it returns.
func (r *rehearsal) live(ctx context.Context) error {
	defer r.db.Close()
	if err := r.up(ctx); err != nil {
		return err
	}
	desk, stop := r.serveDecisions() // control.go
	defer stop()

	r.t0 = time.Now()
	r.rec.SetStart(r.t0)
	if err := r.db.Begin(ctx, r.t0); err != nil {
		return &InfraError{err}
	}
	tr := r.sc.Traffic
	gen, err := traffic.Start(ctx, traffic.Config{
		URL: r.topo.EntryURL(), Service: tr.Entry, Paths: tr.Paths, Method: tr.Method, Rate: tr.Rate,
		Duration: tr.Duration.D(), Timeout: tr.Timeout.D(), Warmup: tr.Warmup.D(),
		Dial: entryDial(r.topo),
	}, r.rec)
	if err != nil {
		return &InfraError{fmt.Errorf("start traffic: %w", err)}
	}
	r.events.Add(record.Event{At: r.t0, Kind: record.EvTrafficStarted,
		Message: fmt.Sprintf("%.0f rps to %s for %s", tr.Rate, tr.Entry, tr.Duration)})
	stopLiveAlerts := r.startLiveAlerts(ctx) // observe.go: alerts as the run goes

	r.startJourneys(ctx)                // journeys.go
	rolloutErr := r.act(ctx, gen, desk) // act.go
	stopLiveAlerts()
	r.waitJourneys()
	r.db.Finish(ctx)
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %v", ErrInterrupted, context.Cause(ctx))
	}
	if rolloutErr != nil && !errors.Is(rolloutErr, context.Canceled) {
		return &InfraError{fmt.Errorf("rollout: %w", rolloutErr)}
	}
	return nil
}

// entryDial is how the generator reaches the entry router: in memory when
// the topology runs it in this process (topology.EntryDialer), else nil (TCP).
func entryDial(t topology.Topology) func(ctx context.Context) (net.Conn, error) {
	if d, ok := t.(topology.EntryDialer); ok {
		return d.EntryDial()
	}
	return nil
}

// up starts the databases, then the topology, and checks that the runtime
// can do what the rollout needs.
func (r *rehearsal) up(ctx context.Context) error {
	binary := r.cfg.Binary
	if binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return &InfraError{fmt.Errorf("find the firedrill executable for fixtures: %w", err)}
		}
		binary = exe
	}
	if err := r.db.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w while the databases started (%v)", ErrInterrupted, err)
		}
		return &InfraError{err}
	}
	topo, err := r.cfg.Runtime.Up(ctx, r.sc, topology.Options{
		RunID: r.runID, RunDir: r.dir, Binary: binary, Events: r.events, Recorder: r.rec, Progress: r.cfg.OnHealthy,
		DatabaseAddr: r.db.DatabaseAddr,
	})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w while the topology came up", ErrInterrupted)
		}
		return &InfraError{fmt.Errorf("bring the topology up: %w", err)}
	}
	r.topo = topo
	r.events.Add(record.Event{Kind: record.EvTopologyUp, Message: fmt.Sprintf("%d services healthy", len(r.sc.Services))})
	return checkCapabilities(r.sc, topo, r.res.Runtime) // rollout.go
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
