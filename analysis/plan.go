package analysis

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// PlanStep is one canary step: Weight percent of the traffic to the canary
// for Duration, judged on that step's samples.
type PlanStep struct {
	Weight   int
	Duration time.Duration
}

// Plan is a canary rollout plan and what the judge knows about the service,
// for answering "could this plan catch the regression I fear?" before the
// release. Each step is judged once, fixed-horizon, on its own samples at
// level Alpha per metric; the canary is caught if any step catches it.
type Plan struct {
	// Rate is the requests per second reaching the service (all versions).
	Rate  float64
	Steps []PlanStep
	// Alpha is each metric's one-sided level per step (default 0.05).
	Alpha float64
	// BaselineErrorRate is the old version's error ratio (e.g. measured in
	// a previous run).
	BaselineErrorRate float64
	// ErrorMargin is the judge's allowed absolute error-rate increase.
	ErrorMargin float64
	// LatencyLogSD is the standard deviation of ln(latency) of successful
	// requests (see LatencyLogSD; 0.5 is a typical service).
	LatencyLogSD float64
	// LatencyAllowed is the judge's allowed relative latency increase.
	LatencyAllowed float64
}

// Regression is the change the canary is feared to bring. Set one or more
// parts; a step detects the regression if any affected metric does.
type Regression struct {
	// ErrorAbs is an absolute error-rate increase (0.01 = +1 point).
	ErrorAbs float64
	// ErrorRel is a relative error-rate increase (1 = doubled); it adds to
	// ErrorAbs.
	ErrorRel float64
	// LatencyRatio is canary/baseline latency (1.2 = 20% slower); 0 or 1
	// is no latency change.
	LatencyRatio float64
}

// RegressionKind selects the one dimension MinDetectable searches.
type RegressionKind int

// Regression dimensions.
const (
	ByErrorAbs RegressionKind = iota
	ByErrorRel
	ByLatencyRatio
)

// StepPower is one step's sizes and detection probabilities.
type StepPower struct {
	Step               int
	Weight             int
	Duration           time.Duration
	BaselineN, CanaryN float64
	ErrorPower         float64 // NaN when the regression has no error part
	LatencyPower       float64 // NaN when it has no latency part
	Power              float64
	// SmallCounts: the step expects so few errors that the judge will use
	// an exact test, which is more conservative than the closed form; trust
	// Plan.MonteCarlo for this step.
	SmallCounts bool
}

// PlanPower is the plan's power against one regression.
type PlanPower struct {
	Steps []StepPower
	// Overall is P(some step detects) = 1 - Π(1 - step power); steps use
	// disjoint samples, so they are independent.
	Overall float64
	// FalseAlarmBound bounds the chance that a healthy canary fails some
	// step: 1 - (1-α)^(steps × metrics judged).
	FalseAlarmBound float64
}

func (p Plan) withDefaults() Plan {
	if p.Alpha == 0 {
		p.Alpha = 0.05
	}
	return p
}

// Validate reports what is wrong with the plan.
func (p Plan) Validate() error {
	var errs []error
	if p.Rate <= 0 {
		errs = append(errs, fmt.Errorf("plan rate %g rps: give the requests per second the service receives", p.Rate))
	}
	if len(p.Steps) == 0 {
		errs = append(errs, errors.New("plan has no steps: add at least one (weight, duration)"))
	}
	for i, s := range p.Steps {
		if s.Weight <= 0 || s.Weight >= 100 || s.Duration <= 0 {
			errs = append(errs, fmt.Errorf("step %d: weight %d%% must be in 1..99 and duration %s positive", i+1, s.Weight, s.Duration))
		}
	}
	if p.Alpha <= 0 || p.Alpha >= 0.5 {
		errs = append(errs, fmt.Errorf("plan alpha %g out of range: use (0, 0.5), e.g. 0.05", p.Alpha))
	}
	if p.BaselineErrorRate < 0 || p.BaselineErrorRate >= 1 {
		errs = append(errs, fmt.Errorf("baseline error rate %g out of range [0, 1)", p.BaselineErrorRate))
	}
	if p.LatencyLogSD < 0 || p.LatencyAllowed < 0 || p.ErrorMargin < 0 {
		errs = append(errs, errors.New("latency log-sd, latency allowance and error margin must be >= 0"))
	}
	return errors.Join(errs...)
}

func (r Regression) hasError() bool   { return r.ErrorAbs != 0 || r.ErrorRel != 0 }
func (r Regression) hasLatency() bool { return r.LatencyRatio != 0 && r.LatencyRatio != 1 }

// stepPower computes one step's detection probabilities.
func (p Plan) stepPower(i int, s PlanStep, r Regression) StepPower {
	secs := s.Duration.Seconds()
	sp := StepPower{
		Step: i + 1, Weight: s.Weight, Duration: s.Duration,
		BaselineN:  p.Rate * float64(100-s.Weight) / 100 * secs,
		CanaryN:    p.Rate * float64(s.Weight) / 100 * secs,
		ErrorPower: math.NaN(), LatencyPower: math.NaN(),
	}
	miss := 1.0
	if r.hasError() {
		pc := math.Min(1, p.BaselineErrorRate*(1+r.ErrorRel)+r.ErrorAbs)
		sp.ErrorPower = 0
		nb, nc := int(math.Round(sp.BaselineN)), int(math.Round(sp.CanaryN))
		sp.SmallCounts = SmallCounts(nb, int(math.Round(sp.BaselineN*p.BaselineErrorRate)), nc, int(math.Round(sp.CanaryN*pc)))
		if sp.CanaryN >= 1 && sp.BaselineN >= 1 {
			d := TwoProportions{P1: p.BaselineErrorRate, P2: pc, Alpha: p.Alpha, Alt: Greater, Margin: p.ErrorMargin, Ratio: sp.CanaryN / sp.BaselineN}
			sp.ErrorPower = d.Power(sp.BaselineN)
		}
		miss *= 1 - sp.ErrorPower
	}
	if r.hasLatency() {
		sp.LatencyPower = 0
		okB, okC := sp.BaselineN*(1-p.BaselineErrorRate), sp.CanaryN*(1-p.BaselineErrorRate)
		if okB >= 1 && okC >= 1 {
			d := MannWhitneyDesign{PSup: LognormalPSup(r.LatencyRatio/(1+p.LatencyAllowed), p.LatencyLogSD), Alpha: p.Alpha, Alt: Greater, Ratio: okC / okB}
			sp.LatencyPower = d.Power(okB)
		}
		miss *= 1 - sp.LatencyPower
	}
	sp.Power = 1 - miss
	return sp
}

// Power computes the plan's power against r, per step and overall.
func (p Plan) Power(r Regression) (PlanPower, error) {
	p = p.withDefaults()
	if err := p.Validate(); err != nil {
		return PlanPower{}, err
	}
	if !r.hasError() && !r.hasLatency() {
		return PlanPower{}, errors.New("regression is empty: set an error-rate increase or a latency ratio")
	}
	var out PlanPower
	miss := 1.0
	metrics := 0
	if r.hasError() {
		metrics++
	}
	if r.hasLatency() {
		metrics++
	}
	for i, s := range p.Steps {
		sp := p.stepPower(i, s, r)
		out.Steps = append(out.Steps, sp)
		miss *= 1 - sp.Power
	}
	out.Overall = 1 - miss
	out.FalseAlarmBound = 1 - math.Pow(1-p.Alpha, float64(len(p.Steps)*metrics))
	return out, nil
}

// MinDetectable returns the smallest regression along kind that the plan
// detects with overall probability target (e.g. 0.8): an absolute or
// relative error-rate increase, or a latency ratio.
func (p Plan) MinDetectable(kind RegressionKind, target float64) (float64, error) {
	p = p.withDefaults()
	if err := p.Validate(); err != nil {
		return math.NaN(), err
	}
	if target <= 0 || target >= 1 {
		return math.NaN(), fmt.Errorf("target power %g out of range: use (0, 1), e.g. 0.8", target)
	}
	var mk func(float64) Regression
	var lo, hi float64
	switch kind {
	case ByErrorAbs:
		mk = func(x float64) Regression { return Regression{ErrorAbs: x} }
		lo, hi = 0, 1-p.BaselineErrorRate
	case ByErrorRel:
		if p.BaselineErrorRate == 0 {
			return math.NaN(), errors.New("a relative error increase of a zero baseline error rate is zero: search by absolute increase instead")
		}
		mk = func(x float64) Regression { return Regression{ErrorRel: x} }
		lo, hi = 0, (1-p.BaselineErrorRate)/p.BaselineErrorRate
	case ByLatencyRatio:
		mk = func(x float64) Regression { return Regression{LatencyRatio: x} }
		lo, hi = 1, 1000
	default:
		return math.NaN(), fmt.Errorf("unknown regression kind %d", kind)
	}
	f := func(x float64) float64 {
		if x == lo {
			return 0 // no regression is detected with probability ~alpha, not a finding
		}
		pp, err := p.Power(mk(x))
		if err != nil {
			return 0
		}
		return pp.Overall
	}
	x, err := solveIncreasing(f, lo, hi, target)
	if err != nil {
		return math.NaN(), fmt.Errorf("no regression of this kind reaches power %g with this plan: add traffic, weight or time", target)
	}
	return x, nil
}

// DurationFor returns the duration step (0-based) needs, at its weight, to
// detect r with probability target on its own.
func (p Plan) DurationFor(step int, r Regression, target float64) (time.Duration, error) {
	p = p.withDefaults()
	if step < 0 || step >= len(p.Steps) {
		return 0, fmt.Errorf("step %d out of range: the plan has %d steps", step, len(p.Steps))
	}
	if err := p.Validate(); err != nil {
		return 0, err
	}
	s := p.Steps[step]
	f := func(secs float64) float64 {
		s.Duration = time.Duration(secs * float64(time.Second))
		return p.stepPower(step, s, r).Power
	}
	const maxSecs = 30 * 24 * 3600
	secs, err := solveIncreasing(f, 0.001, maxSecs, target)
	if err != nil {
		return 0, fmt.Errorf("step %d at %d%% cannot reach power %g within 30 days: raise its weight or the traffic", step+1, s.Weight, target)
	}
	return time.Duration(math.Ceil(secs)) * time.Second, nil
}

// WeightFor returns the smallest whole-percent weight at which step
// (0-based), for its duration, detects r with probability target.
func (p Plan) WeightFor(step int, r Regression, target float64) (int, error) {
	p = p.withDefaults()
	if step < 0 || step >= len(p.Steps) {
		return 0, fmt.Errorf("step %d out of range: the plan has %d steps", step, len(p.Steps))
	}
	if err := p.Validate(); err != nil {
		return 0, err
	}
	s := p.Steps[step]
	for w := 1; w <= 99; w++ {
		s.Weight = w
		if p.stepPower(step, s, r).Power >= target {
			return w, nil
		}
	}
	return 0, fmt.Errorf("step %d over %s cannot reach power %g at any weight: lengthen it", step+1, s.Duration, target)
}

// LatencyLogSD estimates the standard deviation of ln(latency) of
// successful requests robustly, as the interquartile range of the logs over
// 1.349 (the IQR of a unit normal), so a few timeouts do not inflate it.
func LatencyLogSD(latencies []time.Duration) float64 {
	if len(latencies) < 4 {
		return math.NaN()
	}
	l := make([]float64, len(latencies))
	for i, d := range latencies {
		l[i] = math.Log(math.Max(float64(d/time.Microsecond), 1))
	}
	return (quantileFloat(l, 0.75) - quantileFloat(l, 0.25)) / 1.3489795
}

// judgeFor is the judge a plan implies for r: one critical metric per
// part of the regression, at the plan's alpha and allowances.
func (p Plan) judgeFor(r Regression) JudgeConfig {
	var ms []MetricSpec
	if r.hasError() {
		ms = append(ms, MetricSpec{Name: "error rate", Kind: MetricErrorRate, Critical: true, Allowed: p.ErrorMargin})
	}
	if r.hasLatency() {
		ms = append(ms, MetricSpec{Name: "latency", Kind: MetricLatency, Critical: true, Allowed: p.LatencyAllowed})
	}
	return JudgeConfig{Alpha: p.Alpha, Metrics: ms, MinSamples: 1}
}

// MonteCarlo estimates the plan's power against r by running the judge
// itself on trials simulated copies of every step (seeded). Unlike Power it
// includes what the closed forms leave out, such as the exact test the judge
// switches to when a step has few errors; it costs trials × requests per
// step.
func (p Plan) MonteCarlo(r Regression, trials int, seed uint64) (PlanPower, error) {
	p = p.withDefaults()
	if err := p.Validate(); err != nil {
		return PlanPower{}, err
	}
	if !r.hasError() && !r.hasLatency() {
		return PlanPower{}, errors.New("regression is empty: set an error-rate increase or a latency ratio")
	}
	jc := p.judgeFor(r)
	ratio := r.LatencyRatio
	if !r.hasLatency() {
		ratio = 1
	}
	// Latency tests are scale-free, so any median will do.
	const med = 10 * time.Millisecond
	base := ArmModel{ErrorRate: p.BaselineErrorRate, LatencyMedian: med, LatencyLogSD: p.LatencyLogSD}
	can := ArmModel{
		ErrorRate:     math.Min(1, p.BaselineErrorRate*(1+r.ErrorRel)+r.ErrorAbs),
		LatencyMedian: time.Duration(float64(med) * ratio),
		LatencyLogSD:  p.LatencyLogSD,
	}
	var out PlanPower
	miss := 1.0
	for i, s := range p.Steps {
		sp := p.stepPower(i, s, r) // sizes (and the closed forms, replaced below)
		nb, nc := int(math.Round(sp.BaselineN)), int(math.Round(sp.CanaryN))
		sp.ErrorPower, sp.LatencyPower, sp.Power = math.NaN(), math.NaN(), 0
		if nb >= 1 && nc >= 1 {
			mc, err := MonteCarloPower(MonteCarloConfig{Judge: jc, BaselineN: nb, CanaryN: nc, Baseline: base, Canary: can}, trials, seed+uint64(i))
			if err != nil {
				return PlanPower{}, err
			}
			sp.Power = mc.Fail
			if r.hasError() {
				sp.ErrorPower = mc.High["error rate"]
			}
			if r.hasLatency() {
				sp.LatencyPower = mc.High["latency"]
			}
		}
		out.Steps = append(out.Steps, sp)
		miss *= 1 - sp.Power
	}
	out.Overall = 1 - miss
	out.FalseAlarmBound = 1 - math.Pow(1-p.Alpha, float64(len(p.Steps)*len(jc.Metrics)))
	return out, nil
}
