package analysis

import (
	"errors"
	"math"
)

// errUnreachable is returned when no value in the search range reaches the
// target.
var errUnreachable = errors.New("target not reachable in the search range")

// solveIncreasing returns the smallest x in [lo, hi] with f(x) >= target for
// an f that is non-decreasing on the range, by bisection to relative
// precision 1e-9 (at most 200 steps).
func solveIncreasing(f func(float64) float64, lo, hi, target float64) (float64, error) {
	if f(lo) >= target {
		return lo, nil
	}
	if f(hi) < target {
		return math.NaN(), errUnreachable
	}
	for range 200 {
		if hi-lo <= 1e-9*math.Max(1e-12, math.Abs(hi)) {
			break
		}
		m := lo + (hi-lo)/2
		if f(m) >= target {
			hi = m
		} else {
			lo = m
		}
	}
	return hi, nil
}
