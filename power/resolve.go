package power

import (
	"errors"
	"fmt"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/scenarios"
)

// resolver fills a report's inputs from the flags (Input), the scenario,
// a baseline result and the defaults, in that order, noting where each
// came from in the report's Sources.
type resolver struct {
	rep  *Report
	sc   *scenarios.Scenario
	in   Input
	svc  *scenarios.Service // the rolled-out service (nil without a rollout)
	from string             // its version before the rollout
	// measured is what the baseline result says of the old version.
	measured *baselineStats
}

func (r *resolver) note(format string, args ...any) {
	r.rep.Sources = append(r.rep.Sources, fmt.Sprintf(format, args...))
}

// resolve fills the plan's inputs from in, sc, the baseline and defaults.
func (rep *Report) resolve(sc *scenarios.Scenario, in Input) error {
	r := &resolver{rep: rep, sc: sc, in: in}
	if sc != nil && sc.Rollout != nil {
		rep.Service = sc.Rollout.Service
		if r.svc = sc.Service(rep.Service); r.svc != nil {
			r.from = r.svc.Version
		}
	}
	r.judge()
	r.regression()
	if in.Baseline != nil {
		if rep.Service == "" {
			return errors.New("--baseline needs a scenario with a rollout: it names the service and version to read")
		}
		m, err := measureBaseline(in.Baseline, rep.Service, r.from)
		if err != nil {
			return err
		}
		r.measured = m
	}
	if err := r.rate(); err != nil {
		return err
	}
	steps, err := r.steps()
	if err != nil {
		return err
	}
	r.baseline()
	rep.Plan = analysis.Plan{Rate: rep.Rate, Steps: steps, Alpha: rep.Alpha, BaselineErrorRate: rep.BaselineErrorRate,
		ErrorMargin: rep.ErrorMargin, LatencyLogSD: rep.LatencyLogSD, LatencyAllowed: rep.LatencyAllowed}
	if err := rep.Plan.Validate(); err != nil {
		return fmt.Errorf("canary plan: %w", err)
	}
	reg := rep.Reg
	rep.Effect = describeEffect(rep.BaselineErrorRate, reg)
	if reg.ErrorRel != 0 && reg.ErrorAbs == 0 && rep.BaselineErrorRate == 0 {
		r.note("warning: an error-rate ratio of a zero baseline error rate is no change; give an absolute increase instead")
	}
	return nil
}

// judge: the judge's settings from the flags, the rollout's analysis, defaults.
func (r *resolver) judge() {
	var an *scenarios.Analysis
	if r.sc != nil && r.sc.Rollout != nil {
		an = &r.sc.Rollout.Analysis
		switch an.Judge {
		case scenarios.JudgeSequential:
			r.note("judge: sequential; the power is the fixed-horizon test's at each step's end, which bounds the always-valid test's from above")
		case scenarios.JudgeThreshold:
			r.note("judge: threshold; the power is what the statistical judge would have (fixed thresholds have no power to speak of)")
		case "":
		default:
			r.note("judge: %s", an.Judge)
		}
	}
	defErr, defLat := judgeAllowances()
	alpha := DefaultAlpha
	if an != nil {
		alpha, defErr, defLat = orDefault(an.Alpha, alpha), an.ErrorMargin, an.LatencyMargin
	}
	r.rep.Alpha = orDefault(r.in.Alpha, alpha)
	r.rep.ErrorMargin = orPtr(r.in.ErrorMargin, defErr)
	r.rep.LatencyAllowed = orPtr(r.in.LatencyAllowed, defLat)
}

// regression: the regression and target from the flags, the scenario's
// expectation, defaults. Needs the judge's error margin.
func (r *resolver) regression() {
	rep := r.rep
	reg, target := r.in.Regression, r.in.Target
	exp := CanaryExpectation(r.sc)
	switch {
	case reg != (analysis.Regression{}):
		r.note("regression: given")
	case exp != nil:
		reg = ToRegression(exp.Regression)
		r.note("regression: expectation %q", exp.Name)
	default:
		// One point beyond what the judge tolerates: a regression the
		// judge is meant to catch.
		reg = analysis.Regression{ErrorAbs: rep.ErrorMargin + DefaultRegressionErrorIncrease}
		r.note("regression: default, error rate +%g, the judge's error margin plus %g (no canary_power expectation)", reg.ErrorAbs, DefaultRegressionErrorIncrease)
	}
	if target == 0 && exp != nil {
		target = exp.Min
	}
	rep.Target = orDefault(target, scenarios.DefaultPowerTarget)
	rep.Reg = reg
	rep.Regression = RegressionInput{ErrorRateIncrease: reg.ErrorAbs, LatencyRatio: reg.LatencyRatio}
	if reg.ErrorRel != 0 {
		rep.Regression.ErrorRateRatio = 1 + reg.ErrorRel
	}
}

// rate: requests per second reaching the rolled-out service.
func (r *resolver) rate() error {
	rep, sc, m := r.rep, r.sc, r.measured
	switch {
	case r.in.Rate > 0:
		rep.Rate = r.in.Rate
		r.note("rate: %g rps, given", r.in.Rate)
	case m != nil && m.rate > 0:
		rep.Rate = m.rate
		r.note("rate: %.1f rps, median per second at %s's router in the baseline run", m.rate, rep.Service)
	case sc != nil && rep.Service != "":
		paths := callPaths(sc, sc.Traffic.Entry, rep.Service)
		if paths == 0 {
			return fmt.Errorf("no traffic reaches %s from the entry %s: give --rate", rep.Service, sc.Traffic.Entry)
		}
		rep.Rate = sc.Traffic.Rate * float64(paths)
		r.note("rate: %g rps, traffic.rate %g x %d call path(s) from %s to %s", rep.Rate, sc.Traffic.Rate, paths, sc.Traffic.Entry, rep.Service)
	default:
		return errors.New("no rate: give --rate (requests per second reaching the service) or a scenario")
	}
	return nil
}

// steps: the judged steps, given or the rollout's between 1% and 99%.
func (r *resolver) steps() ([]analysis.PlanStep, error) {
	steps := r.in.Steps
	if len(steps) > 0 {
		r.note("steps: given")
	} else if r.sc != nil && r.sc.Rollout != nil {
		ro := r.sc.Rollout
		if !ro.HasSteps() {
			return nil, fmt.Errorf("a %s rollout has no canary steps, so there is no canary plan to size: give --steps", ro.Strategy)
		}
		for i, st := range ro.Steps {
			if st == nil {
				continue
			}
			if st.Weight <= 0 || st.Weight >= 100 {
				r.rep.Skipped = append(r.rep.Skipped, fmt.Sprintf("step %d (%d%% for %s): no canary and baseline side by side, not judged", i+1, st.Weight, st.Pause))
				continue
			}
			steps = append(steps, analysis.PlanStep{Weight: st.Weight, Duration: st.Pause.D()})
		}
		r.note("steps: rollout of %s, %d judged", r.rep.Service, len(steps))
	}
	if len(steps) == 0 {
		return nil, errors.New("no canary step to judge: give --steps (e.g. 5:30s,25:30s) or a scenario whose rollout has a step between 1% and 99%")
	}
	return steps, nil
}

// baseline: the old version's error rate and latency spread.
func (r *resolver) baseline() {
	rep, in, m := r.rep, r.in, r.measured
	given := "given"
	if in.MeasuredIn != "" {
		given = "measured in " + in.MeasuredIn
	}
	if in.BaselineErrorRate != nil {
		rep.BaselineErrorRate = *in.BaselineErrorRate
		r.note("baseline error rate: %.4g, %s", rep.BaselineErrorRate, given)
	} else if m != nil {
		rep.BaselineErrorRate = m.errorRate
		r.note("baseline error rate: %.4g, measured (%d errors in %d requests of %s %s)", m.errorRate, m.errors, m.requests, rep.Service, r.from)
	} else if x, ok := fixtureSetting(r.svc, "error-rate", "ERROR_RATE"); ok {
		rep.BaselineErrorRate = x
		r.note("baseline error rate: %g, the fixture's error-rate setting", x)
	} else {
		r.note("baseline error rate: 0 (no setting or measurement; give --baseline-error-rate or --baseline)")
	}
	if in.LatencyLogSD != nil {
		rep.LatencyLogSD = *in.LatencyLogSD
		r.note("latency log-sd: %.3g, %s", rep.LatencyLogSD, given)
	} else if m != nil && m.logSD > 0 {
		rep.LatencyLogSD = m.logSD
		r.note("latency log-sd: %.3g, median ln(p99/p50)/2.326 over %d seconds of the baseline run", m.logSD, m.logSDPoints)
	} else if sd, ok := fixtureLogSD(r.svc); ok {
		rep.LatencyLogSD = sd
		r.note("latency log-sd: %.3g, ln(p99/median)/2.326 of the fixture's latency settings", sd)
	} else {
		rep.LatencyLogSD = DefaultLatencyLogSD
		r.note("latency log-sd: %g, default (a p99 about 3.2x the median)", DefaultLatencyLogSD)
	}
}
