package analysis

import (
	"testing"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/stretchr/testify/assert"
)

func TestSummarizeNearestRank(t *testing.T) {
	// Latencies 1..100 ms in reverse order, every 10th failed. Nearest rank:
	// p50 = 50th value = 50 ms, p90 = 90 ms, p99 = 99 ms; mean 50.5 ms.
	s := arm(100, 0, time.Millisecond, everyKth(10), func(i int) time.Duration { return time.Duration(100-i) * time.Millisecond })
	sum := Summarize(s)
	assert.Equal(t, Summary{Requests: 100, Errors: 10, ErrorRate: 0.1,
		P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond,
		Max: 100 * time.Millisecond, Mean: 50500 * time.Microsecond}, sum)
	assert.Equal(t, time.Duration(100-0)*time.Millisecond, time.Duration(s[0].LatencyUS)*time.Microsecond, "input untouched")
	assert.Equal(t, Summary{}, Summarize(nil))
}

func TestPerSecondFillsGapsAndGroups(t *testing.T) {
	a := arm(10, 0, 100*time.Millisecond, everyKth(5), spread(10*time.Millisecond, 1)) // second 0
	b := arm(4, 3*time.Second, 250*time.Millisecond, nil, nil)                         // second 3
	for i := range b {
		b[i].Version = 1
	}
	all := append(a, b...)
	got := PerSecond(all, nil)[""]
	assert.Len(t, got, 4)
	assert.Equal(t, SecondPoint{T: 0, Requests: 10, Errors: 2, P50: 10400 * time.Microsecond, P99: 10900 * time.Microsecond}, got[0]) // 10.0..10.9 ms: 5th and 10th of 10
	assert.Equal(t, SecondPoint{T: 1}, got[1])
	assert.Equal(t, 4, got[3].Requests)

	byVer := PerSecond(all, func(s record.Sample) string {
		if s.Version == 1 {
			return "v2"
		}
		return "v1"
	})
	assert.Len(t, byVer["v1"], 1)
	assert.Len(t, byVer["v2"], 1)
	assert.Equal(t, 3, byVer["v2"][0].T)
}

func TestDurationQuantiles(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3}
	assert.Equal(t, []time.Duration{3, 5, 1}, DurationQuantiles(ds, 0.5, 1, 0))
	assert.Equal(t, time.Duration(5), ds[0], "input untouched")
	assert.Equal(t, []time.Duration{0}, DurationQuantiles(nil, 0.5))
}
