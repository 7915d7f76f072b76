package analysis

import (
	"testing"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outageRun: 100 rps for 40 s; a fault at faultAt makes everything fail for
// down, then every other request fails for one more second.
func outageRun(faultAt, down time.Duration) []record.Sample {
	return arm(4000, 0, 10*time.Millisecond, func(i int) bool {
		at := time.Duration(i) * 10 * time.Millisecond
		switch {
		case at >= faultAt && at < faultAt+down:
			return true
		case at >= faultAt+down && at < faultAt+down+time.Second:
			return i%2 == 0
		}
		return false
	}, func(int) time.Duration { return 5 * time.Millisecond })
}

func TestMeasureRecovery(t *testing.T) {
	s := outageRun(10*time.Second, 5*time.Second)
	cfg := RecoveryConfig{Objective: 0.99, Bin: time.Second, Stability: 5 * time.Second}
	r, err := MeasureRecovery(s, 10*time.Second, cfg)
	require.NoError(t, err)
	// Bins from 10 s: 5 dead, 1 at 50%, then healthy: recovery at 16 s.
	assert.True(t, r.Recovered)
	assert.Equal(t, 16*time.Second, r.RecoveredAt)
	assert.Equal(t, 6*time.Second, r.RTO)
	// Longest stretch without success: from the first failure at 10.00 s
	// to the first success at 15.01 s (15.00 s is an even-index failure).
	assert.Equal(t, 10*time.Second, r.Longest.From)
	assert.Equal(t, 15*time.Second+10*time.Millisecond, r.Longest.To)
	assert.Equal(t, 501, r.Longest.Failed)

	// Measured from a later instant (a rollback at 12 s): RTO 4 s.
	r, err = MeasureRecovery(s, 12*time.Second, cfg)
	require.NoError(t, err)
	assert.Equal(t, 4*time.Second, r.RTO)

	// Never healthy long enough before the data ends.
	r, err = MeasureRecovery(outageRun(10*time.Second, 27*time.Second), 10*time.Second, cfg)
	require.NoError(t, err)
	assert.False(t, r.Recovered)
	assert.Contains(t, r.Detail, "never held")

	// A service that never dipped recovers at once.
	r, err = MeasureRecovery(arm(1000, 0, 10*time.Millisecond, nil, nil), 2*time.Second, cfg)
	require.NoError(t, err)
	assert.Equal(t, time.Duration(0), r.RTO)
	assert.Equal(t, Outage{}, r.Longest)

	_, err = MeasureRecovery(s, 0, RecoveryConfig{Objective: 2})
	assert.Error(t, err)
}

func TestRecoveryQuantilesAcrossRepeats(t *testing.T) {
	cfg := RecoveryConfig{Objective: 0.99, Stability: 3 * time.Second}
	var rs []Recovery
	for _, down := range []time.Duration{2, 4, 3, 7, 5} {
		r, err := MeasureRecovery(outageRun(10*time.Second, down*time.Second), 10*time.Second, cfg)
		require.NoError(t, err)
		rs = append(rs, r)
	}
	// RTOs are down + 1 s: 3, 5, 4, 8, 6. Nearest rank: p50 = 5, p90 = 8.
	st := SummarizeRecoveries(rs)
	assert.Equal(t, RTOStats{N: 5, Recovered: 5, P50: 5 * time.Second, P90: 8 * time.Second, Max: 8 * time.Second,
		LongestOutage: 7*time.Second + 10*time.Millisecond}, st)
}

func TestLongestOutageUntilEndOfData(t *testing.T) {
	s := arm(10, 0, time.Second, func(i int) bool { return i >= 6 }, func(int) time.Duration { return 2 * time.Second })
	o := LongestOutage(s)
	// Failures at 6..9 s, the last ending at 9 s + 2 s.
	assert.Equal(t, Outage{From: 6 * time.Second, To: 11 * time.Second, Failed: 4}, o)
}
