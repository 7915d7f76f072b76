package analysis

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A ten-step canary (5% of 100 requests per second, then 10%, 20% ... 90%, a
// minute each) of an identical version with 1% errors, looked at every
// second: the normal mixture
// alone rejects far more often than alpha (its approximation of the
// canary's skewed error count fails while the count is small); with the
// exact conditional test the judge keeps its promise. Bounds: alpha plus
// three standard errors of 2,000 runs, sqrt(α(1-α)/2000)·3 = 0.0146.
func TestSequentialTenStepCanaryAA(t *testing.T) {
	const runs, alpha = 2000, 0.05
	rng := rand.New(rand.NewPCG(14, 5))
	binom := func(n int, p float64) int {
		k := 0
		for range n {
			if rng.Float64() < p {
				k++
			}
		}
		return k
	}
	normalOnly, judged := 0, 0
	for range runs {
		s, err := NewSequentialTest(SequentialConfig{})
		require.NoError(t, err)
		n, err := NewSequentialTest(SequentialConfig{})
		require.NoError(t, err)
		n.exact = nil
		for _, w := range []int{5, 10, 20, 30, 40, 50, 60, 70, 80, 90} {
			for range 60 {
				xb, xc := binom(100-w, 0.01), binom(w, 0.01)
				s.Update(100-w, xb, w, xc)
				n.Update(100-w, xb, w, xc)
			}
		}
		if s.Reject(alpha) {
			judged++
		}
		if n.Reject(alpha) {
			normalOnly++
		}
	}
	tol := 3 * math.Sqrt(alpha*(1-alpha)/runs)
	fJ, fN := float64(judged)/runs, float64(normalOnly)/runs
	t.Logf("small-canary A/A false rollbacks: judge %.4f, normal mixture alone %.4f (alpha %.2f)", fJ, fN, alpha)
	assert.LessOrEqual(t, fJ, alpha+tol)
	assert.Greater(t, fN, alpha+tol, "the normal mixture alone overshoots here; if it no longer does, this test lost its point")
}

// The conditional test's likelihood ratio, by hand: one look, 100 baseline
// and 100 canary requests, 1 baseline and 3 canary errors. π0 = 1/2; for
// g = 2, πg = 2/3: (4/3)^3·(2/3)^1 = 1.5802; the mixture averages the seven
// ratios of the grid (computed here independently of the code's loop).
func TestConditionalTestByHand(t *testing.T) {
	c := newConditionalTest()
	c.update(100, 1, 100, 3)
	var sum float64
	for _, g := range []float64{1.25, 1.5, 1.75, 2, 2.5, 3, 5} {
		pig := g / (g + 1)
		sum += math.Pow(2*pig, 3) * (2 * (1 - pig))
	}
	assert.InDelta(t, 64.0/27*2/3, math.Pow(4.0/3, 3)*(2.0/3), 1e-12)
	assert.InDelta(t, math.Min(1, 7/sum), c.p, 1e-12)
}
