package simulator

import "context"

// TriggerStepGate is the trigger of a rollback because a check that must
// pass before a step (Controller.BeforeStep, e.g. a replication-lag gate)
// did not.
const TriggerStepGate = "step_gate"

// stepGate runs Controller.BeforeStep before step index. done reports that
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
	return true, r.rollback(ctx, trigger{name: TriggerStepGate, why: gerr.Error(),
		fields: map[string]any{"step": index}}, r.restoreAndRetire)
}
