package analysis

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func errorJudge(margin float64) JudgeConfig {
	return JudgeConfig{Metrics: []MetricSpec{{Name: "errors", Kind: MetricErrorRate, Critical: true, Allowed: margin}}}
}

func latencyJudge(allowed float64) JudgeConfig {
	return JudgeConfig{Metrics: []MetricSpec{{Name: "latency", Kind: MetricLatency, Critical: true, Allowed: allowed}}}
}

// The seeded Monte-Carlo power of the judge itself must agree with the
// closed forms (two proportions; Noether) within 3 percentage points on a
// grid of cases. 1,500 trials give a Monte-Carlo standard error of at most
// 1.3 points.
func TestMonteCarloPowerMatchesClosedForm(t *testing.T) {
	const trials, alpha = 1500, 0.05
	lat := func(med time.Duration, sd float64) ArmModel {
		return ArmModel{LatencyMedian: med, LatencyLogSD: sd}
	}
	cases := []struct {
		name   string
		cfg    MonteCarloConfig
		closed float64
	}{
		{"errors 1%->2%, 1500/1500", MonteCarloConfig{Judge: errorJudge(0), BaselineN: 1500, CanaryN: 1500,
			Baseline: ArmModel{ErrorRate: 0.01}, Canary: ArmModel{ErrorRate: 0.02}},
			TwoProportions{P1: 0.01, P2: 0.02, Alpha: alpha, Alt: Greater}.Power(1500)},
		{"errors 5%->7%, 1000/1000", MonteCarloConfig{Judge: errorJudge(0), BaselineN: 1000, CanaryN: 1000,
			Baseline: ArmModel{ErrorRate: 0.05}, Canary: ArmModel{ErrorRate: 0.07}},
			TwoProportions{P1: 0.05, P2: 0.07, Alpha: alpha, Alt: Greater}.Power(1000)},
		{"errors 1%->2%, 10% canary 9000/1000", MonteCarloConfig{Judge: errorJudge(0), BaselineN: 9000, CanaryN: 1000,
			Baseline: ArmModel{ErrorRate: 0.01}, Canary: ArmModel{ErrorRate: 0.02}},
			TwoProportions{P1: 0.01, P2: 0.02, Alpha: alpha, Alt: Greater, Ratio: 1000.0 / 9000}.Power(9000)},
		{"errors 2%->3.5%, margin 0.5pp, 3000/3000", MonteCarloConfig{Judge: errorJudge(0.005), BaselineN: 3000, CanaryN: 3000,
			Baseline: ArmModel{ErrorRate: 0.02}, Canary: ArmModel{ErrorRate: 0.035}},
			TwoProportions{P1: 0.02, P2: 0.035, Alpha: alpha, Alt: Greater, Margin: 0.005}.Power(3000)},
		{"latency x1.15, sd 0.5, 100/100", MonteCarloConfig{Judge: latencyJudge(0), BaselineN: 100, CanaryN: 100,
			Baseline: lat(50*time.Millisecond, 0.5), Canary: lat(57500*time.Microsecond, 0.5)},
			MannWhitneyDesign{PSup: LognormalPSup(1.15, 0.5), Alpha: alpha, Alt: Greater}.Power(100)},
		{"latency x1.3 allowed 10%, sd 0.5, 320/80", MonteCarloConfig{Judge: latencyJudge(0.10), BaselineN: 320, CanaryN: 80,
			Baseline: lat(40*time.Millisecond, 0.5), Canary: lat(52*time.Millisecond, 0.5)},
			MannWhitneyDesign{PSup: LognormalPSup(1.3/1.1, 0.5), Alpha: alpha, Alt: Greater, Ratio: 0.25}.Power(320)},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := MonteCarloPower(c.cfg, trials, uint64(100+i))
			require.NoError(t, err)
			t.Logf("%s: monte-carlo %.3f, closed form %.3f", c.name, r.Fail, c.closed)
			assert.InDelta(t, c.closed, r.Fail, 0.03)
		})
	}
}

// A healthy canary (A/A) is classed high about alpha of the time per metric.
func TestMonteCarloHealthyCanaryFalseAlarms(t *testing.T) {
	const trials, alpha = 1000, 0.05
	arm := ArmModel{ErrorRate: 0.02, LatencyMedian: 30 * time.Millisecond, LatencyLogSD: 0.6}
	r, err := MonteCarloPower(MonteCarloConfig{BaselineN: 500, CanaryN: 500, Baseline: arm, Canary: arm}, trials, 9)
	require.NoError(t, err)
	tol := 3 * math.Sqrt(alpha*(1-alpha)/trials)
	t.Logf("A/A: high share error rate %.3f, latency %.3f; verdict fail %.3f", r.High["error rate"], r.High["latency"], r.Fail)
	// With the default 10% latency allowance the latency test is far from
	// its boundary; the error test sits on it.
	assert.LessOrEqual(t, r.High["error rate"], alpha+tol)
	assert.LessOrEqual(t, r.High["latency"], alpha+tol)
	assert.Less(t, r.Fail, 2*alpha+tol)
}

func TestMonteCarloIsSeeded(t *testing.T) {
	cfg := MonteCarloConfig{Judge: errorJudge(0), BaselineN: 500, CanaryN: 500,
		Baseline: ArmModel{ErrorRate: 0.02}, Canary: ArmModel{ErrorRate: 0.04}}
	a, err := MonteCarloPower(cfg, 200, 1)
	require.NoError(t, err)
	b, err := MonteCarloPower(cfg, 200, 1)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	_, err = MonteCarloPower(cfg, 0, 1)
	assert.Error(t, err)
}
