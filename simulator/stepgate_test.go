package simulator

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
)

// A step gate that fails with a GateError rolls back under its own
// trigger, its fields on the trigger event; the gate after the last step
// holds the promotion (index len(steps)+1).
func TestStepGateNamesItsTrigger(t *testing.T) {
	run := func(gate func(ctx context.Context, index int) error) (*Outcome, *record.Log, *model) {
		m := newModel(0.01, 60*time.Millisecond)
		clock := NewStepClock(t0)
		m.now = clock.Now
		log := record.NewLog(nil)
		c := &Controller{Clock: clock, Fleet: m, Router: m, Observer: m, Events: log, Rollout: canary("auto"), From: "v1",
			FromReplicas: m.instances["v1"], Start: t0, BeforeStep: gate}
		out, err := c.Run(context.Background())
		require.NoError(t, err)
		return out, log, m
	}

	var asked []int
	out, _, _ := run(func(_ context.Context, index int) error { asked = append(asked, index); return nil })
	assert.Equal(t, Promoted, out.Result)
	assert.Equal(t, []int{1, 2, 3}, asked, "before each of the 2 steps, and before the promotion")

	out, log, m := run(func(_ context.Context, index int) error {
		if index < 3 {
			return nil
		}
		return &GateError{Trigger: "journey", Fields: map[string]any{"journey": "checkout", "success_ratio": 0.8},
			Err: fmt.Errorf("journey checkout succeeded 80%% < 99%% in step %d", index-1)}
	})
	assert.Equal(t, RolledBack, out.Result)
	assert.Equal(t, "journey", out.Trigger)
	fired := find(t, log, record.EvTriggerFired)
	assert.Equal(t, "journey checkout succeeded 80% < 99% in step 2", fired.Message)
	assert.Equal(t, "checkout", fired.Fields["journey"])
	assert.Equal(t, 3, fired.Fields["step"])
	assert.Equal(t, "retire v2", m.ops[len(m.ops)-1])
	require.Len(t, out.Steps, 2)
	assert.Equal(t, "passed", out.Steps[1].Result, "the step ran its course; its gate held the promotion")

	out, _, _ = run(func(_ context.Context, index int) error {
		if index == 2 {
			return errors.New("replication lag 9s > 1s")
		}
		return nil
	})
	assert.Equal(t, TriggerStepGate, out.Trigger, "a plain error keeps step_gate")
}
