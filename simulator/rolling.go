package simulator

import (
	"context"
	"fmt"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// fleetCounts are the instances of each version a rolling update keeps
// track of, and its limits.
type fleetCounts struct {
	old, new int
	n        int // the replica count to hold: never more than n+surge, never fewer than n-unavailable
	surge    int
	unavail  int
}

// rolling replaces the old instances in batches of max_surge +
// max_unavailable: per batch it retires what the surge does not cover,
// starts the new instances and waits until they are ready, shifts the
// weights to follow the instance counts, retires the old instances they
// replace (draining them), and watches for the pause. A rollback rolls
// back the same way: old instances come back in batches, new ones go.
func (r *run) rolling(ctx context.Context) error {
	ro := r.ro
	opt := ro.Rolling
	if opt == nil {
		opt = &scenarios.Rolling{MaxSurge: scenarios.DefaultMaxSurge, Pause: scenarios.DefaultBatchPause}
	}
	fc := &fleetCounts{old: r.FromReplicas, n: ro.Replicas, surge: opt.MaxSurge, unavail: opt.MaxUnavailable}
	if fc.old <= 0 {
		fc.old = ro.Replicas
	}
	fc.n = max(fc.n, fc.old)
	if fc.surge+fc.unavail <= 0 {
		fc.surge = 1
	}
	target := ro.Replicas
	scaler := r.Fleet.(InstanceScaler) // Check made sure
	for batch := 1; fc.new < target; batch++ {
		b := min(target-fc.new, fc.surge+fc.unavail)
		rec := r.startStep(batch, percent(fc.new+b, fc.old+fc.new+b), fmt.Sprintf("batch %d: replace %d instance(s) of %s with %s", batch, b, r.From, ro.To))
		if r1 := min(fc.old, max(0, fc.old+fc.new+b-(fc.n+fc.surge))); r1 > 0 {
			if err := r.shiftOld(ctx, scaler, fc, r1); err != nil {
				r.endStep(rec, "failed")
				return err
			}
		}
		if t, err := r.deploy(ctx, fmt.Sprintf("batch %d: %s", batch, ro.To), ro.To, b, ro.Env, ro.Args); t != nil || err != nil { // ready.go
			r.endStep(rec, "failed")
			if err != nil {
				return err
			}
			return r.rollback(ctx, *t, func(ctx context.Context) error { return r.rollBackRolling(ctx, scaler, fc) })
		}
		fc.new += b
		r2 := max(0, fc.old+fc.new-fc.n)
		if fc.new >= target {
			r2 = fc.old
		}
		if err := r.setWeights(ctx, r.countWeights(fc.old-r2, fc.new)); err != nil {
			return err
		}
		r.exposed(r.Clock.Now())
		if r2 > 0 {
			if err := scaler.RetireInstances(ctx, ro.Service, r.From, r2); err != nil {
				return fmt.Errorf("batch %d: retire %d instance(s) of %s: %w", batch, r2, r.From, err)
			}
			fc.old -= r2
		}
		rec.Weight = percent(fc.new, fc.old+fc.new)
		r.event(record.Event{Kind: EvBatch, Message: fmt.Sprintf("batch %d: %d %s, %d %s", batch, fc.old, r.From, fc.new, ro.To),
			Fields: map[string]any{"step": batch, "old": fc.old, "new": fc.new, "weight": rec.Weight}})
		baseline := r.From
		if fc.old == 0 {
			baseline = ""
		}
		v, err := r.watch(ctx, watchSpec{step: batch, weight: rec.Weight, dur: opt.Pause.D(), a: ro.Analysis,
			canary: arm{version: ro.To}, baseline: baseline})
		switch {
		case err != nil:
			r.endStep(rec, "interrupted")
			return err
		case v.failed:
			r.endStep(rec, "failed")
			return r.rollback(ctx, v.trig, func(ctx context.Context) error { return r.rollBackRolling(ctx, scaler, fc) })
		}
		r.endStep(rec, "passed")
	}
	return r.promote(ctx, func(ctx context.Context) error {
		if fc.old > 0 {
			if err := r.Fleet.Retire(ctx, ro.Service, r.From); err != nil {
				return err
			}
			fc.old = 0
		}
		return r.setWeights(ctx, map[string]int{ro.To: 100})
	})
}

// shiftOld takes k old instances out: weights first, so the router stops
// choosing them before they drain.
func (r *run) shiftOld(ctx context.Context, scaler InstanceScaler, fc *fleetCounts, k int) error {
	if err := r.setWeights(ctx, r.countWeights(fc.old-k, fc.new)); err != nil {
		return err
	}
	if err := scaler.RetireInstances(ctx, r.ro.Service, r.From, k); err != nil {
		return fmt.Errorf("retire %d instance(s) of %s: %w", k, r.From, err)
	}
	fc.old -= k
	return nil
}

// rollBackRolling is the rolling update in reverse: old instances come
// back in batches (ready before they get traffic) and the new ones go.
func (r *run) rollBackRolling(ctx context.Context, scaler InstanceScaler, fc *fleetCounts) error {
	ro := r.ro
	for batch := 1; fc.new > 0; batch++ {
		b := min(max(0, fc.n-fc.old), fc.surge+fc.unavail)
		if r1 := min(fc.new, max(0, fc.old+fc.new+b-(fc.n+fc.surge))); r1 > 0 {
			if err := r.retireNew(ctx, scaler, fc, r1); err != nil {
				return err
			}
		}
		if b > 0 {
			if err := r.Fleet.Deploy(ctx, ro.Service, r.From, b, nil, nil); err != nil {
				return fmt.Errorf("bring %d instance(s) of %s back: %w", b, r.From, err)
			}
			fc.old += b
		}
		r2 := max(0, fc.old+fc.new-fc.n)
		if fc.old >= fc.n {
			r2 = fc.new
		}
		if err := r.retireNew(ctx, scaler, fc, r2); err != nil {
			return err
		}
		r.event(record.Event{Kind: EvBatch, Message: fmt.Sprintf("rollback batch %d: %d %s, %d %s", batch, fc.old, r.From, fc.new, ro.To),
			Fields: map[string]any{"rollback": true, "step": batch, "old": fc.old, "new": fc.new}})
	}
	return nil
}

// retireNew takes k new instances out, weights first.
func (r *run) retireNew(ctx context.Context, scaler InstanceScaler, fc *fleetCounts, k int) error {
	if err := r.setWeights(ctx, r.countWeights(fc.old, fc.new-k)); err != nil {
		return err
	}
	if fc.new-k == 0 && r.out.TrafficRestoredAt.IsZero() {
		r.restored()
	}
	if k == 0 {
		return nil
	}
	if err := scaler.RetireInstances(ctx, r.ro.Service, r.ro.To, k); err != nil {
		return fmt.Errorf("retire %d instance(s) of %s: %w", k, r.ro.To, err)
	}
	fc.new -= k
	return nil
}

// countWeights splits traffic by instance count, as a load balancer over
// all ready instances would.
func (r *run) countWeights(old, new int) map[string]int {
	w := percent(new, old+new)
	if old+new == 0 {
		w = 0
	}
	return map[string]int{r.From: 100 - w, r.ro.To: w}
}

func percent(part, total int) int {
	if total <= 0 {
		return 0
	}
	return (200*part + total) / (2 * total) // rounded half up
}
