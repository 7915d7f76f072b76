package rehearsal

import (
	"context"
	"fmt"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/simulator"
)

// TriggerJourney is the rollback trigger of a failed journey gate.
const TriggerJourney = "journey"

// EvJourneyGate records a journey gate that passed.
const EvJourneyGate = "journey_gate"

// beforeStep is the controller's check before step index (and before the
// promotion, index len(steps)+1): the lag gate of step index, then the
// journey gate of the step that just ended.
func (r *rehearsal) beforeStep(ctx context.Context, index int) error {
	if err := r.db.BeforeStep(ctx, index); err != nil {
		return err
	}
	return r.journeyGate(index - 1)
}

// journeyGate judges the journey gate of step (from 1) over the journeys
// that started since the step did and have ended.
func (r *rehearsal) journeyGate(step int) error {
	ro := r.sc.Rollout
	if ro == nil || step < 1 || step > len(ro.Steps) || ro.Steps[step-1].JourneyGate == nil {
		return nil
	}
	g := ro.Steps[step-1].JourneyGate
	fail := func(ratio float64, format string, args ...any) error {
		return &simulator.GateError{Trigger: TriggerJourney, Err: fmt.Errorf(format, args...),
			Fields: map[string]any{"journey": g.Journey, "success_ratio": ratio, "min": g.Min, "gated_step": step}}
	}
	from, ok := r.stepStarted(step)
	if r.journeyRun == nil || !ok {
		return fail(0, "journey gate of step %d: no journey of %s ran during the step", step, g.Journey)
	}
	done, succeeded := r.journeyRun.Since(g.Journey, from)
	if done < g.Needed() {
		return fail(0, "journey gate of step %d: only %d journeys of %s ended during the step; the gate needs %d to judge",
			step, done, g.Journey, g.Needed())
	}
	ratio := float64(succeeded) / float64(done)
	if ratio < g.Min {
		return fail(ratio, "journey %s succeeded %.1f%% (%d/%d) during step %d, below the gate's %.1f%%",
			g.Journey, 100*ratio, succeeded, done, step, 100*g.Min)
	}
	r.events.Add(record.Event{Kind: EvJourneyGate, Message: fmt.Sprintf("journey %s succeeded %.1f%% (%d/%d) during step %d: the gate passes",
		g.Journey, 100*ratio, succeeded, done, step), Fields: map[string]any{"journey": g.Journey, "success_ratio": ratio, "step": step}})
	return nil
}

// stepStarted is when the controller started rollout step step.
func (r *rehearsal) stepStarted(step int) (time.Time, bool) {
	var at time.Time
	for _, e := range r.events.Events() {
		if e.Kind == record.EvStepStarted && fmt.Sprint(e.Fields["step"]) == fmt.Sprint(step) {
			at = e.At
		}
	}
	return at, !at.IsZero()
}
