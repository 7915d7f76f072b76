package analysis

import "math"

// conditionalTest is an exact e-process for "the canary's error rate is at
// most the baseline's" (margin 0). Given the requests each arm received in
// a look and the errors both arms made together, each error came from the
// canary with probability π0 = nc/(nb+nc) when the rates are equal (errors
// as Poisson arrivals; requests are rare failures of a Bernoulli each), and
// with πg = g·nc/(g·nc+nb) when the canary's rate is g times the baseline's.
// The product over looks of (πg/π0)^xc·((1-πg)/(1-π0))^xb has expectation
// at most 1 under the null (any rate ratio ≤ 1) whatever the counts, so a
// fixed mixture over g is a test supermartingale and, by Ville's
// inequality, P(ever ≥ 1/α) ≤ α — exactly, where the normal mixture's
// promise rests on an approximation that fails while counts are small (a
// 5% canary with 1% errors: its skewed binomial tail doubles the false
// alarms).
type conditionalTest struct {
	logL [len(conditionalGrid)]float64
	p    float64
}

// conditionalGrid are the rate ratios mixed, with equal weights: from a 25%
// increase to five times the baseline's errors, densest where regressions
// are hard to see (a larger one piles up evidence fast at any ratio; on
// the three-step example, 2% -> 3% is caught in 0.28 of canaries with this
// grid, 0.23 with one up to x10).
var conditionalGrid = [...]float64{1.25, 1.5, 1.75, 2, 2.5, 3, 5}

func newConditionalTest() *conditionalTest { return &conditionalTest{p: 1} }

// update adds one look's increments.
func (c *conditionalTest) update(nb, xb, nc, xc int) {
	if xb+xc == 0 || nb == 0 || nc == 0 {
		return // no error to attribute, or only one arm could have made it
	}
	fb, fc := float64(nb), float64(nc)
	pi0 := fc / (fb + fc)
	lo := math.Inf(-1)
	for i, g := range conditionalGrid {
		pig := g * fc / (g*fc + fb)
		c.logL[i] += float64(xc)*math.Log(pig/pi0) + float64(xb)*math.Log((1-pig)/(1-pi0))
		lo = math.Max(lo, c.logL[i])
	}
	var sum float64
	for _, l := range c.logL {
		sum += math.Exp(l - lo)
	}
	logLambda := lo + math.Log(sum/float64(len(conditionalGrid)))
	c.p = math.Min(c.p, math.Min(1, math.Exp(-logLambda)))
}
