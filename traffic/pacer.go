package traffic

import (
	"math"
	"time"
)

// pacer gives the intended send instants of a constant-rate schedule.
type pacer struct{ rate float64 }

// offset is the i-th instant after the schedule's start: i/rate seconds.
// Computed from i each time (not by adding an interval) so that rounding
// never accumulates over a long run.
func (p pacer) offset(i int64) time.Duration {
	return time.Duration(float64(i) * 1e9 / p.rate)
}

// count is how many instants fall in [0, span).
func (p pacer) count(span time.Duration) int64 {
	if span <= 0 {
		return 0
	}
	// Closed form, then nudged so it agrees exactly with offset's rounding.
	n := int64(math.Ceil(span.Seconds() * p.rate))
	for n > 0 && p.offset(n-1) >= span {
		n--
	}
	for p.offset(n) < span {
		n++
	}
	return n
}
