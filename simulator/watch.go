package simulator

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// arm is whose samples are judged as the new version's.
type arm struct {
	version string
	shadow  bool // mirrored or synthetic preview requests
}

// watchSpec is one stretch of the rollout under watch.
type watchSpec struct {
	step   int
	weight int // the new version's live share (0: nothing live to judge)
	dur    time.Duration
	a      scenarios.Analysis
	canary arm
	// baseline is the old version serving at the same time ("" when none
	// does: then only the guardrails judge).
	baseline string
	gate     *scenarios.Decision
}

// verdict is how a watch ended.
type verdict struct {
	failed bool
	trig   trigger
}

// watch looks at the new version every interval for w.dur, then runs the
// statistical judge (once, over the whole stretch), then holds at the gate
// and at any alert still waiting for its decision. Every trigger goes
// through react, which may mitigate, raise an alert or ask for a rollback.
func (r *run) watch(ctx context.Context, w watchSpec) (verdict, error) {
	start := r.Clock.Now()
	end := start.Add(w.dur)
	interval := w.a.Interval.D()
	if interval <= 0 {
		interval = time.Second
	}
	next := start.Add(interval)
	var gateDue time.Time
	statDone, gateDone := false, w.gate == nil
	for {
		now := r.Clock.Now()
		if !now.Before(end) {
			if !statDone {
				statDone = true
				if t := r.statistical(w, start, now); t != nil {
					if v, done, err := r.react(ctx, *t); done || err != nil {
						return v, err
					}
				}
			}
			if !gateDone && gateDue.IsZero() {
				gateDue = now.Add(w.gate.After.D())
				r.event(record.Event{At: now, Kind: EvGateOpened, Message: fmt.Sprintf("step %d waits for a decision (%s after %s)", w.step, w.gate.Action, w.gate.After),
					Fields: map[string]any{"step": w.step, "due": gateDue.UTC()}})
			}
			if !gateDone && !now.Before(gateDue) {
				gateDone = true
				if v, rejected := r.gateDecided(now, w.step, w.gate.Action, "scheduled"); rejected {
					return v, nil
				}
			}
			if gateDone && r.pending == nil {
				return verdict{}, nil
			}
		}
		if v, done := r.decide(now); done {
			return v, nil
		}

		wake := next
		for _, t := range []time.Time{end, gateDue} {
			if t.After(now) && t.Before(wake) {
				wake = t
			}
		}
		if r.pending != nil && r.pending.due.After(now) && r.pending.due.Before(wake) {
			wake = r.pending.due
		}
		if !wake.After(now) {
			wake = now.Add(interval) // holding past end: keep looking
		}
		select {
		case <-ctx.Done():
			return verdict{}, ctx.Err()
		case <-r.Clock.After(wake.Sub(now)):
		case q := <-r.requests(): // desk.go
			now := r.Clock.Now()
			switch {
			case slices.Contains(scenarios.GateActions, q.action):
				if gateDue.IsZero() || gateDone {
					q.reply <- fmt.Errorf("%w: no gate is open (step %d is under watch)", ErrNothingToDecide, w.step)
					continue
				}
				gateDone = true
				q.reply <- nil
				if v, rejected := r.gateDecided(now, w.step, q.action, q.by); rejected {
					return v, nil
				}
			default:
				v, done, err := r.liveAlertDecision(now, q.action, q.by)
				q.reply <- err
				if done {
					return v, nil
				}
			}
			continue
		}
		if !r.Clock.Now().Before(next) {
			next = next.Add(interval * time.Duration(1+r.Clock.Now().Sub(next)/interval))
		}
		if v, done := r.decide(r.Clock.Now()); done {
			return v, nil
		}
		if t := r.look(w); t != nil {
			if v, done, err := r.react(ctx, *t); done || err != nil {
				return v, err
			}
		}
	}
}

// decide applies a scheduled decision that is due.
func (r *run) decide(now time.Time) (verdict, bool) {
	p := r.pending
	if p == nil || now.Before(p.due) {
		return verdict{}, false
	}
	r.pending = nil
	return r.alertDecided(now, p.trig, r.ro.Decision.Action, "scheduled")
}

// alertDecided applies a decision on the alert of trig: ignore lets the
// rollout go on (and later triggers too), rollback ends the watch with a
// rollback (or a mitigation first, when there is one).
func (r *run) alertDecided(now time.Time, trig trigger, action, by string) (verdict, bool) {
	r.out.DecidedAt = now
	r.event(record.Event{At: now, Kind: EvDecision, Message: fmt.Sprintf("decision on the %s alert: %s (%s)", trig.name, action, by),
		Fields: map[string]any{"action": action, "by": by, "trigger": trig.name, "time_to_decide_s": secondsSince(r.out.DetectedAt, now)}})
	if action == scenarios.ActionIgnore {
		r.ignoring = true
		return verdict{}, false
	}
	if r.mitigate(trig) {
		return verdict{}, false
	}
	return verdict{failed: true, trig: trig}, true
}

// liveAlertDecision applies a live decision on the alert that waits for
// one: a scheduled one not yet due, or one nobody was scheduled to answer.
func (r *run) liveAlertDecision(now time.Time, action, by string) (verdict, bool, error) {
	var trig trigger
	switch {
	case r.pending != nil:
		trig = r.pending.trig
		r.pending = nil
	case r.alerted != nil && !r.ignoring:
		trig = *r.alerted
		r.alerted = nil
	default:
		return verdict{}, false, fmt.Errorf("%w: no alert is raised (rollback: %s)", ErrNothingToDecide, r.ro.Rollback)
	}
	v, done := r.alertDecided(now, trig, action, by)
	return v, done, nil
}

// gateDecided records the decision on the gate of step; rejected means the
// watch ends with v (a rollback).
func (r *run) gateDecided(now time.Time, step int, action, by string) (v verdict, rejected bool) {
	fields := map[string]any{"step": step, "by": by}
	if action == scenarios.ActionReject {
		r.out.DecidedAt = now
		r.event(record.Event{At: now, Kind: EvGateRejected, Message: fmt.Sprintf("step %d rejected (%s)", step, by), Fields: fields})
		return verdict{failed: true, trig: trigger{name: TriggerGateRejected, why: fmt.Sprintf("gate of step %d rejected by a %s decision", step, by),
			fields: map[string]any{"step": step}}}, true
	}
	r.event(record.Event{At: now, Kind: EvGateApproved, Message: fmt.Sprintf("step %d approved (%s)", step, by), Fields: fields})
	return verdict{}, false
}

// react handles a trigger. done means the watch ends with v (a rollback);
// otherwise the rollout goes on (mitigated, alerted, or ignored).
func (r *run) react(ctx context.Context, t trigger) (v verdict, done bool, err error) {
	now := r.Clock.Now()
	if r.out.DetectedAt.IsZero() {
		r.out.DetectedAt = now
	}
	if r.ro.Rollback != "manual" {
		if r.mitigate(t) {
			return verdict{}, false, ctx.Err()
		}
		return verdict{failed: true, trig: t}, true, nil
	}
	if r.ignoring || r.pending != nil || r.alerted != nil {
		return verdict{}, false, nil
	}
	fields := map[string]any{"trigger": t.name, "rollback": "manual"}
	for k, v := range t.fields {
		fields[k] = v
	}
	if d := r.ro.Decision; d != nil {
		r.pending = &pending{trig: t, due: now.Add(d.After.D())}
		fields["decision"] = d.Action
		fields["decision_due"] = r.pending.due.UTC()
	} else {
		r.alerted = &t // told once; nobody is scheduled to answer (but a live decision may)
	}
	r.event(record.Event{At: now, Kind: EvAlert, Message: t.why, Fields: fields})
	r.fails = 0
	return verdict{}, false, nil
}

// mitigate turns the mitigation flag off the first time a trigger fires;
// the evidence starts afresh, so the new version is judged as it now is.
func (r *run) mitigate(t trigger) bool {
	m := r.ro.Mitigation
	if m == nil || r.mitigated {
		return false
	}
	r.mitigated = true
	fs := r.Fleet.(FlagSetter) // Check made sure
	now := r.Clock.Now()
	fields := map[string]any{"flag": m.Flag, "on": false, "trigger": t.name, "why": t.why, "version": r.ro.To}
	if err := fs.SetFlag(context.Background(), r.ro.Service, r.ro.To, m.Flag, false); err != nil {
		fields["error"] = err.Error()
		r.event(record.Event{At: now, Kind: EvFlagFlipped, Message: fmt.Sprintf("turning flag %s off failed: %v; rolling back instead", m.Flag, err), Fields: fields})
		return false
	}
	done := r.Clock.Now()
	r.out.MitigatedAt, r.out.Mitigation = done, m.Flag
	r.evidenceFrom, r.fails, r.seq = done, 0, nil
	fields["time_to_mitigate_s"] = secondsSince(r.out.RegressionAt, done)
	r.event(record.Event{At: done, Kind: EvFlagFlipped, Message: fmt.Sprintf("flag %s turned off on every %s instance of %s (%s)", m.Flag, r.ro.To, r.ro.Service, t.why),
		Fields: fields})
	return true
}
