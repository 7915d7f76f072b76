package analysis

import (
	"math"
	"slices"
)

// ShiftEstimate is a Hodges-Lehmann location shift of y against x with its
// distribution-free confidence interval.
type ShiftEstimate struct {
	// Shift is the median of all pairwise differences y_j - x_i.
	Shift float64
	// CI is Lehmann's interval [D_(k), D_(mn+1-k)] on the ordered pairwise
	// differences, k from the null distribution of U (exact for small
	// untied samples, normal otherwise). When the samples are too small for
	// the level, k is 1 and the interval spans all differences.
	CI   [2]float64
	Conf float64
}

// HodgesLehmann estimates the shift of y against x and its two-sided
// confidence interval at level conf. Order statistics of the n·m pairwise
// differences are found by selection on the sorted samples (a count of
// differences below a threshold takes O(n+m)), so no pair is materialized
// and no subsampling is needed: the result is exact and deterministic for
// any sample size.
func HodgesLehmann(x, y []float64, conf float64) ShiftEstimate {
	e := ShiftEstimate{Conf: conf, Shift: math.NaN(), CI: [2]float64{math.NaN(), math.NaN()}}
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return e
	}
	xs, ys := slices.Clone(x), slices.Clone(y)
	slices.Sort(xs)
	slices.Sort(ys)
	mn := n1 * n2
	if mn%2 == 1 {
		e.Shift = kthDiff(xs, ys, (mn+1)/2)
	} else {
		e.Shift = (kthDiff(xs, ys, mn/2) + kthDiff(xs, ys, mn/2+1)) / 2
	}
	k := lehmannK(xs, ys, conf)
	e.CI = [2]float64{kthDiff(xs, ys, k), kthDiff(xs, ys, mn+1-k)}
	return e
}

// lehmannK is the rank k of the lower confidence limit: one more than the
// largest c with P(U <= c) <= (1-conf)/2 under H0.
func lehmannK(xs, ys []float64, conf float64) int {
	n1, n2 := len(xs), len(ys)
	mn := n1 * n2
	a := (1 - conf) / 2
	var k int
	tieSum := tieSumSorted(xs, ys)
	if n1 <= exactMWMax && n2 <= exactMWMax && tieSum == 0 {
		var cum float64
		c := -1
		for u, p := range mwExactDist(n1, n2) {
			cum += p
			if cum > a+1e-12 {
				break
			}
			c = u
		}
		k = c + 1
	} else {
		n := float64(n1 + n2)
		v := float64(mn) / 12 * ((n + 1) - tieSum/(n*(n-1)))
		k = int(math.Floor(float64(mn)/2 - normQ(1-a)*math.Sqrt(v)))
	}
	return max(1, min(k, (mn+1)/2))
}

// tieSumSorted is Σ(t³ - t) over groups of equal values in the union of
// two ascending slices, by merging them.
func tieSumSorted(xs, ys []float64) float64 {
	var sum float64
	i, j := 0, 0
	for i < len(xs) || j < len(ys) {
		var v float64
		if j >= len(ys) || (i < len(xs) && xs[i] <= ys[j]) {
			v = xs[i]
		} else {
			v = ys[j]
		}
		t := 0.0
		for i < len(xs) && xs[i] == v {
			i++
			t++
		}
		for j < len(ys) && ys[j] == v {
			j++
			t++
		}
		sum += t*t*t - t
	}
	return sum
}

// kthDiff returns the k-th smallest (1-based) of the differences ys[j] -
// xs[i] of two ascending slices. It bisects on the value until at most
// (n+m)/8 differences remain in the bracket, then lists and sorts only
// those: a few dozen O(n+m) passes instead of materializing n·m
// differences.
func kthDiff(xs, ys []float64, k int) float64 {
	n, m := len(xs), len(ys)
	a := math.Nextafter(ys[0]-xs[n-1], math.Inf(-1)) // below every difference
	b := ys[m-1] - xs[0]                             // the largest difference
	ca, cb := 0, n*m                                 // count(≤a) < k <= count(≤b)
	stalled := false
	for cb-ca > max(16, (n+m)/8) {
		lo, hi := a, b
		if stalled {
			// Plain bisection stops shrinking the count where many
			// differences tie or crowd: bisect between the extreme
			// differences inside (a, b] instead, which removes at least
			// one per step, and stop when only one (tied) value is left.
			lo, hi = extremesIn(xs, ys, a, b)
			if lo == hi {
				return hi + 0 // + 0 turns -0 into 0
			}
		}
		mid := lo + (hi-lo)/2
		if !stalled && (mid <= a || mid >= b) {
			stalled = true // no float strictly inside (a, b)
			continue
		}
		before := cb - ca
		if c := countLE(xs, ys, mid); c >= k {
			b, cb = mid, c
		} else {
			a, ca = mid, c
		}
		stalled = 4*(cb-ca) > 3*before
	}
	between := make([]float64, 0, cb-ca)
	ia, ib := 0, 0 // first i with ys[j]-xs[i] <= a, and <= b
	for _, y := range ys {
		for ia < n && y-xs[ia] > a {
			ia++
		}
		for ib < n && y-xs[ib] > b {
			ib++
		}
		for i := ib; i < ia; i++ {
			between = append(between, y-xs[i])
		}
	}
	slices.Sort(between)
	return between[k-ca-1] + 0
}

// extremesIn returns the smallest and the largest difference in (a, b]
// (the bracket must hold at least one). In row y the differences fall as i
// grows; those <= a start at index ia, those <= b at ib <= ia.
func extremesIn(xs, ys []float64, a, b float64) (lo, hi float64) {
	n := len(xs)
	lo, hi = math.Inf(1), math.Inf(-1)
	ia, ib := 0, 0
	for _, y := range ys {
		for ia < n && y-xs[ia] > a {
			ia++
		}
		for ib < n && y-xs[ib] > b {
			ib++
		}
		if ib < ia {
			lo = math.Min(lo, y-xs[ia-1])
			hi = math.Max(hi, y-xs[ib])
		}
	}
	return lo, hi
}

// countLE counts pairs with ys[j] - xs[i] <= t. For each y the qualifying
// x's are a suffix of xs, and that suffix only shrinks as y grows.
func countLE(xs, ys []float64, t float64) int {
	n := len(xs)
	i, c := 0, 0
	for _, y := range ys {
		for i < n && y-xs[i] > t {
			i++
		}
		c += n - i
	}
	return c
}
