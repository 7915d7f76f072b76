package analysis

import (
	"math"
	"slices"
	"time"
)

// quantileSorted returns the nearest-rank q-quantile of an ascending slice:
// the smallest value with at least q of the data at or below it. Nearest
// rank always returns an observed value, so a p99 is a latency some request
// really had.
func quantileSorted[T any](sorted []T, q float64) T {
	var zero T
	n := len(sorted)
	if n == 0 {
		return zero
	}
	i := int(math.Ceil(q*float64(n))) - 1
	if i < 0 {
		i = 0
	}
	if i >= n {
		i = n - 1
	}
	return sorted[i]
}

// DurationQuantiles returns the nearest-rank quantiles qs (each in [0, 1])
// of ds; ds is not modified. It returns zeros when ds is empty.
func DurationQuantiles(ds []time.Duration, qs ...float64) []time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	out := make([]time.Duration, len(qs))
	for i, q := range qs {
		out[i] = quantileSorted(s, q)
	}
	return out
}

// quantileFloat is the nearest-rank q-quantile of v (not modified).
func quantileFloat(v []float64, q float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return quantileSorted(s, q)
}
