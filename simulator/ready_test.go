package simulator

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// notReadyErr is what a live fleet returns for an instance that was not
// ready by the deploy's deadline (cluster.NotReadyError's shape).
type notReadyErr struct{ inst, last string }

func (e *notReadyErr) Error() string { return "instance " + e.inst + " not ready: " + e.last }
func (e *notReadyErr) NotReadyInstance() (string, string) {
	return e.inst, e.last
}

// stuckFleet is the model whose new version never becomes ready: its
// Deploy waits until the deploy's context ends, as the cluster's does.
type stuckFleet struct {
	*model
	deadline atomic.Bool // the deploy ended by its deadline, not a cancel
}

func (f *stuckFleet) Deploy(ctx context.Context, svc, version string, n int, env map[string]string, args []string) error {
	if version == "v1" {
		return f.model.Deploy(ctx, svc, version, n, env, args)
	}
	<-ctx.Done()
	f.deadline.Store(ctx.Err() == context.DeadlineExceeded)
	return fmt.Errorf("deploy %s: %w", version, &notReadyErr{inst: "checkout-" + version + "-0", last: "GET /healthz: status 503"})
}

func phased() *scenarios.Rollout {
	ro := canary("auto")
	ro.Strategy, ro.Phased = scenarios.StrategyPhased, &scenarios.Phased{Header: scenarios.DefaultCohortHeader}
	return ro
}

func everyStrategy() map[string]*scenarios.Rollout {
	return map[string]*scenarios.Rollout{
		scenarios.StrategyCanary:    canary("auto"),
		scenarios.StrategyPhased:    phased(),
		scenarios.StrategyBlueGreen: blueGreen(scenarios.PreviewMirror),
		scenarios.StrategyRolling:   rolling(1, 0),
	}
}

// A new version that never becomes ready is rolled back with trigger
// not_ready, whatever the strategy, and no request ever reaches it.
func TestNotReadyRollsBackEveryStrategy(t *testing.T) {
	for name, ro := range everyStrategy() {
		t.Run(name, func(t *testing.T) {
			m := newModel(0, 50*time.Millisecond)
			f := &stuckFleet{model: m}
			clock := NewStepClock(t0)
			m.now = clock.Now
			log := record.NewLog(nil)
			c := &Controller{Clock: clock, Fleet: f, Router: m, Observer: m, Events: log, Rollout: ro, From: "v1",
				FromReplicas: m.instances["v1"], Start: t0, ReadyTimeout: 20 * time.Millisecond}
			out, err := c.Run(context.Background())
			require.NoError(t, err)
			assert.True(t, f.deadline.Load(), "the deploy was ended by the readiness bound")
			assert.Equal(t, RolledBack, out.Result)
			assert.Equal(t, TriggerNotReady, out.Trigger)
			assert.True(t, out.RegressionAt.IsZero(), "no request reached the new version")
			for _, op := range m.ops {
				assert.NotContains(t, op, "v2=", "the new version never got weight: %v", m.ops)
			}
			e := find(t, log, record.EvTriggerFired)
			assert.Equal(t, "checkout-v2-0", e.Fields["instance"])
			assert.Equal(t, "GET /healthz: status 503", e.Fields["last_health"])
			assert.Contains(t, e.Message, "checkout-v2-0")
			assert.Contains(t, e.Message, "status 503")
			assert.Equal(t, 1, kinds(log)[record.EvRollbackCompleted])
		})
	}
}

// Without a bound (the virtual-time model's deploys are instant) a failed
// deploy is deploy_failed, as before.
func TestDeployErrorWithoutBoundIsDeployFailed(t *testing.T) {
	m := newModel(0, 0)
	m.deployErr = &notReadyErr{inst: "x", last: "y"}
	out, _ := runModel(t, m, canary("auto"))
	assert.Equal(t, TriggerDeployFailed, out.Trigger)
}

// stopClock is a StepClock whose time stops once the test ends the run:
// the controller then only sees its context end.
type stopClock struct {
	*StepClock
	stopped atomic.Bool
}

func (c *stopClock) After(d time.Duration) <-chan time.Time {
	if c.stopped.Load() {
		return nil
	}
	return c.StepClock.After(d)
}

// cutRouter ends the run (traffic is over) once the new version holds
// traffic, as the end of a too-short traffic duration would.
type cutRouter struct {
	*model
	clock  *stopClock
	cancel context.CancelFunc
}

func (r *cutRouter) SetWeights(ctx context.Context, svc string, w map[string]int) error {
	err := r.model.SetWeights(ctx, svc, w)
	if w["v2"] > 0 {
		r.clock.stopped.Store(true)
		r.cancel()
	}
	return err
}

// A rollout cut short while the new version holds traffic ends
// "unfinished", with an event saying what it still held; never "none".
func TestCutShortRolloutIsUnfinished(t *testing.T) {
	for name, ro := range everyStrategy() {
		t.Run(name, func(t *testing.T) {
			m := newModel(0, 50*time.Millisecond)
			if name == scenarios.StrategyRolling {
				m.instances["v1"] = 3
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			clock := &stopClock{StepClock: NewStepClock(t0)}
			m.now = clock.Now
			log := record.NewLog(nil)
			rt := &cutRouter{model: m, clock: clock, cancel: cancel}
			c := &Controller{Clock: clock, Fleet: m, Router: rt, Observer: m, Events: log, Rollout: ro, From: "v1",
				FromReplicas: m.instances["v1"], Start: t0}
			out, err := c.Run(ctx)
			require.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, Unfinished, out.Result)
			e := find(t, log, EvUnfinished)
			assert.Positive(t, e.Fields["weight"], "it says how much traffic the new version held")
			assert.Contains(t, e.Message, "v2 still held")
		})
	}
}

// Cut short before the new version was up: nothing of it is left, so the
// outcome is none.
func TestCutBeforeDeployIsNone(t *testing.T) {
	m := newModel(0, 0)
	f := &stuckFleet{model: m}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	clock := NewStepClock(t0)
	m.now = clock.Now
	c := &Controller{Clock: clock, Fleet: f, Router: m, Observer: m, Rollout: canary("auto"), From: "v1", Start: t0,
		ReadyTimeout: time.Minute}
	out, err := c.Run(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, None, out.Result)
}

// A promotion detected, decided and restored nothing: those timings are
// absent (null in events and result.json), never 0 ("instant").
func TestAbsentTimingsAreNull(t *testing.T) {
	m := newModel(0.001, 50*time.Millisecond)
	out, log := runModel(t, m, canary("auto"))
	require.Equal(t, Promoted, out.Result)
	tm := out.Timings()
	assert.NotContains(t, tm, "time_to_detect_s")
	assert.NotContains(t, tm, "time_to_decide_s")
	assert.NotContains(t, tm, "time_to_restore_s")
	assert.Equal(t, 20.0, tm["time_to_complete_s"], "two 10 s steps from the first exposure")
	e := find(t, log, record.EvPromoted)
	assert.Contains(t, e.Fields, "time_to_detect_s")
	assert.Nil(t, e.Fields["time_to_detect_s"])
}
