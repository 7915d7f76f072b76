package firedrill

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/firedrill/firedrill/analysis"
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
func (r *runner) planPower(e *scenarios.Expectation) (*PowerReport, error) {
	in := PowerInput{Seed: uint64(r.seed), RefineBudget: runPowerMaxSamples / 2}
	if e != nil {
		in.Regression, in.Target = toRegression(e.Regression), e.Min
	}
	ro := r.sc.Rollout
	if !r.t0.IsZero() && ro != nil {
		if svc := r.sc.Service(ro.Service); svc != nil {
			old := r.rec.Select(record.Filter{Source: record.Hop, Service: ro.Service, Version: svc.Version})
			if s := analysis.Summarize(old); s.Requests >= 100 {
				in.BaselineErrorRate = ptr(s.ErrorRate)
				in.MeasuredIn = fmt.Sprintf("this run (%d requests to %s %s)", s.Requests, ro.Service, svc.Version)
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
		}
	}
	rep, err := PlanPower(r.sc, in)
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
		return PlanPower(r.sc, in)
	}
	return rep, nil
}

// hasSmallCounts reports whether some step has small counts (the closed form is
// then optimistic and the Monte-Carlo figure should decide).
func hasSmallCounts(steps []PowerStep) bool {
	for _, s := range steps {
		if s.SmallCounts {
			return true
		}
	}
	return false
}

// resultPower is the run's reports.Power: the plan's power against the
// first canary_power expectation's regression, or the default one.
func (r *runner) resultPower() *reports.Power {
	ro := r.sc.Rollout
	if ro == nil || !ro.HasSteps() || !slices.ContainsFunc(ro.Steps, func(s *scenarios.Step) bool { return s != nil && s.Weight > 0 && s.Weight < 100 }) {
		return nil // no canary beside a baseline: no plan to size
	}
	rep, err := r.planPower(canaryPowerExpectation(r.sc))
	if err != nil {
		return &reports.Power{Effect: "unknown", Detail: "plan power not computed: " + err.Error()}
	}
	return toReportPower(rep)
}

func toReportPower(rep *PowerReport) *reports.Power {
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
func stepsText(rep *PowerReport) string {
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

func (r *runner) checkCanaryPower(e *scenarios.Expectation, x *reports.Expectation) {
	x.Threshold = fmt.Sprintf(">= %.2f", e.Min)
	rep, err := r.planPower(e)
	if err != nil {
		x.Observed, x.Detail = "not computed", err.Error()
		return
	}
	x.Observed = fmt.Sprintf("%.3f", rep.Effective)
	x.Passed = rep.Effective >= e.Min
	setNum(x, rep.Effective, e.Min, ">=", "")
	x.Detail = rep.Advice + "; " + stepsText(rep)
}

// judged are the samples an SLO or RTO expectation reads: the clients', or
// the router's of e.Service, in [from, to).
func (r *runner) judged(e *scenarios.Expectation, from, to time.Duration) ([]record.Sample, string) {
	if e.Service != "" {
		return r.rec.Select(record.Filter{Source: record.Hop, Service: e.Service, From: from, To: to}), e.Service + "'s router"
	}
	return r.rec.Select(record.Filter{Source: record.Client, From: from, To: to}), "clients"
}

func (r *runner) checkSLOBurn(e *scenarios.Expectation, x *reports.Expectation) {
	slo := analysis.SLO{Objective: e.Objective}
	short := e.Window.D()
	long := scenarios.BurnLongWindows * short
	x.Threshold = fmt.Sprintf("< %gx over both %s and %s", e.MaxBurn, short, long)
	samples, who := r.judged(e, e.From.D(), e.To.D())
	if len(samples) == 0 {
		x.Observed, x.Detail = "no data", "no requests seen by "+who
		return
	}
	p := burnPeak(samples, slo, e.From.D(), short, long, e.MaxBurn)
	if p.At == 0 {
		x.Observed, x.Detail = "no data", fmt.Sprintf("%s saw requests for less than one short window (%s)", who, short)
		return
	}
	b := analysis.Budget(samples, slo)
	x.Observed = fmt.Sprintf("%.2fx", p.Level)
	x.Passed = p.Level < e.MaxBurn
	setNum(x, p.Level, e.MaxBurn, "<", "x")
	verdict := "the alert never fired"
	if p.FiredAt >= 0 {
		verdict = fmt.Sprintf("the alert would have fired at +%s", p.FiredAt.Round(time.Millisecond))
	}
	x.Detail = fmt.Sprintf("%s; peak at +%s: burn %.2fx over the last %s (%d of %d requests bad) and %.2fx over the last %s (%d of %d bad), judged every %s on %s' requests; error budget of the whole window %.0f%% consumed (%d bad of %d, %.1f allowed at %g%%)",
		verdict, p.At.Round(time.Millisecond), p.LongRate, long, p.LongBad, p.LongN, p.ShortRate, short, p.ShortBad, p.ShortN,
		p.Step, who, 100*b.Consumed, b.Bad, b.Total, b.Allowed, 100*e.Objective)
}

// burnLevel is the multi-window burn at its peak: Level is the largest
// min(long burn, short burn) over the instants judged, the level at which
// an alert on both windows would have fired.
type burnLevel struct {
	Level               float64
	At                  time.Duration
	LongRate, ShortRate float64
	LongN, ShortN       int
	LongBad, ShortBad   int
	// FiredAt is the first instant the level reached factor (-1: never).
	FiredAt time.Duration
	Step    time.Duration
}

// burnPeak evaluates the alert "burn >= factor over both trailing windows"
// at the end of every step (short/5, at most 1s) of the samples' span from
// start+short on, as analysis.BurnAlert does at one instant (the long window
// clipped at the run's start), but from per-step counts so that a long run
// costs one pass. Instants before the short window is full are not judged:
// one early error among a handful of requests is not a burn.
func burnPeak(samples []record.Sample, slo analysis.SLO, start, short, long time.Duration, factor float64) burnLevel {
	step := min(time.Second, max(short/5, 10*time.Millisecond))
	bins := analysis.SLISeries(samples, step, slo)
	total := make([]int, len(bins)+1) // prefix sums
	good := make([]int, len(bins)+1)
	for i, b := range bins {
		total[i+1], good[i+1] = total[i]+b.Total, good[i]+b.Good
	}
	nl, ns := int(long/step), int(short/step)
	out := burnLevel{FiredAt: -1, Step: step}
	for i := int((start + short + step - 1) / step); i <= len(bins); i++ {
		lo, so := max(0, i-nl), max(0, i-ns)
		lc := analysis.SLICounts{Total: total[i] - total[lo], Good: good[i] - good[lo]}
		sc := analysis.SLICounts{Total: total[i] - total[so], Good: good[i] - good[so]}
		if lc.Total == 0 || sc.Total == 0 {
			continue
		}
		lr, sr := lc.BurnRate(slo), sc.BurnRate(slo)
		level := min(lr, sr)
		at := time.Duration(i) * step
		if level > out.Level || out.At == 0 {
			out.Level, out.At, out.LongRate, out.ShortRate = level, at, lr, sr
			out.LongN, out.ShortN, out.LongBad, out.ShortBad = lc.Total, sc.Total, lc.Total-lc.Good, sc.Total-sc.Good
		}
		if level >= factor && out.FiredAt < 0 {
			out.FiredAt = at
		}
	}
	return out
}

// instant is a moment recovery is measured from.
type instant struct {
	name     string
	at       time.Duration
	reverted time.Duration // -1: not a fault, or never reverted
}

func (r *runner) checkRTO(e *scenarios.Expectation, x *reports.Expectation) {
	x.Threshold = "<= " + e.Max.String()
	var ins []instant
	var missing []string
	if e.Fault == scenarios.RollbackInstant {
		if t := r.res.Rollout.RollbackStartedAt; t != nil {
			ins = append(ins, instant{name: "rollback", at: t.Sub(r.t0), reverted: -1})
		} else {
			missing = append(missing, "no rollback happened (outcome "+r.res.Rollout.Outcome+")")
		}
	}
	for _, f := range r.faults {
		if ok, _ := path.Match(e.Fault, f.Fault.Name); !ok || e.Fault == scenarios.RollbackInstant {
			continue
		}
		if f.InjectedAt.IsZero() {
			missing = append(missing, fmt.Sprintf("fault %s was not injected (%s)", f.Fault.Name, orText(f.Skipped, errText(f.Err))))
			continue
		}
		in := instant{name: f.Fault.Name, at: f.InjectedAt.Sub(r.t0), reverted: -1}
		if !f.RevertedAt.IsZero() {
			in.reverted = f.RevertedAt.Sub(r.t0)
		}
		ins = append(ins, in)
	}
	if len(ins) == 0 {
		x.Observed = "nothing to measure"
		x.Detail = strings.Join(append(missing, "no instant matched "+e.Fault), "; ")
		return
	}
	samples, who := r.judged(e, 0, 0)
	cfg := analysis.RecoveryConfig{Bin: time.Second, Objective: e.Objective, Stability: e.Stability.D()}
	var recs []analysis.Recovery
	var details []string
	for _, in := range ins {
		rec, err := analysis.MeasureRecovery(samples, in.at, cfg)
		if err != nil {
			x.Observed, x.Detail = "not computed", err.Error()
			return
		}
		recs = append(recs, rec)
		d := fmt.Sprintf("%s at +%s", in.name, in.at.Round(time.Millisecond))
		if rec.Recovered {
			d += fmt.Sprintf(": recovered at +%s, RTO %s", rec.RecoveredAt.Round(time.Millisecond), rec.RTO)
			switch after := rec.RecoveredAt - in.reverted; {
			case in.reverted < 0:
			case after > 0:
				d += fmt.Sprintf(" (%s after the fault was reverted at +%s)", after.Round(time.Millisecond), in.reverted.Round(time.Millisecond))
			default: // bins are aligned on the injection, so the revert falls inside one
				d += fmt.Sprintf(" (the fault was reverted at +%s)", in.reverted.Round(time.Millisecond))
			}
		} else {
			d += ": NOT recovered (" + rec.Detail + ")"
		}
		if rec.Longest.Failed > 0 {
			d += fmt.Sprintf("; longest stretch without a success %s (%d failed requests)", rec.Longest.Duration().Round(time.Millisecond), rec.Longest.Failed)
		}
		details = append(details, d)
		rr := reports.Recovery{Name: x.Name, Fault: in.name, Service: e.Service, RTOTargetSeconds: ptr(e.Max.D().Seconds()), Detail: d}
		ok := rec.Recovered && rec.RTO <= e.Max.D()
		rr.Passed = &ok
		if rec.Recovered {
			rr.RTOSeconds = ptr(rec.RTO.Seconds())
		}
		r.res.Recovery = append(r.res.Recovery, rr)
	}
	st := analysis.SummarizeRecoveries(recs)
	x.Passed = st.Recovered == st.N && st.Max <= e.Max.D() && len(missing) == 0
	switch {
	case st.Recovered < st.N:
		x.Observed = fmt.Sprintf("not recovered (%d of %d)", st.N-st.Recovered, st.N)
	case st.N == 1:
		x.Observed = st.Max.String()
		setNum(x, st.Max.Seconds(), e.Max.D().Seconds(), "<=", "s")
	default:
		x.Observed = fmt.Sprintf("max %s (p50 %s, p90 %s over %d)", st.Max, st.P50, st.P90, st.N)
		setNum(x, st.Max.Seconds(), e.Max.D().Seconds(), "<=", "s")
	}
	x.Detail = fmt.Sprintf("recovered = success ratio >= %g in every 1s bin for %s, on %s' requests; %s",
		e.Objective, e.Stability, who, strings.Join(append(missing, details...), "; "))
}

// setNum fills the numeric form of an expectation.
func setNum(x *reports.Expectation, value, limit float64, op, unit string) {
	x.Value, x.Limit, x.Op, x.Unit = ptr(value), ptr(limit), op, unit
}

func orText(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func errText(err error) string {
	if err == nil {
		return "no reason given"
	}
	return err.Error()
}
