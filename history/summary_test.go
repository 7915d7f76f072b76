package history

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// Reference values: Newcombe (1998), "Two-sided confidence intervals for
// the single proportion", Statistics in Medicine 17, Table I, method 3
// (Wilson score interval without continuity correction).
func TestWilsonAgainstNewcombe(t *testing.T) {
	for _, c := range []struct {
		x, n   int
		lo, hi float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0.0000, 0.1611},
		{1, 29, 0.0061, 0.1718},
	} {
		lo, hi := Wilson(c.x, c.n, 1.959963984540054)
		assert.InDelta(t, c.lo, lo, 0.00006, "%d/%d low", c.x, c.n)
		assert.InDelta(t, c.hi, hi, 0.00006, "%d/%d high", c.x, c.n)
	}
}

func TestMedian(t *testing.T) {
	assert.Nil(t, Median(nil))
	assert.Equal(t, 2.0, *Median([]float64{3, 1, 2}))
	assert.Equal(t, 2.5, *Median([]float64{4, 1, 3, 2}))
}

func TestSparkline(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	assert.Equal(t, "▁█ ▅", Sparkline([]*float64{f(0), f(7), nil, f(3.5)}))
	assert.Equal(t, "▅▅", Sparkline([]*float64{f(2), f(2)}))
	assert.Equal(t, "█▁·", VerdictLine([]Run{{Verdict: "GO"}, {Verdict: "NO-GO"}, {Verdict: "GO", Interrupted: true}}))
}

// A scenario's availability check flips P F P P on one file and version
// (2 flips in 3 pairs), holds on another file; nothing else flips.
func TestSummarize(t *testing.T) {
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	mk := func(i int, hash string, avail bool, detect, restore float64) Run {
		r := Run{Scenario: "quickstart", FileHash: hash, Version: "v2", Verdict: "GO",
			StartedAt: base.Add(time.Duration(i) * time.Hour), DetectS: &detect, RestoreS: &restore}
		if !avail {
			r.Verdict = "NO-GO"
		}
		r.Expectations = []Expectation{
			{Name: "rollout outcome is rolled_back", Kind: "rollout_outcome", Passed: true},
			{Name: "availability >= 0.98", Kind: "availability", Passed: avail},
		}
		return r
	}
	runs := []Run{
		mk(0, "a", true, 3, 3.1), mk(1, "a", false, 4, 4.2), mk(2, "b", false, 2, 2.5),
		mk(3, "a", true, 3.5, 3.6), mk(4, "b", false, 9, 9.1), mk(5, "a", true, 1, 1.1),
	}
	runs = append(runs, Run{Scenario: "smoke", Verdict: "GO", StartedAt: base})                                           // no rollout: not a release
	runs = append(runs, Run{Scenario: "quickstart", Version: "v2", Verdict: "NO-GO", Interrupted: true, StartedAt: base}) // Ctrl-C: not a failed change
	s := Summarize(runs)
	assert.Equal(t, 8, s.Runs)
	assert.Equal(t, 4, s.GO)
	assert.Equal(t, 4, s.NOGO)
	assert.InDelta(t, 3.0/6, *s.ChangeFailureRate, 1e-12)
	assert.InDelta(t, 3.35, *s.MTTRMedianS, 1e-12) // 1.1 2.5 3.1 3.6 4.2 9.1
	assert.InDelta(t, 3.25, *s.DetectMedianS, 1e-12)
	require.Len(t, s.Flaky, 1)
	f := s.Flaky[0]
	assert.Equal(t, "availability >= 0.98", f.Expectation)
	assert.Equal(t, "a", f.FileHash)
	assert.Equal(t, 4, f.Runs)
	assert.Equal(t, 3, f.Passed)
	assert.Equal(t, 2, f.Flips)
	assert.InDelta(t, 2.0/3, f.FlipRate, 1e-12)
	lo, hi := Wilson(2, 3, 1.959963984540054)
	assert.Equal(t, lo, f.FlipLow)
	assert.Equal(t, hi, f.FlipHigh)
}

// The baseline is the median of the GO runs' figures; the margin is a
// fraction of it.
func TestCompareRuns(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	base := []Run{{ID: 3, P99MS: f(100), RestoreS: f(3)}, {ID: 5, P99MS: f(300), RestoreS: nil}, {ID: 8, P99MS: f(200), RestoreS: f(5)}}
	cmp := &scenarios.Compare{P99Margin: f(0.2), RestoreMargin: f(0.25)}
	c := CompareRuns(Run{Scenario: "q", P99MS: f(241), RestoreS: f(5)}, base, cmp)
	assert.Equal(t, "#3,#5,#8", c.Label())
	require.Len(t, c.Checks, 2)
	p99, restore := c.Checks[0], c.Checks[1]
	assert.False(t, p99.Passed) // 241 > 200 * 1.2
	assert.InDelta(t, 240, *p99.Limit, 1e-9)
	assert.Equal(t, "baseline runs #3,#5,#8: median 200ms", p99.Detail)
	assert.True(t, restore.Passed) // 5 <= 4 * 1.25 (median of 3 and 5)
	assert.InDelta(t, 5, *restore.Limit, 1e-9)
	assert.Equal(t, "baseline runs #3,#8: median 4s", restore.Detail)

	res := &reports.Result{Verdict: reports.GO}
	c.Apply(res)
	assert.Equal(t, reports.NOGO, res.Verdict)
	assert.Len(t, res.Expectations, 2)

	first := CompareRuns(Run{Scenario: "q", P99MS: f(241)}, nil, cmp)
	assert.True(t, first.Checks[0].Passed)
	assert.Equal(t, "no baseline yet", first.Checks[0].Observed)
}
