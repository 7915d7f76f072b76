package simulator

import (
	"context"
	"fmt"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// blueGreen deploys a full preview stack of the new version, judges it on
// preview traffic (mirrored copies of live requests, or synthetic ones:
// no user sees its answers), switches all traffic at once, keeps the old
// stack for the scale-down delay while watching, and retires it. A
// rollback before the switch retires the preview; after it, it switches
// back to the old stack, which is still up until the delay is over.
func (r *run) blueGreen(ctx context.Context) error {
	ro := r.ro
	bg := ro.BlueGreen
	if bg == nil {
		bg = &scenarios.BlueGreen{Preview: scenarios.PreviewNone, ScaleDownDelay: scenarios.DefaultScaleDownDelay}
	}
	if t, err := r.deploy(ctx, "preview stack "+ro.To, ro.To, ro.Replicas, ro.Env, ro.Args); t != nil || err != nil { // ready.go
		if err != nil {
			return err
		}
		return r.rollback(ctx, *t, r.restoreWeights)
	}

	// Step 1: the preview.
	stopPreview, err := r.startPreview(ctx, bg)
	if err != nil {
		return fmt.Errorf("blue-green %s: start the preview: %w", ro.Service, err)
	}
	rec := r.startStep(1, 0, fmt.Sprintf("preview of %s %s (%s traffic)", ro.Service, ro.To, bg.Preview))
	if bg.Preview != scenarios.PreviewNone || bg.Gate != nil {
		w := watchSpec{step: 1, dur: bg.PreviewFor.D(), a: ro.Analysis, canary: arm{version: ro.To, shadow: true}, baseline: r.From, gate: bg.Gate}
		if bg.Preview == scenarios.PreviewNone {
			w.dur, w.canary.shadow = 0, false // only the gate: nothing to judge yet
		} else {
			r.exposed(rec.Started)
		}
		v, err := r.watch(ctx, w)
		if err != nil {
			stopPreview()
			r.endStep(rec, "interrupted")
			return err
		}
		if v.failed {
			r.endStep(rec, "failed")
			return r.rollback(ctx, v.trig, func(ctx context.Context) error {
				stopPreview()
				r.restored() // no live request ever reached the preview
				return r.Fleet.Retire(ctx, ro.Service, ro.To)
			})
		}
	}
	stopPreview()
	r.endStep(rec, "passed")

	// Step 2: the switch, watched while the old stack stays.
	switchAt := r.Clock.Now()
	if err := r.setWeights(ctx, map[string]int{ro.To: 100}); err != nil {
		return err
	}
	r.exposed(switchAt)
	r.event(record.Event{At: switchAt, Kind: EvSwitched, Message: fmt.Sprintf("all traffic of %s switched to %s at once", ro.Service, ro.To),
		Fields: map[string]any{"from": r.From, "to": ro.To}})
	rec = r.startStep(2, 100, fmt.Sprintf("switched to %s; %s kept for %s", ro.To, r.From, bg.ScaleDownDelay))
	v, err := r.watch(ctx, watchSpec{step: 2, weight: 100, dur: bg.ScaleDownDelay.D(), a: ro.Analysis, canary: arm{version: ro.To}})
	if err != nil {
		r.endStep(rec, "interrupted")
		return err
	}
	if v.failed {
		r.endStep(rec, "failed")
		err := r.rollback(ctx, v.trig, r.restoreAndRetire) // switch back: the old stack is still up
		r.switchImpact(switchAt)
		return err
	}
	r.endStep(rec, "passed")
	err = r.promote(ctx, func(ctx context.Context) error { return r.Fleet.Retire(ctx, ro.Service, r.From) })
	r.switchImpact(switchAt)
	return err
}

// startPreview turns the preview traffic on and returns what turns it off.
func (r *run) startPreview(ctx context.Context, bg *scenarios.BlueGreen) (stop func(), err error) {
	ro := r.ro
	var off func()
	fields := map[string]any{"preview": bg.Preview, "version": ro.To}
	switch bg.Preview {
	case scenarios.PreviewMirror:
		m := r.Router.(Mirrorer)
		if err := m.SetMirror(ctx, ro.Service, ro.To, bg.MirrorPercent); err != nil {
			return nil, err
		}
		fields["mirror_percent"] = bg.MirrorPercent
		off = func() { _ = m.SetMirror(context.WithoutCancel(ctx), ro.Service, ro.To, 0) }
	case scenarios.PreviewSynthetic:
		s, err := r.Router.(SyntheticSource).StartSynthetic(ctx, ro.Service, ro.To, bg.SyntheticRate)
		if err != nil {
			return nil, err
		}
		fields["synthetic_rate"] = bg.SyntheticRate
		off = s
	default:
		return func() {}, nil
	}
	r.event(record.Event{Kind: EvPreviewStarted, Message: fmt.Sprintf("%s preview traffic to %s %s", bg.Preview, ro.Service, ro.To), Fields: fields})
	once := false
	return func() {
		if !once {
			once = true
			off()
		}
	}, nil
}

// switchImpact measures what the switch did to requests in flight on the
// old version (they finish on the old stack, which is kept) and to the new
// version's first second. It runs once everything drained.
func (r *run) switchImpact(at time.Time) {
	ro := r.ro
	start := r.Observer.Start()
	old := r.Observer.Samples(Query{Service: ro.Service, Version: r.From, From: at.Add(-time.Minute), To: at})
	imp := &SwitchImpact{At: at}
	for _, s := range old {
		if s.Time(start).Add(s.Latency()).After(at) {
			imp.InFlight++
			if !s.OK() {
				imp.Failed++
			}
		}
	}
	first := r.windowStats(Query{Service: ro.Service, Version: ro.To, From: at, To: at.Add(time.Second)}, false)
	imp.NewFirstSecond, imp.NewFirstSecondFailed = first.Requests, first.Errors
	r.out.Switch = imp
	r.event(record.Event{Kind: EvSwitchImpact,
		Message: fmt.Sprintf("%d requests were in flight on %s at the switch, %d failed; %s served %d in its first second, %d failed",
			imp.InFlight, r.From, imp.Failed, ro.To, imp.NewFirstSecond, imp.NewFirstSecondFailed),
		Fields: map[string]any{"in_flight": imp.InFlight, "in_flight_failed": imp.Failed,
			"new_first_second": imp.NewFirstSecond, "new_first_second_failed": imp.NewFirstSecondFailed, "switch_at": at.UTC()}})
}
