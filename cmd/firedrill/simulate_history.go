package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/firedrill/firedrill/history"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/simulator/model"
)

// recordSimulation stores a simulated plan in the history, marked as a
// simulation (never evidence, never in the live figures). Simulate never
// fails because of it: a store that cannot be reached is a warning.
func recordSimulation(ctx context.Context, spec string, s *model.Summary, sc *scenarios.Scenario, outDir string, started, ended time.Time, out io.Writer) {
	if spec == "" {
		spec = os.Getenv(history.EnvHistory)
	}
	if spec == history.Off || s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	warn := func(err error) {
		fmt.Fprintf(os.Stderr, "firedrill: warning: the simulation of %s is not in the history: %v\n", s.Scenario, err)
	}
	st, err := history.Open(ctx, spec)
	if err != nil {
		warn(err)
		return
	}
	defer st.Close()
	r := simulationRun(s, sc, history.ProvenanceOf(ctx, s.File), started, ended)
	if outDir != "" {
		if abs, err := filepath.Abs(outDir); err == nil {
			r.OutDir = abs
		}
	}
	r.ToolVersion = version()
	id, err := st.Record(ctx, r)
	if err != nil {
		warn(err)
		return
	}
	fmt.Fprintf(out, "history  simulation #%d of %s in %s\n", id, s.Scenario, st.Where())
}

// simulationRun is the record of a simulated plan: the trials' ratios,
// the median detection and rollback times, and each expectation's pass
// share (Passed only when every trial passed it).
func simulationRun(s *model.Summary, sc *scenarios.Scenario, p history.Provenance, started, ended time.Time) history.Run {
	r := history.Run{
		Kind: history.KindSimulation, Verdict: history.Simulated, Runtime: "simulate",
		Scenario: s.Scenario, ScenarioFile: s.File, FileHash: p.FileHash, Commit: p.Commit, Branch: p.Branch,
		Seed: int64(s.Seed), Trials: int64(s.Trials), StartedAt: started, EndedAt: ended,
	}
	if ro := sc.Rollout; ro != nil {
		r.Version = ro.To
		if svc := sc.Service(ro.Service); svc != nil {
			r.FromVersion = svc.Version
		}
	}
	if x, ok := s.Ratios[model.RolledBack]; ok && x.N > 0 {
		r.RollbackRatio = &x.Ratio
	}
	if x, ok := s.Ratios["detected"]; ok && x.N > 0 {
		r.DetectRatio = &x.Ratio
	}
	if s.DetectS.N > 0 {
		r.DetectS = &s.DetectS.P50
	}
	if s.RollbackS.N > 0 {
		r.RollbackS = &s.RollbackS.P50
	}
	r.Expectations = []history.Expectation{}
	for _, e := range s.Expectations {
		v := e.Ratio.Ratio
		r.Expectations = append(r.Expectations, history.Expectation{
			Name: e.Name, Kind: e.Kind, Passed: e.N > 0 && e.X == e.N, Value: &v, Unit: "ratio",
			Observed: fmt.Sprintf("passed in %d of %d trials (95%% CI %.1f–%.1f%%)", e.X, e.N, 100*e.CI95[0], 100*e.CI95[1]),
		})
	}
	return r
}
