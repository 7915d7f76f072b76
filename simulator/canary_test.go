package simulator

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

func TestCanaryRollsBackOnErrors(t *testing.T) {
	m := newModel(0.3, 50*time.Millisecond)
	out, log := runModel(t, m, canary("auto"))
	assert.Equal(t, RolledBack, out.Result)
	assert.Equal(t, TriggerAnalysis, out.Trigger)
	assert.Equal(t, map[string]int{"v1": 100}, latest(m.weights, out.CompletedAt), "traffic back on the old version")
	assert.Equal(t, []string{"deploy v2 1", "weights v1=90,v2=10", "weights v1=100", "retire v2"}, m.ops)
	// 10 rps reach the canary; 20 requests (min_requests) need 2 s of
	// window, and two failed looks in a row are required: detection at
	// 3 s after the regression reached traffic (looks at 1 s, 2 s, 3 s).
	assert.Equal(t, 3*time.Second, out.DetectedAt.Sub(out.RegressionAt))
	require.Len(t, out.Steps, 1)
	assert.Equal(t, "failed", out.Steps[0].Result)
	k := kinds(log)
	assert.Equal(t, 1, k[record.EvTriggerFired])
	assert.Equal(t, 1, k[record.EvRollbackCompleted])
	assert.Zero(t, k[record.EvPromoted])

	// The blast radius is what v2 served from regression to restore: ~30%
	// of 10 rps for 3 s (the model's draws give the exact count).
	want := stats(m.Samples(Query{Version: "v2", From: out.RegressionAt, To: out.TrafficRestoredAt.Add(time.Nanosecond)}))
	assert.Equal(t, want.Errors, out.BadRequests)
	assert.InDelta(t, 9, out.BadRequests, 6)
	done := find(t, log, record.EvRollbackCompleted)
	assert.Equal(t, out.BadRequests, done.Fields["bad_requests"])
	assert.Equal(t, 3.0, done.Fields["time_to_detect_s"])
	assert.Equal(t, 3.0, done.Fields["time_to_restore_s"])
}

func TestCanaryRollsBackOnLatency(t *testing.T) {
	m := newModel(0, 900*time.Millisecond)
	out, _ := runModel(t, m, canary("auto"))
	assert.Equal(t, RolledBack, out.Result)
}

func TestHealthyCanaryIsPromoted(t *testing.T) {
	m := newModel(0.01, 60*time.Millisecond)
	out, log := runModel(t, m, canary("auto"))
	assert.Equal(t, Promoted, out.Result)
	assert.Equal(t, map[string]int{"v2": 100}, latest(m.weights, out.CompletedAt))
	assert.Equal(t, "retire v1", m.ops[len(m.ops)-1])
	require.Len(t, out.Steps, 2)
	// 5 s start + 10 s + 10 s of steps.
	assert.Equal(t, 25*time.Second, out.CompletedAt.Sub(t0))
	_, ok := log.Find(record.EvPromoted, "checkout", time.Time{})
	assert.True(t, ok)
}

// The sequential judge needs no thresholds: it compares v2 with v1 at
// every look and stops at the first rejection. 10% errors against 0.1%
// are rejected within a few looks at 10 canary requests per second.
func TestSequentialJudgeCatchesErrorIncrease(t *testing.T) {
	m := newModel(0.10, 50*time.Millisecond)
	ro := canary("auto")
	ro.Analysis.Judge, ro.Analysis.MaxErrorRate, ro.Analysis.MaxP99 = scenarios.JudgeSequential, 0, 0
	out, log := runModel(t, m, ro)
	require.Equal(t, RolledBack, out.Result)
	assert.Less(t, out.DetectedAt.Sub(out.RegressionAt), 10*time.Second, "caught in the first step")
	var last record.Event
	for _, e := range log.Events() {
		if e.Kind == record.EvAnalysis {
			last = e
		}
	}
	assert.Equal(t, "fail", last.Fields["verdict"])
	p := last.Fields["p_value"].(float64)
	assert.LessOrEqual(t, p, 0.05)
	// Always-valid p is 1/Λ: the evidence is consistent.
	assert.InEpsilon(t, 1/p, last.Fields["lambda"].(float64), 0.01)
	canaryCounts := last.Fields["canary"].(map[string]any)
	assert.Positive(t, canaryCounts["errors"])
}

// An A/A canary (the same error rate in both versions) is promoted by the
// sequential judge; its p-value never falls to alpha.
func TestSequentialJudgePromotesEqualVersions(t *testing.T) {
	m := newModel(0.01, 50*time.Millisecond)
	m.errRate["v1"] = 0.01
	ro := canary("auto")
	ro.Analysis.Judge, ro.Analysis.MaxErrorRate, ro.Analysis.MaxP99 = scenarios.JudgeSequential, 0, 0
	out, log := runModel(t, m, ro)
	assert.Equal(t, Promoted, out.Result)
	looks := 0
	for _, e := range log.Events() {
		if e.Kind == record.EvAnalysis {
			looks++
			assert.Greater(t, e.Fields["p_value"].(float64), 0.05)
		}
	}
	assert.Equal(t, 20, looks, "one look per second over two 10 s steps")
}

// The statistical judge is a fixed-horizon test: it looks once, at the end
// of the step, over the whole step.
func TestStatisticalJudgeAtEndOfStep(t *testing.T) {
	m := newModel(0.10, 50*time.Millisecond)
	ro := canary("auto")
	ro.Analysis.Judge, ro.Analysis.MaxErrorRate, ro.Analysis.MaxP99 = scenarios.JudgeStatistical, 0, 0
	out, log := runModel(t, m, ro)
	require.Equal(t, RolledBack, out.Result)
	assert.Equal(t, 10*time.Second, out.DetectedAt.Sub(out.RegressionAt), "judged at the end of step 1")
	e := find(t, log, record.EvAnalysis)
	assert.Equal(t, "fail", e.Fields["verdict"])
	ms := e.Fields["metrics"].([]map[string]any)
	require.Len(t, ms, 2)
	assert.Equal(t, "high", ms[0]["class"])
	assert.Contains(t, e.Message, "critical metric high: error rate")
}

func TestManualRollbackOnlyAlerts(t *testing.T) {
	m := newModel(0.3, 50*time.Millisecond)
	out, log := runModel(t, m, canary("manual"))
	assert.Equal(t, Promoted, out.Result, "manual mode waits for a human; none came")
	assert.Equal(t, 1, kinds(log)[EvAlert], "told once")
}

// rollback: manual with a scheduled decision: the alert holds the rollout
// until the decision, which rolls back; time to decide is the schedule.
func TestManualDecisionRollsBack(t *testing.T) {
	m := newModel(0.3, 50*time.Millisecond)
	ro := canary("manual")
	ro.Decision = &scenarios.Decision{After: scenarios.Duration(4 * time.Second), Action: scenarios.ActionRollback}
	out, log := runModel(t, m, ro)
	require.Equal(t, RolledBack, out.Result)
	assert.Equal(t, 4*time.Second, out.DecidedAt.Sub(out.DetectedAt))
	assert.Equal(t, 4.0, out.Timings()["time_to_decide_s"])
	assert.Equal(t, 1, kinds(log)[EvAlert])
	assert.Equal(t, 1, kinds(log)[EvDecision])
	assert.True(t, out.RollbackStartedAt.Equal(out.DecidedAt))
}

// A decision due after the last step still comes: the alert holds the
// rollout at its last step.
func TestManualDecisionHoldsPromotion(t *testing.T) {
	m := newModel(0.3, 50*time.Millisecond)
	ro := canary("manual")
	ro.Steps = ro.Steps[:1]
	ro.Decision = &scenarios.Decision{After: scenarios.Duration(30 * time.Second), Action: scenarios.ActionRollback}
	out, _ := runModel(t, m, ro)
	require.Equal(t, RolledBack, out.Result)
	assert.Greater(t, out.DecidedAt.Sub(t0), 15*time.Second, "decided after the step's end")
}

func TestManualDecisionIgnore(t *testing.T) {
	m := newModel(0.3, 50*time.Millisecond)
	ro := canary("manual")
	ro.Decision = &scenarios.Decision{After: scenarios.Duration(2 * time.Second), Action: scenarios.ActionIgnore}
	out, log := runModel(t, m, ro)
	assert.Equal(t, Promoted, out.Result)
	assert.Equal(t, 1, kinds(log)[EvDecision])
	assert.Equal(t, 1, kinds(log)[EvAlert])
}

func TestGates(t *testing.T) {
	m := newModel(0, 50*time.Millisecond)
	ro := canary("auto")
	ro.Steps[0].Gate = &scenarios.Decision{After: scenarios.Duration(3 * time.Second), Action: scenarios.ActionApprove}
	out, log := runModel(t, m, ro)
	assert.Equal(t, Promoted, out.Result)
	assert.Equal(t, 28*time.Second, out.CompletedAt.Sub(t0), "5 s start + 10 s + 3 s gate + 10 s")
	assert.Equal(t, 1, kinds(log)[EvGateApproved])

	m = newModel(0, 50*time.Millisecond)
	ro = canary("auto")
	ro.Steps[1].Gate = &scenarios.Decision{After: scenarios.Duration(time.Second), Action: scenarios.ActionReject}
	out, log = runModel(t, m, ro)
	assert.Equal(t, RolledBack, out.Result)
	assert.Equal(t, TriggerGateRejected, out.Trigger)
	assert.Equal(t, 1, kinds(log)[EvGateRejected])
	assert.Equal(t, "retire v2", m.ops[len(m.ops)-1])
}

// A failing new version's first trigger turns its flag off instead of
// rolling back; the errors stop, the evidence starts afresh and the
// rollout is promoted. The flag turned off earlier than a rollback would
// have completed, so fewer bad requests were served.
func TestMitigationByFeatureFlag(t *testing.T) {
	m := newModel(0.3, 50*time.Millisecond)
	m.offRate["v2"] = 0.001
	ro := canary("auto")
	ro.Mitigation = &scenarios.Mitigation{Flag: "bad"}
	out, log := runModel(t, m, ro)
	require.Equal(t, Promoted, out.Result)
	assert.Equal(t, "bad", out.Mitigation)
	assert.Contains(t, m.ops, "flag v2 bad false")
	assert.Equal(t, 3*time.Second, out.MitigatedAt.Sub(out.RegressionAt))
	assert.Equal(t, 3.0, out.Timings()["time_to_restore_s"])
	e := find(t, log, EvFlagFlipped)
	assert.Equal(t, "bad", e.Fields["flag"])
	assert.Equal(t, TriggerAnalysis, e.Fields["trigger"])

	// A flag that does not help: the second trigger rolls back.
	m = newModel(0.3, 50*time.Millisecond)
	m.offRate["v2"] = 0.3
	out, _ = runModel(t, m, ro)
	assert.Equal(t, RolledBack, out.Result)
	assert.Equal(t, "bad", out.Mitigation)
	assert.True(t, out.RollbackStartedAt.After(out.MitigatedAt))
}

func TestHealthTrigger(t *testing.T) {
	m := newModel(0, 50*time.Millisecond)
	log := record.NewLog(nil)
	// An old-version failure and another service's are not the release's.
	log.Add(record.Event{At: t0.Add(7 * time.Second), Kind: record.EvInstanceUnhealthy, Service: "checkout", Target: "checkout-v1-0",
		Fields: map[string]any{"version": "v1"}})
	log.Add(record.Event{At: t0.Add(7 * time.Second), Kind: EvInstanceEjected, Service: "payments", Target: "payments-v2-0",
		Fields: map[string]any{"version": "v2"}})
	log.Add(record.Event{At: t0.Add(8500 * time.Millisecond), Kind: EvInstanceEjected, Service: "checkout", Target: "checkout-v2-0",
		Fields: map[string]any{"version": "v2"}, Message: "5 consecutive errors"})
	out, _, err := runModelErr(m, canary("auto"), log)
	require.NoError(t, err)
	assert.Equal(t, RolledBack, out.Result)
	assert.Equal(t, TriggerHealth, out.Trigger)
	assert.Equal(t, t0.Add(9*time.Second), out.DetectedAt, "the first look after the ejection")
}

func TestBurnRateTrigger(t *testing.T) {
	m := newModel(0.5, 50*time.Millisecond)
	ro := canary("auto")
	ro.Analysis.MaxErrorRate, ro.Analysis.MaxP99 = 0, 0 // no guardrails: only the burn can fire
	ro.Triggers = &scenarios.Triggers{BurnRate: &scenarios.BurnRate{Objective: 0.99, Window: scenarios.Duration(4 * time.Second)}}
	out, log := runModel(t, m, ro)
	require.Equal(t, RolledBack, out.Result)
	assert.Equal(t, TriggerBurnRate, out.Trigger)
	// 10% of traffic at 50% errors burns a 1% budget 5x: only the 6x rule
	// over 24 s / 2 s could not fire; at 50% weight it burns 25x, above
	// 14.4x over 4 s and 1/3 s.
	assert.Equal(t, 2, out.Steps[len(out.Steps)-1].Index)
	e := find(t, log, record.EvTriggerFired)
	assert.Equal(t, 14.4, e.Fields["factor"])
	assert.GreaterOrEqual(t, e.Fields["short_burn"].(float64), 14.4)
}

func TestFailedDeployRollsBack(t *testing.T) {
	m := newModel(0, 0)
	m.deployErr = assert.AnError
	out, _ := runModel(t, m, canary("auto"))
	assert.Equal(t, RolledBack, out.Result)
	assert.Equal(t, TriggerDeployFailed, out.Trigger)
	assert.True(t, out.RegressionAt.IsZero(), "no traffic ever reached the new version")
	assert.Equal(t, []string{"weights v1=100"}, m.ops, "nothing to retire: the fleet discarded the failed instances")
}

func TestCancelledRunStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := newModel(0, 0)
	m.now = time.Now
	c := &Controller{Clock: RealClock{}, Fleet: m, Router: m, Observer: m, Rollout: canary("auto"), From: "v1", Start: time.Now()}
	out, err := c.Run(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, None, out.Result)
}
