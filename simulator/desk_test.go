package simulator

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// holdClock is a StepClock that stops at hold: every After that would
// pass it blocks (reached is closed) until release is closed, so that a
// test can hand the controller live decisions at a known point of the
// rollout. A held After then fires without moving time; the controller
// looks again and asks anew.
type holdClock struct {
	*StepClock
	hold     time.Time
	once     sync.Once
	reached  chan struct{}
	released chan struct{}
}

func newHoldClock(hold time.Duration) *holdClock {
	return &holdClock{StepClock: NewStepClock(t0), hold: t0.Add(hold), reached: make(chan struct{}), released: make(chan struct{})}
}

func (c *holdClock) After(d time.Duration) <-chan time.Time {
	select {
	case <-c.released:
		return c.StepClock.After(d)
	default:
	}
	if !c.Now().Add(d).After(c.hold) {
		return c.StepClock.After(d)
	}
	c.once.Do(func() { close(c.reached) })
	ch := make(chan time.Time, 1)
	go func() {
		<-c.released
		ch <- c.Now()
	}()
	return ch
}

// runLive runs ro on m with a desk; decide is called once the clock is held.
func runLive(t *testing.T, m *model, ro *scenarios.Rollout, hold time.Duration, decide func(*Desk)) (*Outcome, *record.Log) {
	t.Helper()
	clock := newHoldClock(hold)
	m.now = clock.Now
	log := record.NewLog(nil)
	desk := NewDesk()
	c := &Controller{Clock: clock, Fleet: m, Router: m, Observer: m, Events: log, Rollout: ro, From: "v1",
		FromReplicas: m.instances["v1"], Start: t0, Desk: desk}
	type result struct {
		out *Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := c.Run(context.Background())
		done <- result{out, err}
	}()
	select {
	case <-clock.reached:
	case <-time.After(10 * time.Second):
		t.Fatal("the controller never reached the held instant")
	}
	decide(desk)
	close(clock.released)
	select {
	case r := <-done:
		require.NoError(t, r.err)
		return r.out, log
	case <-time.After(10 * time.Second):
		t.Fatal("the controller did not finish after the decision")
	}
	return nil, nil
}

func decideOK(t *testing.T, action string) func(*Desk) {
	return func(d *Desk) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, d.Decide(ctx, action, "live test"))
	}
}

// A live approval beats the scheduled reject of a one-hour gate.
func TestLiveApprovalOpensGate(t *testing.T) {
	ro := canary("auto")
	ro.Steps[0].Gate = &scenarios.Decision{After: scenarios.Duration(time.Hour), Action: scenarios.ActionReject}
	out, log := runLive(t, newModel(0, 50*time.Millisecond), ro, 20*time.Second, decideOK(t, scenarios.ActionApprove))
	assert.Equal(t, Promoted, out.Result)
	e := find(t, log, EvGateApproved)
	assert.Equal(t, "live test", e.Fields["by"])
	assert.Less(t, out.CompletedAt.Sub(t0), time.Hour, "the gate did not wait for its schedule")
	assert.Zero(t, kinds(log)[EvGateRejected])
}

// A live reject of an open gate rolls back.
func TestLiveRejectRollsBack(t *testing.T) {
	ro := canary("auto")
	ro.Steps[0].Gate = &scenarios.Decision{After: scenarios.Duration(time.Hour), Action: scenarios.ActionApprove}
	out, log := runLive(t, newModel(0, 50*time.Millisecond), ro, 20*time.Second, decideOK(t, scenarios.ActionReject))
	assert.Equal(t, RolledBack, out.Result)
	assert.Equal(t, TriggerGateRejected, out.Trigger)
	assert.Contains(t, find(t, log, EvGateRejected).Message, "live test")
}

// rollback: manual with nobody scheduled: the alert waits for a human, and
// a live rollback decision rolls back.
func TestLiveRollbackOnAlert(t *testing.T) {
	out, log := runLive(t, newModel(0.3, 50*time.Millisecond), canary("manual"), 12*time.Second, decideOK(t, scenarios.ActionRollback))
	require.Equal(t, RolledBack, out.Result)
	e := find(t, log, EvDecision)
	assert.Equal(t, "live test", e.Fields["by"])
	assert.Equal(t, scenarios.ActionRollback, e.Fields["action"])
	assert.False(t, out.DecidedAt.Before(out.DetectedAt))
}

// Nothing waits: the decision is refused and the rollout goes on.
func TestLiveDecisionWithNothingWaiting(t *testing.T) {
	out, _ := runLive(t, newModel(0, 50*time.Millisecond), canary("auto"), 8*time.Second, func(d *Desk) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := d.Decide(ctx, scenarios.ActionApprove, "live test")
		assert.True(t, errors.Is(err, ErrNothingToDecide), "%v", err)
		assert.ErrorContains(t, err, "no gate is open")
		err = d.Decide(ctx, scenarios.ActionRollback, "live test")
		assert.ErrorContains(t, err, "no alert is raised")
		assert.ErrorContains(t, d.Decide(ctx, "promote", "x"), `unknown decision "promote"`)
	})
	assert.Equal(t, Promoted, out.Result)
}
