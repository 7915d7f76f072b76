package analysis

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Alternative is the direction of a hypothesis test. Tests take the baseline
// as the first sample and the canary as the second, so Greater means "the
// canary is higher (worse)".
type Alternative int

const (
	// Greater: the second sample (canary) is larger.
	Greater Alternative = iota
	// Less: the second sample (canary) is smaller.
	Less
	// TwoSided: the samples differ in either direction.
	TwoSided
)

// String names the alternative as R does.
func (a Alternative) String() string {
	switch a {
	case Greater:
		return "greater"
	case Less:
		return "less"
	default:
		return "two-sided"
	}
}

var unitNormal = distuv.UnitNormal

// normCDF is Φ(x).
func normCDF(x float64) float64 { return unitNormal.CDF(x) }

// normSF is 1 - Φ(x), computed without cancellation in the upper tail.
func normSF(x float64) float64 { return unitNormal.Survival(x) }

// normQ is Φ⁻¹(p).
func normQ(p float64) float64 { return unitNormal.Quantile(p) }

// ZPValue is the p-value of a standard-normal statistic z under alt
// (for example z = 1.96 gives 0.025 for Greater and 0.05 for TwoSided).
func ZPValue(z float64, alt Alternative) float64 {
	switch alt {
	case Greater:
		return normSF(z)
	case Less:
		return normCDF(z)
	default:
		return math.Min(1, 2*normSF(math.Abs(z)))
	}
}

// zCritical is the critical value of a level-alpha test: z_{1-alpha} for a
// one-sided test, z_{1-alpha/2} for a two-sided one.
func zCritical(alpha float64, alt Alternative) float64 {
	if alt == TwoSided {
		return normQ(1 - alpha/2)
	}
	return normQ(1 - alpha)
}

// clamp01 keeps probabilities inside [0, 1] despite rounding.
func clamp01(p float64) float64 {
	if p < 0 || math.IsNaN(p) {
		return 0
	}
	if p > 1 {
		return 1
	}
	return p
}

// lchoose is log(n choose k).
func lchoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// logNormCDF is log Φ(x), finite far into the lower tail where Φ(x)
// underflows (there it uses Mills' ratio: Φ(x) ≈ φ(x)/|x|·(1 - 1/x² + 3/x⁴)).
func logNormCDF(x float64) float64 {
	if x > -30 {
		return math.Log(normCDF(x))
	}
	x2 := x * x
	return -x2/2 - 0.5*math.Log(2*math.Pi) - math.Log(-x) + math.Log1p(-1/x2+3/(x2*x2))
}
