package verdict

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/power"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// Monte-Carlo budget of a run's own power figure: it only runs when a step
// expects so few errors that the closed form is optimistic, which also
// means the steps are small.
const (
	runPowerTrials     = 1000
	runPowerMinTrials  = 200
	runPowerMaxSamples = 5_000_000 // simulated requests in all
)

// planPower is the power of the scenario's canary plan against e's
// regression (nil: the scenario's first canary_power expectation, else the
// default), with the old version's error rate and latency spread measured
// in this run when it served enough requests.
func planPower(ev *Evidence, e *scenarios.Expectation) (*power.Report, error) {
	sc := ev.Scenario
	in := power.Input{Seed: uint64(ev.Seed), RefineBudget: runPowerMaxSamples / 2}
	if e != nil {
		in.Regression, in.Target = power.ToRegression(e.Regression), e.Min
	}
	if ro := sc.Rollout; !ev.T0.IsZero() && ro != nil {
		if svc := sc.Service(ro.Service); svc != nil {
			measureOld(ev, ro.Service, svc.Version, &in)
		}
	}
	rep, err := power.Compute(sc, in)
	if err != nil {
		return nil, err
	}
	if !hasSmallCounts(rep.Steps) {
		return rep, nil
	}
	per := 0.0
	for _, s := range rep.Steps {
		per += s.BaselineN + s.CanaryN
	}
	if trials := min(runPowerTrials, int(runPowerMaxSamples/max(per, 1))); trials >= runPowerMinTrials {
		in.Trials = trials
		return power.Compute(sc, in)
	}
	return rep, nil
}

// measureOld sets in's baseline error rate and latency spread from the old
// version's requests in this run, when there are enough of them.
func measureOld(ev *Evidence, service, version string, in *power.Input) {
	old := ev.Samples.Select(record.Filter{Source: record.Hop, Service: service, Version: version})
	s := analysis.Summarize(old)
	if s.Requests < 100 {
		return
	}
	in.BaselineErrorRate = ptr(s.ErrorRate)
	in.MeasuredIn = fmt.Sprintf("this run (%d requests to %s %s)", s.Requests, service, version)
	var lat []time.Duration
	for _, x := range old {
		if x.OK() {
			lat = append(lat, x.Latency())
		}
	}
	if sd := analysis.LatencyLogSD(lat); sd > 0 {
		in.LatencyLogSD = &sd
	}
}

// hasSmallCounts reports whether some step has small counts (the closed form is
// then optimistic and the Monte-Carlo figure should decide).
func hasSmallCounts(steps []power.Step) bool {
	for _, s := range steps {
		if s.SmallCounts {
			return true
		}
	}
	return false
}

// resultPower is the run's reports.Power: the plan's power against the
// first canary_power expectation's regression, or the default one.
func resultPower(ev *Evidence) *reports.Power {
	ro := ev.Scenario.Rollout
	if ro == nil || !ro.HasSteps() || !slices.ContainsFunc(ro.Steps, func(s *scenarios.Step) bool { return s != nil && s.Weight > 0 && s.Weight < 100 }) {
		return nil // no canary beside a baseline: no plan to size
	}
	rep, err := planPower(ev, power.CanaryExpectation(ev.Scenario))
	if err != nil {
		return &reports.Power{Effect: "unknown", Detail: "plan power not computed: " + err.Error()}
	}
	return toReportPower(rep)
}

func toReportPower(rep *power.Report) *reports.Power {
	p := &reports.Power{Method: "analytic", Effect: rep.Effect, Alpha: rep.Alpha, Power: rep.Effective, Target: rep.Target,
		Detail: rep.Advice + "; " + stepsText(rep)}
	if rep.EffectiveMethod == "monte-carlo" {
		p.Method, p.Trials = "monte-carlo", rep.Trials
	}
	for _, s := range rep.Steps {
		p.RequestsAvailable += int(s.CanaryN)
	}
	last := len(rep.Plan.Steps) - 1
	if d, err := rep.Plan.DurationFor(last, rep.Reg, rep.Target); err == nil {
		p.RequestsNeeded = int(rep.Rate * float64(rep.Plan.Steps[last].Weight) / 100 * d.Seconds())
	}
	return p
}

// stepsText is the evidence behind a plan's power.
func stepsText(rep *power.Report) string {
	var parts []string
	for _, s := range rep.Steps {
		mc := ""
		if s.MonteCarlo != nil {
			mc = fmt.Sprintf(", monte-carlo %.3f", *s.MonteCarlo)
		}
		parts = append(parts, fmt.Sprintf("step %d (%d%% for %s): %.0f canary vs %.0f baseline requests, power %.3f%s",
			s.Step, s.Weight, s.Duration, s.CanaryN, s.BaselineN, s.Power, mc))
	}
	return strings.Join(parts, "; ") + "; inputs: " + strings.Join(rep.Sources, "; ")
}
