package simulator

import (
	"context"
	"errors"
	"maps"
)

// TriggerStepGate is the trigger of a rollback because a check that must
// pass before a step (Controller.BeforeStep, e.g. a replication-lag gate)
// did not.
const TriggerStepGate = "step_gate"

// GateError is a BeforeStep failure that names its own trigger (e.g.
// "journey", with the journey and its ratio in Fields) instead of
// step_gate.
type GateError struct {
	Trigger string
	Fields  map[string]any
	Err     error
}

func (e *GateError) Error() string { return e.Err.Error() }
func (e *GateError) Unwrap() error { return e.Err }

// stepGate runs Controller.BeforeStep before step index; index
// len(Steps)+1 is the promotion after the last step. done reports that
// the rollout is over: the gate failed and the rollback ran (err is the
// rollback's), or ctx ended while the gate waited (err is ctx's).
func (r *run) stepGate(ctx context.Context, index int) (done bool, err error) {
	if r.BeforeStep == nil {
		return false, nil
	}
	gerr := r.BeforeStep(ctx, index)
	switch {
	case gerr == nil:
		return false, nil
	case ctx.Err() != nil:
		return true, ctx.Err()
	}
	t := trigger{name: TriggerStepGate, why: gerr.Error(), fields: map[string]any{"step": index}}
	var ge *GateError
	if errors.As(gerr, &ge) && ge.Trigger != "" {
		t.name = ge.Trigger
		maps.Copy(t.fields, ge.Fields)
	}
	return true, r.rollback(ctx, t, r.restoreAndRetire)
}
