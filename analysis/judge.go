package analysis

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/firedrill/firedrill/record"
)

// Class is a metric's outcome in the canary judge.
type Class string

// Metric classes, as in Kayenta.
const (
	ClassPass   Class = "pass"   // no significant increase beyond the allowance
	ClassHigh   Class = "high"   // canary significantly worse (higher)
	ClassLow    Class = "low"    // canary significantly better; counts as passing
	ClassNoData Class = "nodata" // too few samples in an arm to judge
)

// Verdict is the judge's overall answer.
type Verdict string

// Verdicts.
const (
	VerdictPass     Verdict = "pass"
	VerdictMarginal Verdict = "marginal"
	VerdictFail     Verdict = "fail"
	// VerdictNoData: no metric had enough data. Neither promote nor roll
	// back on it: wait for traffic.
	VerdictNoData Verdict = "nodata"
)

// MetricKind says what a metric measures and so which test judges it.
type MetricKind string

// Metric kinds.
const (
	// MetricErrorRate compares error ratios (record.Sample.OK is success).
	MetricErrorRate MetricKind = "error_rate"
	// MetricLatency compares the latencies of successful requests with a
	// Mann-Whitney U test.
	MetricLatency MetricKind = "latency"
)

// MetricSpec is one metric the judge compares.
type MetricSpec struct {
	Name  string
	Kind  MetricKind
	Group string // weights apply per group; "" is a group of its own
	// Critical metrics fail the canary alone when classed high.
	Critical bool
	// Allowed is the tolerated worsening before a metric counts as high:
	// for MetricErrorRate an absolute increase of the error ratio (0.005
	// is half a percentage point), for MetricLatency a relative increase
	// (0.1 lets the canary be 10% slower).
	Allowed float64
	// MinSamples per arm below which the metric is nodata (0: the
	// config's MinSamples).
	MinSamples int
}

// JudgeConfig configures the fixed-horizon canary judge.
type JudgeConfig struct {
	// Alpha is each metric's one-sided significance level (default 0.05).
	Alpha float64
	// Metrics to compare (default DefaultMetrics()).
	Metrics []MetricSpec
	// GroupWeights weighs metric groups in the score; a group missing
	// here weighs 1.
	GroupWeights map[string]float64
	// PassScore and MarginalScore (0..100) split the verdict
	// (defaults 95 and 75).
	PassScore     float64
	MarginalScore float64
	// MinSamples per arm for a metric to have data (default 10).
	MinSamples int

	// classOnly skips effect estimates (Hodges-Lehmann), which do not
	// change any class: Monte-Carlo runs only need the verdicts.
	classOnly bool
}

// DefaultMetrics is the judge's default metric set: the error rate
// (critical, no allowance) and latency (10% allowance).
func DefaultMetrics() []MetricSpec {
	return []MetricSpec{
		{Name: "error rate", Kind: MetricErrorRate, Group: "errors", Critical: true},
		{Name: "latency", Kind: MetricLatency, Group: "latency", Allowed: 0.10},
	}
}

// WithDefaults returns c with zero fields set to their defaults.
func (c JudgeConfig) WithDefaults() JudgeConfig {
	if c.Alpha == 0 {
		c.Alpha = 0.05
	}
	if len(c.Metrics) == 0 {
		c.Metrics = DefaultMetrics()
	}
	if c.PassScore == 0 {
		c.PassScore = 95
	}
	if c.MarginalScore == 0 {
		c.MarginalScore = 75
	}
	if c.MinSamples == 0 {
		c.MinSamples = 10
	}
	return c
}

// Validate reports configuration mistakes (after defaults).
func (c JudgeConfig) Validate() error {
	var errs []error
	if c.Alpha <= 0 || c.Alpha >= 0.5 {
		errs = append(errs, fmt.Errorf("judge alpha %g out of range: use a value in (0, 0.5), e.g. 0.05", c.Alpha))
	}
	if c.MarginalScore > c.PassScore || c.PassScore > 100 || c.MarginalScore < 0 {
		errs = append(errs, fmt.Errorf("judge scores must satisfy 0 <= marginal (%g) <= pass (%g) <= 100", c.MarginalScore, c.PassScore))
	}
	for g, w := range c.GroupWeights {
		if w < 0 || math.IsNaN(w) {
			errs = append(errs, fmt.Errorf("weight of metric group %q is %g: use a non-negative number", g, w))
		}
	}
	names := map[string]bool{}
	for _, m := range c.Metrics {
		if names[m.Name] {
			errs = append(errs, fmt.Errorf("metric %q appears twice: give each metric its own name", m.Name))
		}
		names[m.Name] = true
		switch m.Kind {
		case MetricErrorRate:
			if m.Allowed < 0 || m.Allowed >= 1 {
				errs = append(errs, fmt.Errorf("metric %q: allowed error-rate increase %g must be an absolute rate in [0, 1)", m.Name, m.Allowed))
			}
		case MetricLatency:
			if m.Allowed < 0 {
				errs = append(errs, fmt.Errorf("metric %q: allowed latency increase %g must be >= 0 (0.1 = 10%%)", m.Name, m.Allowed))
			}
		default:
			errs = append(errs, fmt.Errorf("metric %q: unknown kind %q (use %q or %q)", m.Name, m.Kind, MetricErrorRate, MetricLatency))
		}
	}
	return errors.Join(errs...)
}

// MetricResult is one metric's comparison.
type MetricResult struct {
	Name     string
	Group    string
	Critical bool
	Class    Class
	// Method names the test used (e.g. "fisher-exact", "mann-whitney").
	Method string
	PValue float64
	// Effect is the canary's change: for an error rate the difference of
	// rates (canary - baseline), for latency the Hodges-Lehmann ratio
	// canary/baseline (the median of pairwise ratios).
	Effect float64
	// CI is Effect's interval at level 1-2·alpha (its lower end is the
	// one-sided bound matching the test).
	CI                 [2]float64
	BaselineN, CanaryN int
	// Baseline and Canary are the arms' error rates or median latencies
	// (in milliseconds) for display.
	Baseline, Canary float64
	Detail           string
}

// Judgement is the judge's answer for one comparison.
type Judgement struct {
	// Score is 100 × the weighted share of passing metrics among those
	// with data (groups weighted, metrics equal within a group).
	Score   float64
	Verdict Verdict
	Reason  string
	Metrics []MetricResult
}

// Judge compares the canary's samples with the baseline's (the old version
// serving at the same time) metric by metric. Each metric is classed by a
// one-sided test at cfg.Alpha; the score weighs groups; a critical metric
// classed high fails the canary regardless of the score.
func Judge(cfg JudgeConfig, baseline, canary []record.Sample) (Judgement, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return Judgement{}, err
	}
	j := Judgement{Metrics: make([]MetricResult, 0, len(cfg.Metrics))}
	for _, m := range cfg.Metrics {
		minN := m.MinSamples
		if minN == 0 {
			minN = cfg.MinSamples
		}
		var r MetricResult
		switch m.Kind {
		case MetricErrorRate:
			r = judgeErrorRate(m, cfg.Alpha, minN, baseline, canary)
		case MetricLatency:
			r = judgeLatency(m, cfg.Alpha, minN, baseline, canary, cfg.classOnly)
		}
		r.Name, r.Group, r.Critical = m.Name, m.Group, m.Critical
		j.Metrics = append(j.Metrics, r)
	}
	score, ok := scoreMetrics(j.Metrics, cfg.GroupWeights)
	j.Score = score
	var critical []string
	for _, r := range j.Metrics {
		if r.Critical && r.Class == ClassHigh {
			critical = append(critical, r.Name)
		}
	}
	switch {
	case len(critical) > 0:
		j.Verdict = VerdictFail
		j.Reason = "critical metric high: " + strings.Join(critical, ", ")
	case !ok:
		j.Verdict = VerdictNoData
		j.Reason = "no metric had enough samples in both arms"
	case score >= cfg.PassScore:
		j.Verdict = VerdictPass
		j.Reason = fmt.Sprintf("score %.0f >= pass %.0f", score, cfg.PassScore)
	case score >= cfg.MarginalScore:
		j.Verdict = VerdictMarginal
		j.Reason = fmt.Sprintf("score %.0f in [marginal %.0f, pass %.0f)", score, cfg.MarginalScore, cfg.PassScore)
	default:
		j.Verdict = VerdictFail
		j.Reason = fmt.Sprintf("score %.0f < marginal %.0f", score, cfg.MarginalScore)
	}
	return j, nil
}

// scoreMetrics returns 100 × Σ_g w_g·share_g / Σ_g w_g over groups with at
// least one metric with data; ok is false when no group has data.
func scoreMetrics(ms []MetricResult, weights map[string]float64) (float64, bool) {
	type tally struct{ pass, data int }
	groups := map[string]*tally{}
	for _, r := range ms {
		t := groups[r.Group]
		if t == nil {
			t = &tally{}
			groups[r.Group] = t
		}
		if r.Class == ClassNoData {
			continue
		}
		t.data++
		if r.Class == ClassPass || r.Class == ClassLow {
			t.pass++
		}
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names) // a fixed summation order keeps the score reproducible
	var num, den float64
	for _, g := range names {
		t := groups[g]
		if t.data == 0 {
			continue
		}
		w, set := weights[g]
		if !set {
			w = 1
		}
		num += w * float64(t.pass) / float64(t.data)
		den += w
	}
	if den == 0 {
		return 0, false
	}
	return 100 * num / den, true
}
