// Package power answers, before a release, whether a canary plan can
// detect the regression its owner fears: the plan's power (closed form,
// cross-checked by simulating the judge), the smallest regression it
// detects, and the plan that would reach the target. Its inputs come from
// flags, the scenario, or a previous run's result (inputs.go).
package power

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// Power defaults.
const (
	DefaultAlpha = 0.05
	// DefaultLatencyLogSD is sigma of ln(latency) assumed when nothing
	// better is known: a p99 about 3.2 times the median.
	DefaultLatencyLogSD = 0.5
	// DefaultRegressionErrorIncrease is the regression a canary run's
	// reported power is computed against when no canary_power expectation
	// names one: one percentage point more errors than the judge's margin.
	DefaultRegressionErrorIncrease = 0.01
)

// Input says what Compute should assume. Zero values (nil pointers)
// take the scenario's values, then the defaults.
type Input struct {
	// Regression to detect; empty: the scenario's first canary_power
	// expectation, else DefaultRegressionErrorIncrease beyond the margin.
	Regression analysis.Regression
	// Target power (default the canary_power expectation's min, else 0.8).
	Target float64
	// Alpha per metric and step (default the rollout analysis's, else 0.05).
	Alpha float64
	// Rate is the requests per second reaching the rolled-out service
	// (default: traffic.rate times the call paths from the entry to it).
	Rate float64
	// Steps override the rollout's steps.
	Steps []analysis.PlanStep
	// BaselineErrorRate and LatencyLogSD describe the old version
	// (default: measured in Baseline, else the fixture's settings).
	BaselineErrorRate *float64
	LatencyLogSD      *float64
	// ErrorMargin and LatencyAllowed are the judge's allowances (default
	// the rollout analysis's error_margin and latency_margin, else those of
	// analysis.DefaultMetrics).
	ErrorMargin    *float64
	LatencyAllowed *float64
	// Baseline is a previous run's result: its router series give the
	// measured baseline error rate, latency spread and rate.
	Baseline *reports.Result
	// MeasuredIn, when set, says where BaselineErrorRate and LatencyLogSD
	// were measured (e.g. "this run"), for the report's sources.
	MeasuredIn string
	// Trials of the Monte-Carlo cross-check (0: none) and its seed.
	Trials int
	Seed   uint64
	// RefineBudget caps the simulated requests spent refining the pause
	// factor by Monte-Carlo (default 30 million, a few seconds).
	RefineBudget float64
	// Simulate, when > 0, sizes a sequential judge by that many trials of
	// the rollout on the virtual-time model (sequential.go): no closed form
	// gives its power or its false alarms.
	Simulate int
}

// Report is the answer to "could this canary plan catch the regression
// I fear?", with where every input came from.
type Report struct {
	Service           string          `json:"service,omitempty"`
	Rate              float64         `json:"rate_rps"`
	Alpha             float64         `json:"alpha"`
	Target            float64         `json:"target"`
	BaselineErrorRate float64         `json:"baseline_error_rate"`
	LatencyLogSD      float64         `json:"latency_log_sd"`
	ErrorMargin       float64         `json:"error_margin"`
	LatencyAllowed    float64         `json:"latency_allowed"`
	Regression        RegressionInput `json:"regression"`
	// Effect describes the regression in the baseline's terms.
	Effect string `json:"effect"`
	// Sources says where each input came from.
	Sources []string `json:"sources"`
	Steps   []Step   `json:"steps"`
	// Skipped lists rollout steps that are not judged (0% or 100%).
	Skipped []string `json:"skipped,omitempty"`
	// Power is the closed-form probability that some step detects the
	// regression; MonteCarlo the same estimated by running the judge on
	// Trials simulated canaries.
	Power      float64  `json:"power"`
	MonteCarlo *float64 `json:"monte_carlo_power,omitempty"`
	Trials     int      `json:"trials,omitempty"`
	Seed       uint64   `json:"seed,omitempty"`
	// Effective is the power the verdict uses: the Monte-Carlo figure when
	// a step expects so few errors that the judge's exact test makes the
	// closed form optimistic, else the closed form; EffectiveMethod says
	// which ("closed form" or "monte-carlo").
	Effective       float64 `json:"effective_power"`
	EffectiveMethod string  `json:"effective_method"`
	// FalseAlarmBound bounds the chance that a healthy canary fails a step.
	FalseAlarmBound float64 `json:"false_alarm_bound"`
	// MinDetectable is the smallest regression the plan detects with the
	// target power, per dimension of the regression.
	MinDetectable []Detectable `json:"min_detectable"`
	// PauseScale is the factor on every pause that reaches the target
	// (0 when no length would), by the closed form or, when the verdict
	// is the Monte-Carlo figure, by the judge simulated (PauseScaleMethod).
	PauseScale       float64 `json:"pause_scale_needed,omitempty"`
	PauseScaleMethod string  `json:"pause_scale_method,omitempty"`
	Advice           string  `json:"advice"`
	// Simulated is the sequential judge sized by simulation (Input.Simulate).
	Simulated *Simulated `json:"simulated,omitempty"`

	// Plan and Reg are the analysis inputs, for callers that go further.
	Plan analysis.Plan       `json:"-"`
	Reg  analysis.Regression `json:"-"`
}

// RegressionInput is a regression as written in scenarios and flags.
type RegressionInput struct {
	ErrorRateIncrease float64 `json:"error_rate_increase,omitempty"`
	ErrorRateRatio    float64 `json:"error_rate_ratio,omitempty"`
	LatencyRatio      float64 `json:"latency_ratio,omitempty"`
}

// Step is one judged step.
type Step struct {
	Step         int      `json:"step"` // 1-based index in the rollout
	Weight       int      `json:"weight"`
	Duration     string   `json:"duration"`
	BaselineN    float64  `json:"baseline_requests"`
	CanaryN      float64  `json:"canary_requests"`
	ErrorPower   *float64 `json:"error_power,omitempty"`
	LatencyPower *float64 `json:"latency_power,omitempty"`
	Power        float64  `json:"power"`
	MonteCarlo   *float64 `json:"monte_carlo_power,omitempty"`
	// SmallCounts: the judge will use an exact test here, more
	// conservative than the closed form; trust the Monte-Carlo figure.
	SmallCounts bool `json:"small_counts,omitempty"`
	// DurationNeeded at this weight, and WeightNeeded for this duration,
	// for this step alone to reach the target ("" / 0: unreachable).
	DurationNeeded string `json:"duration_needed,omitempty"`
	WeightNeeded   int    `json:"weight_needed,omitempty"`
}

// Detectable is the smallest regression along one dimension.
type Detectable struct {
	Kind  string  `json:"kind"` // error_rate_increase | error_rate_ratio | latency_ratio
	Value float64 `json:"value"`
	Text  string  `json:"text"`
}

// Compute computes the power of sc's canary plan (or of in.Rate and
// in.Steps when sc is nil) to detect a regression, the smallest regression
// it detects with the target power, and what plan would reach it. The
// judge is assumed to test each step once, fixed-horizon, on that step's
// own requests (see analysis.Plan).
func Compute(sc *scenarios.Scenario, in Input) (*Report, error) {
	rep := &Report{}
	if err := rep.resolve(sc, in); err != nil {
		return nil, err
	}
	plan, r := rep.Plan, rep.Reg
	pp, err := plan.Power(r)
	if err != nil {
		return nil, fmt.Errorf("plan power: %w", err)
	}
	rep.Power, rep.FalseAlarmBound = pp.Overall, pp.FalseAlarmBound
	var mc *analysis.PlanPower
	if in.Trials > 0 {
		m, err := plan.MonteCarlo(r, in.Trials, in.Seed)
		if err != nil {
			return nil, fmt.Errorf("monte-carlo cross-check: %w", err)
		}
		mc, rep.Trials, rep.Seed = &m, in.Trials, in.Seed
		rep.MonteCarlo = ptr(m.Overall)
	}
	for i, sp := range pp.Steps {
		ps := Step{Step: sp.Step, Weight: sp.Weight, Duration: sp.Duration.String(), BaselineN: sp.BaselineN, CanaryN: sp.CanaryN,
			ErrorPower: finite(sp.ErrorPower), LatencyPower: finite(sp.LatencyPower), Power: sp.Power, SmallCounts: sp.SmallCounts}
		if mc != nil {
			ps.MonteCarlo = ptr(mc.Steps[i].Power)
		}
		if d, err := plan.DurationFor(i, r, rep.Target); err == nil {
			ps.DurationNeeded = d.String()
		}
		if w, err := plan.WeightFor(i, r, rep.Target); err == nil {
			ps.WeightNeeded = w
		}
		rep.Steps = append(rep.Steps, ps)
	}
	rep.Effective, rep.EffectiveMethod = rep.Power, "closed form"
	if rep.MonteCarlo != nil && slices.ContainsFunc(rep.Steps, func(s Step) bool { return s.SmallCounts }) {
		rep.Effective, rep.EffectiveMethod = *rep.MonteCarlo, "monte-carlo"
	}
	rep.minDetectable()
	rep.PauseScale, rep.PauseScaleMethod = pauseScale(plan, r, rep.Target), "closed form"
	if rep.EffectiveMethod == "monte-carlo" && rep.Effective < rep.Target && rep.PauseScale > 0 {
		if k, ok := mcPauseScale(plan, r, rep.Target, rep.PauseScale, in.Trials, in.Seed, orDefault(in.RefineBudget, 30e6)); ok {
			rep.PauseScale, rep.PauseScaleMethod = k, "monte-carlo"
		}
	}
	rep.Advice = rep.advice()
	if in.Simulate > 0 && sequentialJudge(sc) {
		if err := rep.simulate(context.Background(), sc, in.Simulate, in.Seed); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func (rep *Report) minDetectable() {
	r, p, t := rep.Reg, rep.Plan, rep.Target
	if r.ErrorAbs != 0 || r.ErrorRel != 0 {
		if x, err := p.MinDetectable(analysis.ByErrorAbs, t); err == nil {
			rep.MinDetectable = append(rep.MinDetectable, Detectable{Kind: "error_rate_increase", Value: x,
				Text: fmt.Sprintf("error rate +%s (%s -> %s)", pts(x), pct(p.BaselineErrorRate), pct(p.BaselineErrorRate+x))})
		}
		if p.BaselineErrorRate > 0 {
			if x, err := p.MinDetectable(analysis.ByErrorRel, t); err == nil {
				rep.MinDetectable = append(rep.MinDetectable, Detectable{Kind: "error_rate_ratio", Value: 1 + x,
					Text: fmt.Sprintf("error rate x%.3g", 1+x)})
			}
		}
	}
	if r.LatencyRatio != 0 && r.LatencyRatio != 1 {
		if x, err := p.MinDetectable(analysis.ByLatencyRatio, t); err == nil {
			rep.MinDetectable = append(rep.MinDetectable, Detectable{Kind: "latency_ratio", Value: x,
				Text: fmt.Sprintf("latency x%.3g (%+.1f%%)", x, 100*(x-1))})
		}
	}
}

// advice says in one sentence whether the plan is strong enough and, if
// not, what plan would be.
func (rep *Report) advice() string {
	have := fmt.Sprintf("power %.2f (%s) against %s", rep.Effective, rep.EffectiveMethod, rep.Effect)
	if rep.Effective >= rep.Target {
		return fmt.Sprintf("the plan is strong enough: %s (target %.2f)", have, rep.Target)
	}
	var fixes []string
	if rep.PauseScale > 0 {
		var durs []string
		for _, s := range rep.Plan.Steps {
			durs = append(durs, fmt.Sprintf("%d%% for %s", s.Weight, roundDur(time.Duration(float64(s.Duration)*rep.PauseScale))))
		}
		fixes = append(fixes, fmt.Sprintf("every pause x%.3g (%s; %s)", rep.PauseScale, strings.Join(durs, ", "), rep.PauseScaleMethod))
	}
	best := -1
	for i, s := range rep.Steps {
		if s.WeightNeeded > 0 && (best < 0 || s.WeightNeeded < rep.Steps[best].WeightNeeded) {
			best = i
		}
	}
	cf := "" // per-step sizes are closed forms
	if rep.EffectiveMethod == "monte-carlo" {
		cf = " (closed form; the exact test on few errors needs somewhat more)"
	}
	if best >= 0 {
		s := rep.Steps[best]
		fixes = append(fixes, fmt.Sprintf("step %d at %d%% instead of %d%% for its %s%s", s.Step, s.WeightNeeded, s.Weight, s.Duration, cf))
	}
	last := rep.Steps[len(rep.Steps)-1]
	if last.DurationNeeded != "" {
		fixes = append(fixes, fmt.Sprintf("step %d (%d%%) for %s instead of %s%s", last.Step, last.Weight, last.DurationNeeded, last.Duration, cf))
	}
	if len(fixes) == 0 && rep.tolerated() {
		return fmt.Sprintf("too weak: %s (target %.2f), and no plan can do better: the judge tolerates this regression (error margin +%s, latency +%.3g%%); lower the margin or fear a larger regression",
			have, rep.Target, pts(rep.ErrorMargin), 100*rep.LatencyAllowed)
	}
	if len(fixes) == 0 {
		return fmt.Sprintf("too weak: %s (target %.2f), and no weight or length at %g rps reaches it: send more traffic", have, rep.Target, rep.Rate)
	}
	return fmt.Sprintf("too weak: %s (target %.2f); it would reach %.2f with %s", have, rep.Target, rep.Target, strings.Join(fixes, ", or "))
}

// tolerated reports whether every part of the regression is within the
// judge's allowances, so that no sample size detects it.
func (rep *Report) tolerated() bool {
	r, p := rep.Reg, rep.Plan
	errOK := r.ErrorAbs == 0 && r.ErrorRel == 0 || p.BaselineErrorRate*r.ErrorRel+r.ErrorAbs <= p.ErrorMargin
	latOK := r.LatencyRatio == 0 || r.LatencyRatio <= 1+p.LatencyAllowed
	return errOK && latOK
}

// pauseScale is the smallest factor on every step's duration at which the
// plan reaches target (0 when none up to 10,000 does).
func pauseScale(p analysis.Plan, r analysis.Regression, target float64) float64 {
	power := func(k float64) float64 {
		q := p
		q.Steps = make([]analysis.PlanStep, len(p.Steps))
		for i, s := range p.Steps {
			q.Steps[i] = analysis.PlanStep{Weight: s.Weight, Duration: max(time.Millisecond, time.Duration(float64(s.Duration)*k))}
		}
		pp, err := q.Power(r)
		if err != nil {
			return 0
		}
		return pp.Overall
	}
	lo, hi := 1e-3, 1e4
	if power(lo) >= target {
		return lo
	}
	if power(hi) < target {
		return 0
	}
	for hi-lo > 1e-4*hi {
		m := (lo + hi) / 2
		if power(m) >= target {
			hi = m
		} else {
			lo = m
		}
	}
	return hi
}

// mcPauseScale refines the closed form's pause factor k0 for a plan whose
// steps have so few errors that the judge's exact test needs more: it tries
// k0, k0·1.15, ... (at most 16 tries) until the simulated judge reaches the
// target. It gives up when the simulation would cost too much.
func mcPauseScale(p analysis.Plan, r analysis.Regression, target, k0 float64, trials int, seed uint64, budget float64) (float64, bool) {
	spent := 0.0
	for k, i := max(k0, 1e-3), 0; i < 16; k, i = k*1.15, i+1 {
		q := p
		q.Steps = make([]analysis.PlanStep, len(p.Steps))
		perTrial := 0.0
		for j, s := range p.Steps {
			q.Steps[j] = analysis.PlanStep{Weight: s.Weight, Duration: time.Duration(float64(s.Duration) * k)}
			perTrial += p.Rate * q.Steps[j].Duration.Seconds()
		}
		if spent += perTrial * float64(trials); spent > budget {
			return 0, false
		}
		pp, err := q.MonteCarlo(r, trials, seed)
		if err != nil {
			return 0, false
		}
		if pp.Overall >= target {
			return k, true
		}
	}
	return 0, false
}

// CanaryExpectation is the scenario's first canary_power expectation.
func CanaryExpectation(sc *scenarios.Scenario) *scenarios.Expectation {
	if sc == nil {
		return nil
	}
	for _, e := range sc.Expectations {
		if e != nil && e.Kind == scenarios.ExpectCanaryPower && e.Regression != nil {
			return e
		}
	}
	return nil
}

func ToRegression(r *scenarios.Regression) analysis.Regression {
	if r == nil {
		return analysis.Regression{}
	}
	out := analysis.Regression{ErrorAbs: r.ErrorRateIncrease, LatencyRatio: r.LatencyRatio}
	if r.ErrorRateRatio != 0 {
		out.ErrorRel = r.ErrorRateRatio - 1
	}
	return out
}

// describeEffect says what the regression means for this baseline.
func describeEffect(base float64, r analysis.Regression) string {
	var parts []string
	if r.ErrorAbs != 0 || r.ErrorRel != 0 {
		parts = append(parts, fmt.Sprintf("error rate %s -> %s", pct(base), pct(math.Min(1, base*(1+r.ErrorRel)+r.ErrorAbs))))
	}
	if r.LatencyRatio != 0 && r.LatencyRatio != 1 {
		parts = append(parts, fmt.Sprintf("latency x%.3g", r.LatencyRatio))
	}
	return strings.Join(parts, " and ")
}

// judgeAllowances are the default judge's error margin and latency
// allowance, so that power is computed for the judge that will run.
func judgeAllowances() (errMargin, latAllowed float64) {
	latAllowed = 0.1
	for _, m := range analysis.DefaultMetrics() {
		switch m.Kind {
		case analysis.MetricErrorRate:
			errMargin = m.Allowed
		case analysis.MetricLatency:
			latAllowed = m.Allowed
		}
	}
	return errMargin, latAllowed
}

func pct(x float64) string { return fmt.Sprintf("%.3g%%", 100*x) }
func pts(x float64) string { return fmt.Sprintf("%.3g points", 100*x) }

func ptr(x float64) *float64 { return &x }

func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

func orDefault(x, def float64) float64 {
	if x == 0 {
		return def
	}
	return x
}

func orPtr(x *float64, def float64) float64 {
	if x == nil {
		return def
	}
	return *x
}

// roundDur keeps advice readable: whole seconds above a minute.
func roundDur(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}
