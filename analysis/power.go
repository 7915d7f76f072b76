package analysis

import (
	"fmt"
	"math"
)

// TwoProportions describes a comparison of two error rates for power and
// sample-size work. P1 is the baseline's rate, P2 the canary's. The
// formulas are the normal-approximation ones without continuity correction
// (Fleiss, Levin & Paik, Statistical Methods for Rates and Proportions,
// 3rd ed., eq. 4.14 and its unequal-allocation form), with the null variance
// taken at the pooled rate (Margin 0) or at the Farrington-Manning
// restricted rates (Margin > 0). For a two-sided test the far tail is
// ignored, as in the textbook formula.
type TwoProportions struct {
	P1, P2 float64
	Alpha  float64
	Alt    Alternative
	// Margin is the tolerated increase under H0 (Greater only): the test
	// is H0: P2 - P1 <= Margin.
	Margin float64
	// Ratio is n2/n1, the canary's size relative to the baseline's
	// (default 1).
	Ratio float64
}

func (d TwoProportions) ratio() float64 {
	if d.Ratio <= 0 {
		return 1
	}
	return d.Ratio
}

func (d TwoProportions) validate() error {
	if d.P1 < 0 || d.P1 > 1 || d.P2 < 0 || d.P2 > 1 {
		return fmt.Errorf("error rates must be in [0, 1], got baseline %g and canary %g", d.P1, d.P2)
	}
	if d.Alpha <= 0 || d.Alpha >= 1 {
		return fmt.Errorf("alpha %g out of range: use a value in (0, 1), e.g. 0.05", d.Alpha)
	}
	if d.Margin < 0 || d.Margin >= 1 || (d.Margin > 0 && d.Alt != Greater) {
		return fmt.Errorf("margin %g: use a value in [0, 1), and only with the one-sided (greater) test", d.Margin)
	}
	return nil
}

// sigmas returns the standard deviations of p̂2 - p̂1 for one baseline
// request (n1 = 1, n2 = Ratio): under H0 (sigma0) and under the
// alternative (sigma1). Divide by sqrt(n1) for n1 requests.
func (d TwoProportions) sigmas() (sigma0, sigma1 float64) {
	k := d.ratio()
	// fmRestricted only uses n2/n1, so expected counts at n1 = 1 will do.
	q2, q1 := fmRestricted(d.P2*k, k, d.P1, 1, d.Margin)
	sigma0 = math.Sqrt(q1*(1-q1) + q2*(1-q2)/k)
	sigma1 = math.Sqrt(d.P1*(1-d.P1) + d.P2*(1-d.P2)/k)
	return sigma0, sigma1
}

// effect is the signed distance of the alternative from H0's boundary in
// the direction the test looks.
func (d TwoProportions) effect() float64 {
	diff := d.P2 - d.P1
	switch d.Alt {
	case Greater:
		return diff - d.Margin
	case Less:
		return -diff
	default:
		return math.Abs(diff)
	}
}

// Power is the probability of rejecting H0 with n1 baseline requests (and
// Ratio·n1 canary requests): Φ((|Δ|·sqrt(n1) - z·σ0) / σ1). It is NaN for
// an invalid design (see SampleSize for the error).
func (d TwoProportions) Power(n1 float64) float64 {
	if d.validate() != nil || n1 <= 0 {
		return math.NaN()
	}
	s0, s1 := d.sigmas()
	z := zCritical(d.Alpha, d.Alt)
	if s1 == 0 {
		if d.effect()*math.Sqrt(n1) > z*s0 {
			return 1
		}
		return 0
	}
	return normCDF((d.effect()*math.Sqrt(n1) - z*s0) / s1)
}

// SampleSize returns the requests per arm needed for the target power:
// n1 = (z_α·σ0 + z_β·σ1)² / Δ², rounded up, and n2 = ⌈Ratio·n1⌉.
func (d TwoProportions) SampleSize(power float64) (n1, n2 int, err error) {
	if err := d.validate(); err != nil {
		return 0, 0, err
	}
	if power <= 0 || power >= 1 {
		return 0, 0, fmt.Errorf("target power %g out of range: use a value in (0, 1), e.g. 0.8", power)
	}
	e := d.effect()
	if e <= 0 {
		return 0, 0, fmt.Errorf("no effect to detect: baseline %g, canary %g, margin %g, %s test", d.P1, d.P2, d.Margin, d.Alt)
	}
	s0, s1 := d.sigmas()
	z := zCritical(d.Alpha, d.Alt)
	n := math.Pow((z*s0+normQ(power)*s1)/e, 2)
	n1 = int(math.Ceil(n - 1e-9)) // 1e-9: do not round 2319.0000000001 up
	return n1, int(math.Ceil(d.ratio()*float64(n1) - 1e-9)), nil
}

// MinDetectableEffect is the smallest increase P2 - P1 (P2 above P1; for
// Less the smallest decrease, as a positive number) that n1 baseline
// requests detect with the target power. P2 is ignored.
func (d TwoProportions) MinDetectableEffect(n1, power float64) (float64, error) {
	if n1 <= 0 || power <= 0 || power >= 1 {
		return math.NaN(), fmt.Errorf("need n1 > 0 and power in (0, 1), got %g and %g", n1, power)
	}
	f := func(delta float64) float64 {
		e := d
		if d.Alt == Less {
			e.P2 = d.P1 - delta
		} else {
			e.P2 = d.P1 + delta
		}
		return e.Power(n1)
	}
	hi := 1 - d.P1
	if d.Alt == Less {
		hi = d.P1
	}
	lo := 0.0
	if d.Alt == Greater {
		lo = d.Margin
	}
	x, err := solveIncreasing(f, lo, hi, power)
	if err != nil {
		return math.NaN(), fmt.Errorf("no error-rate change from %g is detectable with %g baseline requests at power %g: add traffic or time", d.P1, n1, power)
	}
	return x, nil
}

// ArcsineSampleSize is the per-arm sample size by the variance-stabilizing
// arcsine transform (Cohen's h): n = 2·((z_α + z_β)/h)², h = 2·asin√P2 -
// 2·asin√P1, equal arms. It is an alternative to SampleSize's pooled form
// and a little smaller for rare events.
func (d TwoProportions) ArcsineSampleSize(power float64) (int, error) {
	if err := d.validate(); err != nil {
		return 0, err
	}
	h := math.Abs(2*math.Asin(math.Sqrt(d.P2)) - 2*math.Asin(math.Sqrt(d.P1)))
	if h == 0 {
		return 0, fmt.Errorf("no effect to detect: rates are equal (%g)", d.P1)
	}
	n := 2 * math.Pow((zCritical(d.Alpha, d.Alt)+normQ(power))/h, 2)
	return int(math.Ceil(n - 1e-9)), nil
}

// MannWhitneyDesign describes a Mann-Whitney comparison by PSup =
// P(Y > X), the probability that a canary request is slower than a
// baseline request (0.5: no shift). Power and sample size follow Noether
// (1987), "Sample size determination for some common nonparametric tests",
// JASA 82:645: N = (z_α + z_β)² / (12·c·(1-c)·(PSup - 1/2)²) in total with
// c = n1/N.
type MannWhitneyDesign struct {
	PSup  float64
	Alpha float64
	Alt   Alternative
	// Ratio is n2/n1 (default 1).
	Ratio float64
}

func (d MannWhitneyDesign) ratio() float64 {
	if d.Ratio <= 0 {
		return 1
	}
	return d.Ratio
}

func (d MannWhitneyDesign) effect() float64 {
	switch d.Alt {
	case Greater:
		return d.PSup - 0.5
	case Less:
		return 0.5 - d.PSup
	default:
		return math.Abs(d.PSup - 0.5)
	}
}

// Power with n1 baseline and Ratio·n1 canary values:
// Φ(sqrt(12·n1·n2/N)·|PSup - 1/2| - z).
func (d MannWhitneyDesign) Power(n1 float64) float64 {
	if n1 <= 0 || d.Alpha <= 0 || d.Alpha >= 1 {
		return math.NaN()
	}
	n2 := d.ratio() * n1
	return normCDF(math.Sqrt(12*n1*n2/(n1+n2))*d.effect() - zCritical(d.Alpha, d.Alt))
}

// SampleSize returns the values per arm Noether's formula needs for the
// target power.
func (d MannWhitneyDesign) SampleSize(power float64) (n1, n2 int, err error) {
	if d.Alpha <= 0 || d.Alpha >= 1 || power <= 0 || power >= 1 {
		return 0, 0, fmt.Errorf("need alpha and power in (0, 1), got %g and %g", d.Alpha, power)
	}
	e := d.effect()
	if e <= 0 {
		return 0, 0, fmt.Errorf("no effect to detect: P(canary > baseline) = %g with a %s test", d.PSup, d.Alt)
	}
	k := d.ratio()
	c := 1 / (1 + k)
	total := math.Pow(zCritical(d.Alpha, d.Alt)+normQ(power), 2) / (12 * c * (1 - c) * e * e)
	n1 = int(math.Ceil(c*total - 1e-9))
	return n1, int(math.Ceil(k*float64(n1) - 1e-9)), nil
}

// MinDetectableEffect is the smallest |PSup - 1/2| that n1 baseline values
// detect with the target power (closed form).
func (d MannWhitneyDesign) MinDetectableEffect(n1, power float64) float64 {
	n2 := d.ratio() * n1
	return (zCritical(d.Alpha, d.Alt) + normQ(power)) / math.Sqrt(12*n1*n2/(n1+n2))
}

// LognormalPSup is P(Y > X) for log-normal latencies with the same log
// standard deviation sigma when Y's median is ratio times X's:
// Φ(ln(ratio) / (sigma·√2)).
func LognormalPSup(ratio, sigma float64) float64 {
	if sigma <= 0 {
		switch {
		case ratio > 1:
			return 1
		case ratio < 1:
			return 0
		}
		return 0.5
	}
	return normCDF(math.Log(ratio) / (sigma * math.Sqrt2))
}

// LognormalRatio inverts LognormalPSup: the median ratio that gives
// P(Y > X) = pSup.
func LognormalRatio(pSup, sigma float64) float64 {
	return math.Exp(sigma * math.Sqrt2 * normQ(pSup))
}
