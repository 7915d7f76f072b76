package analysis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func metric(j Judgement, name string) MetricResult {
	for _, m := range j.Metrics {
		if m.Name == name {
			return m
		}
	}
	return MetricResult{}
}

func TestJudgeSlowCanaryIsHighAndWeighted(t *testing.T) {
	base := arm(2000, 0, time.Millisecond, everyKth(100), spread(20*time.Millisecond, 1))
	can := arm(500, 0, time.Millisecond, everyKth(100), spread(20*time.Millisecond, 1.5))

	j, err := Judge(JudgeConfig{}, base, can)
	require.NoError(t, err)
	lat := metric(j, "latency")
	assert.Equal(t, ClassHigh, lat.Class)
	// The same spread scaled by 1.5: by symmetry the median pairwise ratio
	// is exactly 1.5 (up to microsecond rounding).
	assert.InDelta(t, 1.5, lat.Effect, 0.001)
	assert.Less(t, lat.CI[0], 1.5+1e-3)
	assert.Greater(t, lat.CI[1], 1.5-1e-3)
	assert.Equal(t, ClassPass, metric(j, "error rate").Class)
	// Two groups of weight 1, one passing: score 50 -> fail.
	assert.InDelta(t, 50, j.Score, 1e-9)
	assert.Equal(t, VerdictFail, j.Verdict)

	// Weigh errors 9 to latency 1: score 90 -> marginal.
	j, err = Judge(JudgeConfig{GroupWeights: map[string]float64{"errors": 9, "latency": 1}}, base, can)
	require.NoError(t, err)
	assert.InDelta(t, 90, j.Score, 1e-9)
	assert.Equal(t, VerdictMarginal, j.Verdict)

	// A 60% latency allowance covers a 1.5x slowdown.
	cfg := JudgeConfig{Metrics: []MetricSpec{{Name: "latency", Kind: MetricLatency, Allowed: 0.6}}}
	j, err = Judge(cfg, base, can)
	require.NoError(t, err)
	assert.NotEqual(t, ClassHigh, metric(j, "latency").Class)
	assert.Equal(t, VerdictPass, j.Verdict)
}

func TestJudgeCriticalMetricFailsAlone(t *testing.T) {
	base := arm(3000, 0, time.Millisecond, everyKth(100), spread(20*time.Millisecond, 1)) // 1%
	can := arm(1000, 0, time.Millisecond, everyKth(20), spread(20*time.Millisecond, 1))   // 5%
	cfg := JudgeConfig{GroupWeights: map[string]float64{"errors": 1, "latency": 100}}
	j, err := Judge(cfg, base, can)
	require.NoError(t, err)
	er := metric(j, "error rate")
	assert.Equal(t, ClassHigh, er.Class)
	assert.Equal(t, MethodPooledZ, er.Method)
	assert.InDelta(t, 0.04, er.Effect, 1e-12)
	assert.Greater(t, j.Score, 95.0, "latency dominates the score")
	assert.Equal(t, VerdictFail, j.Verdict, "but the critical error rate fails the canary")
	assert.Contains(t, j.Reason, "error rate")
}

func TestJudgeLowAndNoData(t *testing.T) {
	base := arm(400, 0, time.Millisecond, everyKth(10), spread(20*time.Millisecond, 1.5))
	can := arm(400, 0, time.Millisecond, nil, spread(20*time.Millisecond, 1))
	j, err := Judge(JudgeConfig{}, base, can)
	require.NoError(t, err)
	assert.Equal(t, ClassLow, metric(j, "latency").Class)
	assert.Equal(t, ClassLow, metric(j, "error rate").Class)
	assert.Equal(t, VerdictPass, j.Verdict, "better is passing")
	assert.InDelta(t, 100, j.Score, 1e-9)

	j, err = Judge(JudgeConfig{}, base, can[:5])
	require.NoError(t, err)
	assert.Equal(t, ClassNoData, metric(j, "latency").Class)
	assert.Equal(t, VerdictNoData, j.Verdict)

	// Small counts switch the error test to Fisher's exact test.
	j, err = Judge(JudgeConfig{}, base[:50], can[:50])
	require.NoError(t, err)
	assert.Equal(t, MethodFisher, metric(j, "error rate").Method)
}

func TestJudgeConfigValidation(t *testing.T) {
	bad := []JudgeConfig{
		{Alpha: 0.7},
		{PassScore: 50, MarginalScore: 80},
		{Metrics: []MetricSpec{{Name: "x", Kind: "cpu"}}},
		{Metrics: []MetricSpec{{Name: "x", Kind: MetricErrorRate}, {Name: "x", Kind: MetricLatency}}},
		{Metrics: []MetricSpec{{Name: "x", Kind: MetricErrorRate, Allowed: 2}}},
		{GroupWeights: map[string]float64{"errors": -1}},
	}
	for _, c := range bad {
		_, err := Judge(c, nil, nil)
		assert.Error(t, err, "%+v", c)
	}
	assert.NoError(t, JudgeConfig{}.WithDefaults().Validate())
}
