package simulator

import (
	"context"
	"errors"
	"fmt"

	"github.com/firedrill/firedrill/record"
)

// Readiness of the new version and rollouts that did not finish.

// TriggerNotReady is the trigger of a rollback because the new version's
// instances were not ready within Controller.ReadyTimeout.
const TriggerNotReady = "not_ready"

// Unfinished is the outcome of a rollout cut short (traffic ended, an
// error) while the new version still held traffic or instances.
const Unfinished = "unfinished"

// EvUnfinished is the event saying so.
const EvUnfinished = "rollout_unfinished"

// NotReadyInstance is what a Fleet's Deploy error may tell about the
// instance that was not ready in time (found with errors.As).
type NotReadyInstance interface {
	NotReadyInstance() (instance, lastHealth string)
}

// errNotReady is the cause of a deploy cut by the readiness bound.
var errNotReady = errors.New("not ready within the rollout's ready_timeout")

// deploy starts n instances of version, bounded by ReadyTimeout. t is the
// trigger of the rollback a failed deploy calls for (nil: deployed); err
// is ctx's when the rollout was interrupted meanwhile. what names the
// deploy in the trigger's message ("new version v2", "batch 2: v2").
func (r *run) deploy(ctx context.Context, what, version string, n int, env map[string]string, args []string) (t *trigger, err error) {
	dctx, cancel := ctx, context.CancelFunc(func() {})
	if r.ReadyTimeout > 0 {
		dctx, cancel = context.WithTimeoutCause(ctx, r.ReadyTimeout, errNotReady)
	}
	defer cancel()
	derr := r.Fleet.Deploy(dctx, r.ro.Service, version, n, env, args)
	switch {
	case derr == nil:
		if version == r.ro.To {
			r.newUp = true
		}
		return nil, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case context.Cause(dctx) != errNotReady:
		return &trigger{name: TriggerDeployFailed, why: fmt.Sprintf("%s did not become healthy: %v", what, derr)}, nil
	}
	fields := map[string]any{"version": version, "ready_timeout_s": r.ReadyTimeout.Seconds()}
	why := fmt.Sprintf("%s not ready within %s (ready_timeout)", what, r.ReadyTimeout)
	var nr NotReadyInstance
	if errors.As(derr, &nr) {
		inst, last := nr.NotReadyInstance()
		fields["instance"], fields["last_health"] = inst, last
		why += fmt.Sprintf(": instance %s, last health check: %s", inst, last)
	} else {
		why += ": " + derr.Error()
	}
	return &trigger{name: TriggerNotReady, why: why, fields: fields}, nil
}

// unfinished marks a rollout that ended without promotion or rollback
// while the new version still held traffic or instances: it must not read
// as "nothing happened".
func (r *run) unfinished(cause error) {
	out := r.out
	if out.Result != None || (!r.newUp && r.newWeight == 0) {
		return
	}
	out.Result = Unfinished
	why := "traffic ended"
	if cause != nil && !errors.Is(cause, context.Canceled) {
		why = cause.Error()
	}
	step := len(out.Steps)
	r.event(record.Event{Kind: EvUnfinished,
		Message: fmt.Sprintf("the rollout of %s to %s did not finish (%s): %s still held %d%% of its traffic and its instances after step %d",
			r.ro.Service, r.ro.To, why, r.ro.To, r.newWeight, step),
		Fields: map[string]any{"weight": r.newWeight, "instances_up": r.newUp, "steps_done": step, "cause": why}})
}
