package simulator

import (
	"context"
	"errors"
	"fmt"

	"github.com/firedrill/firedrill/scenarios"
)

// steps runs a canary (a random share of requests per step) or a phased
// rollout (a share of user cohorts per step, by the hash of a header or
// cookie, so a user stays with one version): deploy the new version, then
// for each step set the weights and watch; promote after the last.
func (r *run) steps(ctx context.Context) error {
	ro := r.ro
	if t, err := r.deploy(ctx, "new version "+ro.To, ro.To, ro.Replicas, ro.Env, ro.Args); t != nil || err != nil { // ready.go
		if err != nil {
			return err
		}
		return r.rollback(ctx, *t, r.restoreWeights)
	}
	if ro.Strategy == scenarios.StrategyPhased {
		ph := ro.Phased
		if ph == nil {
			ph = &scenarios.Phased{Header: scenarios.DefaultCohortHeader}
		}
		c := Cohorts{Header: ph.Header, Cookie: ph.Cookie, Order: []string{r.From, ro.To}}
		if err := r.Router.(CohortRouter).SetCohorts(ctx, ro.Service, c); err != nil {
			return errors.Join(fmt.Errorf("phased rollout of %s: route by cohort: %w", ro.Service, err), r.rollback(ctx,
				trigger{name: TriggerDeployFailed, why: "cohort routing could not be set: " + err.Error()}, r.restoreAndRetire))
		}
	}
	unit := "traffic"
	if ro.Strategy == scenarios.StrategyPhased {
		unit = "user cohorts"
	}
	for i, st := range ro.Steps {
		if done, err := r.stepGate(ctx, i+1); done { // stepgate.go
			return err
		}
		if err := r.setWeights(ctx, map[string]int{r.From: 100 - st.Weight, ro.To: st.Weight}); err != nil {
			return err
		}
		rec := r.startStep(i+1, st.Weight, fmt.Sprintf("step %d: %d%% of %s to %s", i+1, st.Weight, unit, ro.To))
		if st.Weight > 0 {
			r.exposed(rec.Started)
		}
		a := ro.Analysis
		if st.Analysis != nil {
			a = *st.Analysis
		}
		baseline := r.From
		if st.Weight == 100 {
			baseline = "" // nobody is left on the old version to compare with
		}
		v, err := r.watch(ctx, watchSpec{step: i + 1, weight: st.Weight, dur: st.Pause.D(), a: a,
			canary: arm{version: ro.To}, baseline: baseline, gate: st.Gate})
		switch {
		case err != nil:
			r.endStep(rec, "interrupted")
			return err
		case v.failed:
			r.endStep(rec, "failed")
			return r.rollback(ctx, v.trig, r.restoreAndRetire)
		}
		r.endStep(rec, "passed")
	}
	if done, err := r.stepGate(ctx, len(ro.Steps)+1); done { // the last step's gate holds the promotion
		return err
	}
	return r.promote(ctx, func(ctx context.Context) error {
		if err := r.setWeights(ctx, map[string]int{ro.To: 100}); err != nil {
			return err
		}
		return r.Fleet.Retire(ctx, ro.Service, r.From)
	})
}

// restoreWeights sends all traffic back to the old version (a failed
// deploy left no new instance to retire: the fleet removed them).
func (r *run) restoreWeights(ctx context.Context) error {
	if err := r.setWeights(ctx, map[string]int{r.From: 100}); err != nil {
		return err
	}
	r.restored()
	return nil
}

// restoreAndRetire sends all traffic back and stops the new version.
func (r *run) restoreAndRetire(ctx context.Context) error {
	if err := r.restoreWeights(ctx); err != nil {
		return err
	}
	return r.Fleet.Retire(ctx, r.ro.Service, r.ro.To)
}
