package analysis

import (
	"math"
	"slices"
)

// exactMWMax is the largest sample size (per arm) for which the exact null
// distribution of U is used when there are no ties.
const exactMWMax = 20

// MannWhitneyResult is the outcome of a Mann-Whitney U (Wilcoxon rank-sum)
// test of x (baseline) against y (canary).
type MannWhitneyResult struct {
	// U counts the pairs (x_i, y_j) with y_j > x_i, ties counting one half.
	// It equals R's W statistic for wilcox.test(y, x).
	U float64
	// AUC is U / (n1 n2), the estimate of P(Y > X) + P(Y = X)/2.
	AUC float64
	// Z is the normal-approximation statistic with tie and continuity
	// corrections (NaN when the exact distribution was used).
	Z      float64
	PValue float64
	Exact  bool
	N1, N2 int
}

// MannWhitney tests x against y; Greater means y tends to be larger. The
// p-value is exact (the null distribution of U by recursion) when both
// samples have at most 20 values and there are no ties, and otherwise uses
// the normal approximation with tie correction and continuity correction.
// Empty input gives p = 1.
func MannWhitney(x, y []float64, alt Alternative) MannWhitneyResult {
	n1, n2 := len(x), len(y)
	r := MannWhitneyResult{N1: n1, N2: n2, PValue: 1, Z: math.NaN()}
	if n1 == 0 || n2 == 0 {
		return r
	}
	u, tieSum := mwU(x, y)
	r.U = u
	mn := float64(n1) * float64(n2)
	r.AUC = u / mn
	if n1 <= exactMWMax && n2 <= exactMWMax && tieSum == 0 {
		r.Exact = true
		dist := mwExactDist(n1, n2)
		k := int(math.Round(u))
		lower, upper := cumulative(dist, k)
		switch alt {
		case Greater:
			r.PValue = upper
		case Less:
			r.PValue = lower
		default:
			r.PValue = math.Min(1, 2*math.Min(lower, upper))
		}
		return r
	}
	n := float64(n1 + n2)
	v := mn / 12 * ((n + 1) - tieSum/(n*(n-1)))
	if v <= 0 {
		return r // every value tied: no evidence either way
	}
	d := u - mn/2
	switch alt {
	case Greater:
		d -= 0.5
	case Less:
		d += 0.5
	default:
		d = math.Max(0, math.Abs(d)-0.5)
	}
	r.Z = d / math.Sqrt(v)
	r.PValue = ZPValue(r.Z, alt)
	return r
}

// mwU returns U (pairs with y > x, ties one half) and the tie term
// Σ(t³ - t) over groups of tied values in the pooled sample.
func mwU(x, y []float64) (u, tieSum float64) {
	type obs struct {
		v float64
		y bool
	}
	all := make([]obs, 0, len(x)+len(y))
	for _, v := range x {
		all = append(all, obs{v, false})
	}
	for _, v := range y {
		all = append(all, obs{v, true})
	}
	slices.SortFunc(all, func(a, b obs) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	var rankSumY float64
	for i := 0; i < len(all); {
		j := i
		ny := 0
		for j < len(all) && all[j].v == all[i].v {
			if all[j].y {
				ny++
			}
			j++
		}
		t := float64(j - i)
		mid := float64(i+j+1) / 2 // mid-rank of positions i+1..j
		rankSumY += mid * float64(ny)
		if t > 1 {
			tieSum += t*t*t - t
		}
		i = j
	}
	n2 := float64(len(y))
	return rankSumY - n2*(n2+1)/2, tieSum
}

// mwExactDist returns the null probabilities of U = 0..n1·n2 for samples of
// sizes n1 and n2 without ties. The count of orderings f(m, n, u) follows
// f(m, n, u) = f(m, n-1, u-m) + f(m-1, n, u): the largest value is either a
// y (above all m x's) or an x.
func mwExactDist(n1, n2 int) []float64 {
	// f[m][u] for the current n, built up over n.
	maxU := n1 * n2
	prev := make([][]float64, n1+1) // n = 0: only u = 0
	for m := range prev {
		prev[m] = make([]float64, maxU+1)
		prev[m][0] = 1
	}
	for n := 1; n <= n2; n++ {
		cur := make([][]float64, n1+1)
		cur[0] = make([]float64, maxU+1)
		cur[0][0] = 1
		for m := 1; m <= n1; m++ {
			cur[m] = make([]float64, maxU+1)
			for u := 0; u <= m*n; u++ {
				var c float64
				if u-m >= 0 {
					c = prev[m][u-m]
				}
				c += cur[m-1][u]
				cur[m][u] = c
			}
		}
		prev = cur
	}
	counts := prev[n1]
	var total float64
	for _, c := range counts {
		total += c
	}
	for i := range counts {
		counts[i] /= total
	}
	return counts
}

// cumulative returns P(U <= k) and P(U >= k) from a probability table.
func cumulative(dist []float64, k int) (lower, upper float64) {
	for i, p := range dist {
		if i <= k {
			lower += p
		}
		if i >= k {
			upper += p
		}
	}
	return clamp01(lower), clamp01(upper)
}
