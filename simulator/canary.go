package simulator

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// Outcomes of a rollout.
const (
	Promoted   = "promoted"
	RolledBack = "rolled_back"
	None       = "none"
)

// Outcome is what the controller did and when.
type Outcome struct {
	Result  string
	Trigger string
	// Zero times mean "did not happen".
	StartedAt         time.Time
	RegressionAt      time.Time // the new version first received traffic
	DetectedAt        time.Time // the trigger fired
	RollbackStartedAt time.Time
	TrafficRestoredAt time.Time // weights back on the old version
	CompletedAt       time.Time // rollback: new instances stopped; promotion: old ones
	Steps             []StepRecord
}

// StepRecord is one step as it happened.
type StepRecord struct {
	Index   int // 1-based
	Weight  int
	Started time.Time
	Ended   time.Time
	Result  string // passed | failed | interrupted
}

// Controller runs one canary rollout.
type Controller struct {
	Clock    Clock
	Fleet    Fleet
	Router   Router
	Observer Observer
	Events   *record.Log // may be nil

	Rollout *scenarios.Rollout
	From    string    // the version serving before the rollout
	Start   time.Time // time zero: Rollout.StartAt counts from here

	// OnStep, when set, is called as each step starts (index from 1).
	OnStep func(index, weight int, at time.Time)
}

// Run executes the rollout until it is promoted, rolled back or ctx ends.
// An ended ctx returns the outcome so far and ctx's error.
func (c *Controller) Run(ctx context.Context) (*Outcome, error) {
	ro := c.Rollout
	out := &Outcome{Result: None}
	if err := c.sleepUntil(ctx, c.Start.Add(ro.StartAt.D())); err != nil {
		return out, err
	}
	out.StartedAt = c.Clock.Now()
	c.event(record.Event{At: out.StartedAt, Kind: record.EvRolloutStarted, Service: ro.Service,
		Message: fmt.Sprintf("canary %s: %s -> %s", ro.Service, c.From, ro.To),
		Fields:  map[string]any{"from": c.From, "to": ro.To, "strategy": ro.Strategy}})

	if err := c.Fleet.Deploy(ctx, ro.Service, ro.To, ro.Replicas, ro.Env, ro.Args); err != nil {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		out.DetectedAt = c.Clock.Now()
		return out, c.rollback(ctx, out, "deploy_failed", fmt.Sprintf("new version %s did not become healthy: %v", ro.To, err))
	}

	for i, st := range ro.Steps {
		rec := StepRecord{Index: i + 1, Weight: st.Weight, Started: c.Clock.Now()}
		if err := c.Router.SetWeights(ctx, ro.Service, c.weights(st.Weight)); err != nil {
			return out, fmt.Errorf("step %d: set weights: %w", i+1, err)
		}
		if st.Weight > 0 && out.RegressionAt.IsZero() {
			out.RegressionAt = rec.Started
		}
		c.event(record.Event{At: rec.Started, Kind: record.EvStepStarted, Service: ro.Service,
			Message: fmt.Sprintf("step %d: %d%% to %s", i+1, st.Weight, ro.To),
			Fields:  map[string]any{"step": i + 1, "weight": st.Weight}})
		if c.OnStep != nil {
			c.OnStep(i+1, st.Weight, rec.Started)
		}
		failed, why, err := c.watch(ctx, i+1, st, out)
		rec.Ended = c.Clock.Now()
		switch {
		case err != nil:
			rec.Result = "interrupted"
			out.Steps = append(out.Steps, rec)
			return out, err
		case failed:
			rec.Result = "failed"
			out.Steps = append(out.Steps, rec)
			return out, c.rollback(ctx, out, "analysis", why)
		}
		rec.Result = "passed"
		out.Steps = append(out.Steps, rec)
	}
	return out, c.promote(ctx, out)
}

// watch runs the step's analysis every interval until the pause is over. It
// returns failed=true when the rollback must fire.
func (c *Controller) watch(ctx context.Context, step int, st *scenarios.Step, out *Outcome) (bool, string, error) {
	a := c.Rollout.Analysis
	if st.Analysis != nil {
		a = *st.Analysis
	}
	interval := a.Interval.D()
	if interval <= 0 {
		interval = time.Second
	}
	end := c.Clock.Now().Add(st.Pause.D())
	fails := 0
	for {
		now := c.Clock.Now()
		if !now.Before(end) {
			return false, "", nil
		}
		wait := interval
		if rest := end.Sub(now); rest < wait {
			wait = rest
		}
		select {
		case <-ctx.Done():
			return false, "", ctx.Err()
		case <-c.Clock.After(wait):
		}
		if st.Weight == 0 || out.RegressionAt.IsZero() {
			continue // nothing reaches the canary: nothing to judge
		}
		ok, why, judged := c.look(step, a, out.RegressionAt)
		if !judged {
			continue
		}
		if ok {
			fails = 0
			continue
		}
		fails++
		need := a.Failures
		if need < 1 {
			need = 1
		}
		if fails < need {
			continue
		}
		out.DetectedAt = c.Clock.Now()
		if c.Rollout.Rollback == "manual" {
			// A game day practises the human decision: raise the alert and
			// keep going; the rollback waits for someone to make it.
			c.event(record.Event{Kind: "alert", Service: c.Rollout.Service, Message: why,
				Fields: map[string]any{"step": step, "rollback": "manual"}})
			fails = 0
			continue
		}
		return true, why, nil
	}
}

// look judges the canary's recent window against the step's thresholds.
func (c *Controller) look(step int, a scenarios.Analysis, since time.Time) (ok bool, why string, judged bool) {
	now := c.Clock.Now()
	window := a.Window.D()
	if window <= 0 {
		window = 5 * time.Second
	}
	from := now.Add(-window)
	if from.Before(since) {
		from = since
	}
	ws := c.Observer.Window(c.Rollout.Service, c.Rollout.To, from, now)
	minReq := a.MinRequests
	if minReq <= 0 {
		minReq = 1
	}
	fields := map[string]any{"step": step, "requests": ws.Requests, "errors": ws.Errors,
		"error_rate": round4(ws.ErrorRate()), "p99_ms": float64(ws.P99.Microseconds()) / 1000,
		"window_s": now.Sub(from).Seconds()}
	if ws.Requests < minReq {
		return true, "", false
	}
	var reasons []string
	if a.MaxErrorRate > 0 && ws.ErrorRate() > a.MaxErrorRate {
		reasons = append(reasons, fmt.Sprintf("error rate %.1f%% > %.1f%% (%d/%d requests)",
			100*ws.ErrorRate(), 100*a.MaxErrorRate, ws.Errors, ws.Requests))
	}
	if a.MaxP99 > 0 && ws.P99 > a.MaxP99.D() {
		reasons = append(reasons, fmt.Sprintf("p99 %s > %s", ws.P99.Round(time.Millisecond), a.MaxP99.D()))
	}
	verdict := "pass"
	if len(reasons) > 0 {
		verdict = "fail"
		why = fmt.Sprintf("canary %s %s: %s", c.Rollout.Service, c.Rollout.To, strings.Join(reasons, "; "))
	}
	fields["verdict"] = verdict
	c.event(record.Event{At: now, Kind: record.EvAnalysis, Service: c.Rollout.Service, Message: why, Fields: fields})
	return len(reasons) == 0, why, true
}

func (c *Controller) rollback(ctx context.Context, out *Outcome, trigger, why string) error {
	ro := c.Rollout
	out.Trigger = trigger
	c.event(record.Event{At: out.DetectedAt, Kind: record.EvTriggerFired, Service: ro.Service, Message: why,
		Fields: map[string]any{"trigger": trigger}})
	out.RollbackStartedAt = c.Clock.Now()
	c.event(record.Event{At: out.RollbackStartedAt, Kind: record.EvRollbackStarted, Service: ro.Service,
		Message: fmt.Sprintf("rolling %s back to %s", ro.Service, c.From)})
	// The rollback must finish even if the run is being interrupted: a
	// half-rolled-back service is the worst state to leave.
	rctx := context.WithoutCancel(ctx)
	if err := c.Router.SetWeights(rctx, ro.Service, map[string]int{c.From: 100}); err != nil {
		return fmt.Errorf("rollback: restore weights: %w", err)
	}
	out.TrafficRestoredAt = c.Clock.Now()
	if err := c.Fleet.Retire(rctx, ro.Service, ro.To); err != nil {
		return fmt.Errorf("rollback: retire %s: %w", ro.To, err)
	}
	out.CompletedAt = c.Clock.Now()
	out.Result = RolledBack
	c.event(record.Event{At: out.CompletedAt, Kind: record.EvRollbackCompleted, Service: ro.Service,
		Message: fmt.Sprintf("%s serves only %s again", ro.Service, c.From),
		Fields: map[string]any{
			"trigger":                trigger,
			"time_to_detect_s":       secondsSince(out.RegressionAt, out.DetectedAt),
			"time_to_restore_s":      secondsSince(out.RegressionAt, out.TrafficRestoredAt),
			"time_to_complete_s":     secondsSince(out.RegressionAt, out.CompletedAt),
			"decision_to_complete_s": out.CompletedAt.Sub(out.DetectedAt).Seconds(),
		}})
	return nil
}

func (c *Controller) promote(ctx context.Context, out *Outcome) error {
	ro := c.Rollout
	if err := c.Router.SetWeights(ctx, ro.Service, map[string]int{ro.To: 100}); err != nil {
		return fmt.Errorf("promote: %w", err)
	}
	if err := c.Fleet.Retire(ctx, ro.Service, c.From); err != nil {
		return fmt.Errorf("promote: retire %s: %w", c.From, err)
	}
	out.CompletedAt = c.Clock.Now()
	out.Result = Promoted
	c.event(record.Event{At: out.CompletedAt, Kind: record.EvPromoted, Service: ro.Service,
		Message: fmt.Sprintf("%s promoted to %s", ro.Service, ro.To)})
	return nil
}

func (c *Controller) weights(canary int) map[string]int {
	return map[string]int{c.From: 100 - canary, c.Rollout.To: canary}
}

func (c *Controller) sleepUntil(ctx context.Context, t time.Time) error {
	d := t.Sub(c.Clock.Now())
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.Clock.After(d):
		return nil
	}
}

func (c *Controller) event(e record.Event) {
	if c.Events != nil {
		if e.At.IsZero() {
			e.At = c.Clock.Now()
		}
		c.Events.Add(e)
	}
}

func secondsSince(from, to time.Time) float64 {
	if from.IsZero() || to.IsZero() {
		return 0
	}
	return round4(to.Sub(from).Seconds())
}

func round4(f float64) float64 { return math.Round(f*10000) / 10000 }
