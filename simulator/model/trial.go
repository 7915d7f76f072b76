package model

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/simulator"
)

// Outcomes of a trial ("aborted": traffic ended before the rollout did).
const (
	Promoted   = simulator.Promoted
	RolledBack = simulator.RolledBack
	Aborted    = "aborted"
)

// Trial is one simulated rollout.
type Trial struct {
	Outcome string
	Trigger string
	// Detected: a trigger fired; DetectS and RollbackS count from the
	// regression (the new version's first request) to the first trigger
	// and to the rollback's completion (RolledBack only).
	Detected  bool
	DetectS   float64
	RollbackS float64
	// BadRequests are the failed requests the new version served to
	// callers (the blast radius); NewRequests all it served.
	BadRequests, NewRequests int
	// EntryRequests and EntryErrors are the clients' requests over the run.
	EntryRequests, EntryErrors int
	// Expect: each expectation's pass (nil entries: not simulated).
	Expect []*bool
}

// t0 is time zero of every trial (any instant would do: nothing reads the
// wall clock).
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// RunTrial simulates one rollout of top with seed, with the live run's
// controller. ctx ending stops it with ctx's error.
func RunTrial(ctx context.Context, top *Topology, seed uint64) (Trial, error) {
	w := NewWorld(top, seed, t0)
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w.clock.cancel = cancel
	c := &simulator.Controller{Clock: w.clock, Fleet: w, Router: w, Observer: w, Events: w.Events(),
		Rollout: top.Scenario.Rollout, From: top.From, FromReplicas: top.FromReplicas, Start: t0, OnStep: w.OnStep}
	out, err := c.Run(tctx)
	if err != nil && ctx.Err() != nil {
		return Trial{}, ctx.Err()
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return Trial{}, fmt.Errorf("simulated rollout of %s: %w", top.Service, err)
	}
	w.fill(int((top.Duration + bucket - 1) / bucket)) // the rest of the traffic
	tr := Trial{Outcome: out.Result, Trigger: out.Trigger, BadRequests: out.BadRequests, NewRequests: out.NewRequests}
	if tr.Outcome == simulator.None || tr.Outcome == simulator.Unfinished { // cut short by the end of traffic
		tr.Outcome = Aborted
		if !out.RegressionAt.IsZero() { // the new version kept serving until traffic ended
			s := w.Stats(simulator.Query{Service: top.Service, Version: top.To, From: out.RegressionAt, To: w.clock.end}, false)
			tr.BadRequests, tr.NewRequests = s.Errors, s.Requests
		}
	}
	if !out.DetectedAt.IsZero() && !out.RegressionAt.IsZero() {
		tr.Detected = true
		tr.DetectS = out.DetectedAt.Sub(out.RegressionAt).Seconds()
	}
	if tr.Outcome == RolledBack && !out.RegressionAt.IsZero() {
		tr.RollbackS = out.CompletedAt.Sub(out.RegressionAt).Seconds()
	}
	last := len(w.entReq) - 1
	tr.EntryRequests, tr.EntryErrors = int(w.entReq[last]), int(w.entErr[last])
	tr.Expect = w.expectations(out)
	return tr, nil
}

// expectations judges the expectations the model can: the rollout's
// outcome, the rollback's speed, availability. Others stay nil.
func (w *World) expectations(out *simulator.Outcome) []*bool {
	es := w.top.Scenario.Expectations
	res := make([]*bool, len(es))
	for i, e := range es {
		if e == nil {
			continue
		}
		var ok bool
		switch e.Kind {
		case scenarios.ExpectRolloutOutcome:
			ok = out.Result == e.Outcome
		case scenarios.ExpectRollbackWithin:
			ok = out.Result == simulator.RolledBack &&
				(out.RegressionAt.IsZero() || out.CompletedAt.Sub(out.RegressionAt) <= e.Within.D())
		case scenarios.ExpectAvailability:
			from, to := w.span(t0.Add(e.From.D()), t0.Add(windowEnd(e.To.D(), w.top.Duration)))
			n, f := w.entReq[to]-w.entReq[from], w.entErr[to]-w.entErr[from]
			ok = n > 0 && 1-float64(f)/float64(n) >= e.Min
		default:
			continue
		}
		res[i] = &ok
	}
	return res
}

func windowEnd(to, run time.Duration) time.Duration {
	if to <= 0 || to > run {
		return run
	}
	return to
}
