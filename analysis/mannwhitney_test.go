package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Hollander & Wolfe (1973, p. 69), the example of R's ?wilcox.test:
// wilcox.test(x, y, alternative = "greater") gives W = 35, p = 0.1272, and
// with conf.int = TRUE the location shift estimate 0.305. Checked by brute
// force: 382 of the C(15,5) = 3003 splits of the pooled values have W >= 35.
var (
	hwX = []float64{0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46}
	hwY = []float64{1.15, 0.88, 0.90, 0.74, 1.21}
)

func TestMannWhitneyTextbookExample(t *testing.T) {
	// Our second argument is the one tested for "greater".
	r := MannWhitney(hwY, hwX, Greater)
	assert.True(t, r.Exact)
	assert.InDelta(t, 35, r.U, 1e-12)
	assert.InDelta(t, 382.0/3003, r.PValue, 1e-12)
	assert.InDelta(t, 0.1272, r.PValue, 1e-4)
	assert.InDelta(t, 35.0/50, r.AUC, 1e-12)
	// The other direction: P(U <= 35) = 1 - P(U >= 36).
	less := MannWhitney(hwY, hwX, Less)
	assert.Greater(t, less.PValue, 0.85)
}

func TestMannWhitneyExactTable(t *testing.T) {
	// Mann-Whitney critical-value table, n1 = n2 = 10, one-tailed 0.05: 27.
	// So P(U <= 27) <= 0.05 < P(U <= 28) (0.0446 and 0.0526 by enumeration
	// of the C(20,10) orderings).
	d := mwExactDist(10, 10)
	lo27, _ := cumulative(d, 27)
	lo28, _ := cumulative(d, 28)
	assert.LessOrEqual(t, lo27, 0.05)
	assert.Greater(t, lo28, 0.05)
	assert.InDelta(t, 0.04460, lo27, 1e-5)
	// Complete separation with 3 + 3: one ordering of C(6,3) = 20.
	r := MannWhitney([]float64{1, 2, 3}, []float64{4, 5, 6}, Greater)
	assert.InDelta(t, 1.0/20, r.PValue, 1e-12)
	assert.InDelta(t, 9, r.U, 0)
}

func TestMannWhitneyNormalWithTies(t *testing.T) {
	// x = 1,2,3,4,4 and y = 4,4,5,6,7 (ties at 4). Mid-ranks: 1,2,3 for
	// 1..3, the four 4s share rank 5.5, then 8, 9, 10. R_y = 5.5+5.5+8+9+10
	// = 38, U = 38 - 15 = 23. Tie term Σ(t³-t) = 64-4 = 60.
	// Var = 25/12·(11 - 60/90) = 21.5278; z = (23 - 12.5 - 0.5)/4.63981 =
	// 2.15526; p = 1 - Φ(2.15526) = 0.015571.
	r := MannWhitney([]float64{1, 2, 3, 4, 4}, []float64{4, 4, 5, 6, 7}, Greater)
	assert.False(t, r.Exact)
	assert.InDelta(t, 23, r.U, 1e-12)
	assert.InDelta(t, 2.15526, r.Z, 1e-4)
	assert.InDelta(t, 0.015571, r.PValue, 1e-5)
	// All tied: no evidence.
	assert.Equal(t, 1.0, MannWhitney([]float64{5, 5, 5}, []float64{5, 5}, Greater).PValue)
	assert.Equal(t, 1.0, MannWhitney(nil, []float64{1}, Greater).PValue)
}

func TestHodgesLehmannTextbookExample(t *testing.T) {
	// Shift of x over y (R: wilcox.test(x, y, conf.int = TRUE)): 0.305.
	// Lehmann's exact 95% interval by brute force: k = 1 + max{c: P(U<=c)
	// <= 0.025} = 9 for sizes 5 and 10, so [D(9), D(42)] = [-0.15, 0.76];
	// at 90%: k = 12, [D(12), D(39)] = [-0.08, 0.72].
	e := HodgesLehmann(hwY, hwX, 0.95)
	assert.InDelta(t, 0.305, e.Shift, 1e-12)
	assert.InDelta(t, -0.15, e.CI[0], 1e-12)
	assert.InDelta(t, 0.76, e.CI[1], 1e-12)
	e90 := HodgesLehmann(hwY, hwX, 0.90)
	assert.InDelta(t, -0.08, e90.CI[0], 1e-12)
	assert.InDelta(t, 0.72, e90.CI[1], 1e-12)
	// 3 vs 3: differences 1,2,2,3,3,3,4,4,5, median 3.
	assert.InDelta(t, 3, HodgesLehmann([]float64{1, 2, 3}, []float64{4, 5, 6}, 0.9).Shift, 0)
}

// The selection of pairwise-difference order statistics must agree with
// materializing and sorting all differences.
func TestKthDiffAgreesWithBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	x := make([]float64, 53)
	y := make([]float64, 71)
	for i := range x {
		x[i] = math.Round(rng.NormFloat64()*50) / 10 // ties on purpose
	}
	for i := range y {
		y[i] = math.Round(rng.NormFloat64()*50+3) / 10
	}
	var all []float64
	for _, a := range x {
		for _, b := range y {
			all = append(all, b-a)
		}
	}
	slices.Sort(all)
	xs, ys := slices.Clone(x), slices.Clone(y)
	slices.Sort(xs)
	slices.Sort(ys)
	for _, k := range []int{1, 2, 100, 1881, len(all) / 2, len(all) - 1, len(all)} {
		assert.Equal(t, all[k-1], kthDiff(xs, ys, k), "k=%d", k)
	}
}

// With large samples the normal-approximation interval must cover a known
// shift about as often as it says (90%).
func TestHodgesLehmannCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	const reps, shift = 400, 2.0
	cover := 0
	for range reps {
		x := make([]float64, 60)
		y := make([]float64, 80)
		for i := range x {
			x[i] = rng.ExpFloat64() * 5
		}
		for i := range y {
			y[i] = rng.ExpFloat64()*5 + shift
		}
		e := HodgesLehmann(x, y, 0.90)
		if e.CI[0] <= shift && shift <= e.CI[1] {
			cover++
		}
	}
	got := float64(cover) / reps
	t.Logf("coverage of the 90%% interval: %.3f", got)
	// 3 standard errors of a proportion of 0.9 over 400 reps: ±0.045.
	assert.InDelta(t, 0.90, got, 0.045)
}

func TestTieSumSortedMatchesRanking(t *testing.T) {
	x := []float64{1, 2, 2, 4, 4, 4, 9}
	y := []float64{0, 2, 4, 5, 5, 9}
	_, want := mwU(x, y)
	// By hand: 2 ×3, 4 ×4, 5 ×2, 9 ×2: 24 + 60 + 6 + 6 = 96.
	assert.Equal(t, 96.0, want)
	assert.Equal(t, want, tieSumSorted(x, y))
}

func TestKthDiffHeavyTies(t *testing.T) {
	x := []float64{0, 0, 1, 1, 1, 2, 2, 2, 2, 0, 1, 2, 0, 0, 1, 2, 2, 1, 0, 1}
	y := []float64{1, 1, 2, 2, 0, 3, 3, 1, 2, 2, 2, 1, 0, 3, 1, 2, 3, 3, 2, 1, 2, 1}
	var all []float64
	for _, a := range x {
		for _, b := range y {
			all = append(all, b-a)
		}
	}
	slices.Sort(all)
	xs, ys := slices.Clone(x), slices.Clone(y)
	slices.Sort(xs)
	slices.Sort(ys)
	for k := 1; k <= len(all); k += 7 {
		assert.Equal(t, all[k-1], kthDiff(xs, ys, k), "k=%d", k)
	}

	// Larger samples of whole microseconds (as latencies are), so that the
	// bracket has to shrink past crowds of tied differences.
	rng := rand.New(rand.NewPCG(3, 5))
	x, y = make([]float64, 400), make([]float64, 350)
	for i := range x {
		x[i] = math.Round(2000 * math.Exp(0.3*rng.NormFloat64()))
	}
	for i := range y {
		y[i] = math.Round(2100 * math.Exp(0.3*rng.NormFloat64()))
	}
	all = all[:0]
	for _, a := range x {
		for _, b := range y {
			all = append(all, b-a)
		}
	}
	slices.Sort(all)
	xs, ys = slices.Clone(x), slices.Clone(y)
	slices.Sort(xs)
	slices.Sort(ys)
	for _, k := range []int{1, 777, len(all) / 3, len(all) / 2, len(all)/2 + 1, len(all) - 5000, len(all)} {
		assert.Equal(t, all[k-1], kthDiff(xs, ys, k), "k=%d", k)
	}
}
