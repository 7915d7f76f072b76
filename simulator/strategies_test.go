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

func blueGreen(preview string) *scenarios.Rollout {
	ro := canary("auto")
	ro.Strategy, ro.Steps, ro.Replicas = scenarios.StrategyBlueGreen, nil, 2
	ro.Analysis.Judge = scenarios.JudgeSequential
	ro.BlueGreen = &scenarios.BlueGreen{Preview: preview, MirrorPercent: 100, SyntheticRate: 20,
		PreviewFor: scenarios.Duration(8 * time.Second), ScaleDownDelay: scenarios.Duration(6 * time.Second)}
	return ro
}

// A regression caught on mirrored traffic never reaches a user: the
// preview is retired and no request was served by it.
func TestBlueGreenPreviewCatchesRegression(t *testing.T) {
	m := newModel(0.3, 50*time.Millisecond)
	out, log := runModel(t, m, blueGreen(scenarios.PreviewMirror))
	require.Equal(t, RolledBack, out.Result)
	assert.Equal(t, TriggerAnalysis, out.Trigger)
	assert.Equal(t, []string{"deploy v2 2", "mirror v2 100", "mirror v2 0", "retire v2"}, m.ops, "never switched")
	assert.Zero(t, out.BadRequests, "users were never served by the preview")
	assert.Zero(t, out.NewRequests)
	assert.Equal(t, t0.Add(5*time.Second), out.RegressionAt, "exposed to mirrored traffic from the preview's start")
	assert.Less(t, out.DetectedAt.Sub(out.RegressionAt), 8*time.Second)
	e := find(t, log, record.EvAnalysis)
	assert.Equal(t, true, e.Fields["preview"])
	assert.Nil(t, out.Switch)
}

func TestBlueGreenHealthyIsPromoted(t *testing.T) {
	for _, preview := range []string{scenarios.PreviewMirror, scenarios.PreviewNone} {
		t.Run(preview, func(t *testing.T) {
			m := newModel(0.001, 50*time.Millisecond)
			out, log := runModel(t, m, blueGreen(preview))
			require.Equal(t, Promoted, out.Result)
			want := []string{"deploy v2 2", "mirror v2 100", "mirror v2 0", "weights v2=100", "retire v1"}
			wait := 8 * time.Second
			if preview == scenarios.PreviewNone {
				want, wait = []string{"deploy v2 2", "weights v2=100", "retire v1"}, 0
			}
			assert.Equal(t, want, m.ops)
			// start 5 s + preview + the old stack kept 6 s after the switch.
			assert.Equal(t, 5*time.Second+wait+6*time.Second, out.CompletedAt.Sub(t0))
			require.NotNil(t, out.Switch)
			assert.Equal(t, t0.Add(5*time.Second+wait), out.Switch.At)
			// The model's requests last 50 ms, one every 10 ms: those sent
			// 10, 20, 30 and 40 ms before the switch were in flight.
			assert.Equal(t, 4, out.Switch.InFlight)
			assert.Zero(t, out.Switch.Failed)
			assert.Equal(t, 100, out.Switch.NewFirstSecond)
			assert.Equal(t, 1, kinds(log)[EvSwitchImpact])
		})
	}
}

// After the switch the old stack is still up: a failure switches back.
func TestBlueGreenSwitchesBack(t *testing.T) {
	m := newModel(0.3, 50*time.Millisecond)
	ro := blueGreen(scenarios.PreviewNone) // nothing judged before the switch
	out, _ := runModel(t, m, ro)
	require.Equal(t, RolledBack, out.Result)
	assert.Equal(t, []string{"deploy v2 2", "weights v2=100", "weights v1=100", "retire v2"}, m.ops)
	assert.Positive(t, out.BadRequests, "users saw the regression between switch and switch back")
	assert.Equal(t, out.TrafficRestoredAt.Sub(out.RegressionAt), out.DetectedAt.Sub(out.RegressionAt),
		"switching back restores traffic at once")
}

func rolling(surge, unavail int) *scenarios.Rollout {
	ro := canary("auto")
	ro.Strategy, ro.Steps, ro.Replicas = scenarios.StrategyRolling, nil, 3
	ro.Rolling = &scenarios.Rolling{MaxSurge: surge, MaxUnavailable: unavail, Pause: scenarios.Duration(4 * time.Second)}
	return ro
}

func TestRollingHealthyIsPromoted(t *testing.T) {
	m := newModel(0, 50*time.Millisecond)
	m.instances["v1"] = 3
	m.maxTotal, m.minTotal = 3, 3
	out, _ := runModel(t, m, rolling(1, 0))
	require.Equal(t, Promoted, out.Result)
	assert.Equal(t, []string{
		"deploy v2 1", "weights v1=67,v2=33", "retire v1 1",
		"deploy v2 1", "weights v1=33,v2=67", "retire v1 1",
		"deploy v2 1", "weights v1=0,v2=100", "retire v1 1",
		"weights v2=100",
	}, m.ops)
	assert.Equal(t, 4, m.maxTotal, "never more than replicas + max_surge")
	assert.Equal(t, 3, m.minTotal, "never fewer than replicas - max_unavailable")
	require.Len(t, out.Steps, 3)
	assert.Equal(t, []int{33, 67, 100}, []int{out.Steps[0].Weight, out.Steps[1].Weight, out.Steps[2].Weight})
}

func TestRollingMaxUnavailable(t *testing.T) {
	m := newModel(0, 50*time.Millisecond)
	m.instances["v1"] = 3
	m.maxTotal, m.minTotal = 3, 3
	out, _ := runModel(t, m, rolling(0, 1))
	require.Equal(t, Promoted, out.Result)
	assert.Equal(t, 3, m.maxTotal, "no surge")
	assert.Equal(t, 2, m.minTotal, "one instance short at most")
	assert.Equal(t, []string{"weights v1=100,v2=0", "retire v1 1", "deploy v2 1"}, m.ops[:3],
		"traffic leaves the instance before it is retired, then its replacement starts")
}

// A regression in the first batch rolls back by rolling back: old
// instances return (ready first), new ones go, within the same limits.
func TestRollingRollsBack(t *testing.T) {
	m := newModel(0.3, 50*time.Millisecond)
	m.instances["v1"] = 3
	m.maxTotal, m.minTotal = 3, 3
	out, log := runModel(t, m, rolling(1, 0))
	require.Equal(t, RolledBack, out.Result)
	assert.Equal(t, []string{
		"deploy v2 1", "weights v1=67,v2=33", "retire v1 1",
		// The rollback: one v1 back (ready first), then v2 out.
		"deploy v1 1", "weights v1=100,v2=0", "retire v2 1",
	}, m.ops)
	assert.Equal(t, 3, m.instances["v1"])
	assert.Zero(t, m.instances["v2"])
	assert.LessOrEqual(t, m.maxTotal, 4)
	assert.GreaterOrEqual(t, m.minTotal, 3)
	assert.False(t, out.TrafficRestoredAt.IsZero())
	assert.Equal(t, 1, kinds(log)[EvTrafficRestore])
}

func TestPhasedRoutesByCohort(t *testing.T) {
	m := newModel(0, 50*time.Millisecond)
	ro := canary("auto")
	ro.Strategy = scenarios.StrategyPhased
	ro.Phased = &scenarios.Phased{Header: "X-User"}
	out, _ := runModel(t, m, ro)
	require.Equal(t, Promoted, out.Result)
	require.NotNil(t, m.cohorts)
	assert.Equal(t, Cohorts{Header: "X-User", Order: []string{"v1", "v2"}}, *m.cohorts)
	assert.Equal(t, "cohorts X-User [v1 v2]", m.ops[1], "cohorts before any weight reaches v2")
}

// A world without a capability the strategy needs says so before anything
// happens.
func TestMissingCapability(t *testing.T) {
	m := newModel(0, 0)
	bare := struct {
		Fleet
		Router
	}{m, m}
	for _, tc := range []struct {
		ro   *scenarios.Rollout
		want string
	}{
		{rolling(1, 0), "strategy rolling needs instance scaling"},
		{blueGreen(scenarios.PreviewMirror), "needs request mirroring"},
		{blueGreen(scenarios.PreviewSynthetic), "needs synthetic preview traffic"},
		{func() *scenarios.Rollout {
			ro := canary("auto")
			ro.Strategy = scenarios.StrategyPhased
			return ro
		}(), "needs cohort routing"},
		{func() *scenarios.Rollout {
			ro := canary("auto")
			ro.Mitigation = &scenarios.Mitigation{Flag: "x"}
			return ro
		}(), "with mitigation needs feature flags"},
	} {
		c := &Controller{Clock: NewStepClock(t0), Fleet: bare.Fleet, Router: bare.Router, Observer: m, Rollout: tc.ro, From: "v1", Start: t0}
		c.Fleet = struct{ Fleet }{m}
		c.Router = struct{ Router }{m}
		out, err := c.Run(context.Background())
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
		assert.Equal(t, None, out.Result)
		assert.Empty(t, m.ops, "nothing started")
	}
}

// A gate holds the switch, with or without a preview.
func TestBlueGreenGate(t *testing.T) {
	m := newModel(0.001, 50*time.Millisecond)
	ro := blueGreen(scenarios.PreviewNone)
	ro.BlueGreen.Gate = &scenarios.Decision{After: scenarios.Duration(3 * time.Second), Action: scenarios.ActionApprove}
	out, log := runModel(t, m, ro)
	require.Equal(t, Promoted, out.Result)
	assert.Equal(t, t0.Add(8*time.Second), out.Switch.At, "5 s start + 3 s gate")
	assert.Equal(t, 1, kinds(log)[EvGateApproved])

	m = newModel(0.001, 50*time.Millisecond)
	ro = blueGreen(scenarios.PreviewMirror)
	ro.BlueGreen.Gate = &scenarios.Decision{After: scenarios.Duration(time.Second), Action: scenarios.ActionReject}
	out, _ = runModel(t, m, ro)
	require.Equal(t, RolledBack, out.Result)
	assert.Equal(t, TriggerGateRejected, out.Trigger)
	assert.Nil(t, out.Switch, "never switched")
}
