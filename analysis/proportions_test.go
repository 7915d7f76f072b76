package analysis

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestZPValueMatchesNormalTable(t *testing.T) {
	// Standard normal table: Φ(1.96) = 0.97500, Φ(1.645) = 0.95002.
	assert.InDelta(t, 0.025, ZPValue(1.96, Greater), 1e-4)
	assert.InDelta(t, 0.025, ZPValue(-1.96, Less), 1e-4)
	assert.InDelta(t, 0.05, ZPValue(1.96, TwoSided), 2e-4)
	assert.InDelta(t, 0.05, ZPValue(1.645, Greater), 1e-4)
	assert.InDelta(t, 0.5, ZPValue(0, Greater), 1e-12)
}

func TestFisherExactLadyTastingTea(t *testing.T) {
	// Fisher (1935): 8 cups, 4 with milk first. Three correct calls give
	// the table [[3,1],[1,3]]; one-sided p = (C(4,3)C(4,1) + C(4,4)C(4,0)) /
	// C(8,4) = (16 + 1) / 70 = 0.242857. Four correct: 1/70 = 0.014286.
	assert.InDelta(t, 17.0/70, FisherExactGreater(4, 1, 4, 3), 1e-12)
	assert.InDelta(t, 1.0/70, FisherExactGreater(4, 0, 4, 4), 1e-12)
	// Nothing beyond what is expected: P(X >= 2) = 1 - P(X<=1) = 1 - 17/70.
	assert.InDelta(t, 53.0/70, FisherExactGreater(4, 2, 4, 2), 1e-12)

	r, err := ErrorRateTest(4, 1, 4, 3, 0, 0.05)
	require.NoError(t, err)
	assert.Equal(t, MethodFisher, r.Method)
	assert.InDelta(t, 0.242857, r.PValue, 1e-6)
	assert.True(t, math.IsNaN(r.Z))
}

func TestErrorRateTestPooledZ(t *testing.T) {
	// Baseline 100/10000, canary 130/10000. By hand: p̄ = 230/20000 = 0.0115,
	// se = sqrt(0.0115·0.9885·(2/10000)) = 0.00150779, z = 0.003/se =
	// 1.98961, one-sided p = 1 - Φ(1.98961) = 0.023317.
	r, err := ErrorRateTest(10000, 100, 10000, 130, 0, 0.05)
	require.NoError(t, err)
	assert.Equal(t, MethodPooledZ, r.Method)
	assert.InDelta(t, 1.98961, r.Z, 1e-4)
	assert.InDelta(t, 0.023317, r.PValue, 1e-5)
	assert.InDelta(t, 0.003, r.Diff, 1e-12)
	assert.Less(t, r.CI[0], r.Diff)
	assert.Greater(t, r.CI[1], r.Diff)
}

func TestErrorRateTestRejectsBadInput(t *testing.T) {
	for _, c := range [][4]int{{0, 0, 10, 1}, {10, 11, 10, 1}, {10, -1, 10, 1}} {
		_, err := ErrorRateTest(c[0], c[1], c[2], c[3], 0, 0.05)
		assert.Error(t, err, "%v", c)
	}
	_, err := ErrorRateTest(10, 1, 10, 1, 1.5, 0.05)
	assert.Error(t, err)
}

func TestSmallCountsRule(t *testing.T) {
	assert.True(t, SmallCounts(99, 10, 1000, 100), "an arm under 100")
	assert.True(t, SmallCounts(1000, 2, 1000, 2), "expected errors 2 per arm")
	assert.False(t, SmallCounts(1000, 50, 1000, 60))
}

func TestWilsonAndNewcombeIntervals(t *testing.T) {
	// Wilson for 0/10 at 95%: upper = z²/(n+z²) = 3.8415/13.8415 = 0.2775
	// (Newcombe 1998a, table I).
	w := WilsonCI(0, 10, 0.95)
	assert.InDelta(t, 0, w[0], 1e-12)
	assert.InDelta(t, 0.2775, w[1], 1e-4)
	// Newcombe (1998b), Statistics in Medicine 17:873, example (a):
	// 56/70 - 48/80, method 10 (hybrid score): 0.0524 to 0.3339.
	ci := NewcombeCI(56, 70, 48, 80, 0.95)
	assert.InDelta(t, 0.0524, ci[0], 1e-4)
	assert.InDelta(t, 0.3339, ci[1], 1e-4)
}

// The closed-form restricted MLE must be the maximizer of the binomial
// log-likelihood on the line p1 - p2 = delta; check by a fine grid search.
func TestFarringtonManningRestrictedMLE(t *testing.T) {
	cases := []struct{ x1, n1, x2, n2, delta float64 }{
		{30, 1000, 20, 1000, 0.005},
		{3, 40, 1, 300, 0.01},
		{0, 500, 0, 800, 0.02},
		{45, 90, 20, 70, 0.1},
	}
	for _, c := range cases {
		p1, p2 := fmRestricted(c.x1, c.n1, c.x2, c.n2, c.delta)
		assert.InDelta(t, c.delta, p1-p2, 1e-9)
		ll := func(q2 float64) float64 {
			q1 := q2 + c.delta
			return xlogy(c.x1, q1) + xlogy(c.n1-c.x1, 1-q1) + xlogy(c.x2, q2) + xlogy(c.n2-c.x2, 1-q2)
		}
		best, arg := math.Inf(-1), 0.0
		for i := 0; i <= 200_000; i++ {
			q2 := (1 - c.delta) * float64(i) / 200_000
			if v := ll(q2); v > best {
				best, arg = v, q2
			}
		}
		assert.InDelta(t, arg, p2, 1e-5, "%+v", c)
	}
}

// An exact test must hold its level: at the boundary of H0 (canary rate =
// baseline rate + margin) the probability of p <= alpha, summed exactly over
// every possible table, stays at or below alpha.
func TestExactUnconditionalHoldsLevel(t *testing.T) {
	const nb, nc, margin, alpha = 30, 20, 0.02, 0.05
	pv := make([][]float64, nb+1)
	for xb := 0; xb <= nb; xb++ {
		pv[xb] = make([]float64, nc+1)
		for xc := 0; xc <= nc; xc++ {
			r, err := ErrorRateTest(nb, xb, nc, xc, margin, alpha)
			require.NoError(t, err)
			require.Equal(t, MethodExactUncond, r.Method)
			pv[xb][xc] = r.PValue
		}
	}
	for _, pb := range []float64{0.01, 0.05, 0.1, 0.2, 0.4} {
		var size float64
		for xb := 0; xb <= nb; xb++ {
			for xc := 0; xc <= nc; xc++ {
				if pv[xb][xc] <= alpha {
					size += binomPMF(xb, nb, pb) * binomPMF(xc, nc, pb+margin)
				}
			}
		}
		t.Logf("boundary p_b=%.2f: exact size %.4f", pb, size)
		assert.LessOrEqual(t, size, alpha+1e-3, "p_b=%g", pb)
	}
	// And it does reject an obvious regression.
	r, err := ErrorRateTest(nb, 0, nc, 8, margin, alpha)
	require.NoError(t, err)
	assert.Less(t, r.PValue, 0.01)
}

func TestFarringtonManningLargeCounts(t *testing.T) {
	// With a margin and large counts the score test is used; at the margin's
	// edge (diff == margin) z is 0 and p is 1/2.
	r, err := ErrorRateTest(20000, 200, 20000, 300, 0.005, 0.05)
	require.NoError(t, err)
	assert.Equal(t, MethodFarringtonMan, r.Method)
	assert.InDelta(t, 0, r.Z, 1e-9)
	assert.InDelta(t, 0.5, r.PValue, 1e-9)
	// Margin 0 reduces the score statistic to the pooled z.
	assert.InDelta(t, PooledZ(20000, 200, 20000, 300), fmScore(300, 20000, 200, 20000, 0), 1e-12)
}
