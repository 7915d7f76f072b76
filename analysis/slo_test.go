package analysis

import (
	"testing"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSLICountsAndBudget(t *testing.T) {
	// 1,000 requests over 10 s, 5 failed; one more is slow (300 ms).
	s := arm(1000, 0, 10*time.Millisecond, func(i int) bool { return i%200 == 7 }, func(i int) time.Duration {
		if i == 500 {
			return 300 * time.Millisecond
		}
		return 20 * time.Millisecond
	})
	avail := SLO{Objective: 0.99}
	c := CountSLI(s, Window{0, 10 * time.Second}, avail)
	assert.Equal(t, 1000, c.Total)
	assert.Equal(t, 995, c.Good)
	assert.InDelta(t, 0.995, c.SLI(), 1e-12)
	// Burn rate: bad share 0.005 over a budget of 0.01 = 0.5.
	assert.InDelta(t, 0.5, c.BurnRate(avail), 1e-12)
	b := Budget(s, avail)
	assert.Equal(t, 5, b.Bad)
	assert.InDelta(t, 10, b.Allowed, 1e-9)
	assert.InDelta(t, 0.5, b.Consumed, 1e-12)
	assert.InDelta(t, 0.5, b.Remaining, 1e-12)

	lat := SLO{Objective: 0.99, LatencyThreshold: 100 * time.Millisecond}
	assert.Equal(t, 994, CountSLI(s, Window{0, 10 * time.Second}, lat).Good)

	series := SLISeries(s, time.Second, avail)
	require.Len(t, series, 10)
	assert.Equal(t, 100, series[0].Total)
	assert.Equal(t, 99, series[0].Good) // i = 7 fails in the first second
	assert.Equal(t, 100, series[1].Good)
	assert.InDelta(t, 0.5, BurnRate(s, Window{0, 10 * time.Second}, avail), 1e-12)
	assert.Error(t, SLO{Objective: 1}.Validate())
}

func TestBurnAlertMultiWindow(t *testing.T) {
	// 100 rps for 90 s; from 60 s to 70 s, 20% of requests fail.
	s := arm(9000, 0, 10*time.Millisecond, func(i int) bool { return i >= 6000 && i < 7000 && i%5 == 0 }, nil)
	slo := SLO{Objective: 0.999}
	// Scale 1/60: the 14.4x page looks at 60 s and 5 s.
	rules := SREWorkbookRules(1.0 / 60)
	assert.Equal(t, time.Minute, rules[0].Long)
	assert.Equal(t, 5*time.Second, rules[0].Short)
	assert.Equal(t, 14.4, rules[0].Factor)

	at := func(sec int) BurnAlertResult {
		r, err := BurnAlert(s, time.Duration(sec)*time.Second, slo, rules[:1])
		require.NoError(t, err)
		return r
	}
	assert.False(t, at(60).Firing, "healthy so far")
	// At 62 s: long window [2s, 62s) has 40 bad of 6000 = 0.667%, burn 6.67;
	// short [57s, 62s) has 40 of 500 = 8%, burn 80. Long too low: no page.
	r := at(62)
	assert.InDelta(t, 6.6667, r.Evals[0].LongRate, 1e-3)
	assert.InDelta(t, 80, r.Evals[0].ShortRate, 1e-9)
	assert.False(t, r.Firing)
	// At 70 s: long [10s, 70s) 200 of 6000 = 3.33%, burn 33.3; short 20%,
	// burn 200: page.
	r = at(70)
	assert.True(t, r.Firing)
	require.NotNil(t, r.First)
	assert.Equal(t, "page", r.First.Rule.Severity)
	assert.InDelta(t, 33.333, r.Evals[0].LongRate, 1e-3)
	// At 76 s the errors stopped 6 s ago: the short window resets the alert
	// although the long window still burns 33x.
	r = at(76)
	assert.InDelta(t, 33.333, r.Evals[0].LongRate, 1e-3)
	assert.False(t, r.Firing)

	_, err := BurnAlert(s, time.Minute, slo, []BurnRule{{Long: time.Second, Short: time.Minute, Factor: 1}})
	assert.Error(t, err)
	_, err = BurnAlert([]record.Sample{}, time.Minute, SLO{}, rules)
	assert.Error(t, err)
}
