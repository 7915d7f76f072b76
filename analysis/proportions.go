package analysis

import (
	"fmt"
	"math"
)

// Methods named in ProportionTest.Method.
const (
	MethodFisher        = "fisher-exact"
	MethodExactUncond   = "exact-unconditional"
	MethodPooledZ       = "z-pooled"
	MethodFarringtonMan = "farrington-manning"
)

// ProportionTest compares the canary's error rate with the baseline's:
// H0: canary - baseline <= Margin against H1: canary - baseline > Margin.
type ProportionTest struct {
	Method       string
	BaselineRate float64
	CanaryRate   float64
	Margin       float64
	// Diff is CanaryRate - BaselineRate.
	Diff float64
	// CI is the Newcombe hybrid-score interval for Diff at level 1-2·alpha:
	// its lower end is the one-sided 1-alpha lower bound that matches the
	// test.
	CI [2]float64
	// Z is the test statistic of the normal-approximation methods (NaN for
	// the exact ones).
	Z      float64
	PValue float64
}

// SmallCounts reports whether a 2x2 comparison is too thin for a normal
// approximation: an arm under 100 requests, or an expected cell (under
// equal rates) below 5, the textbook rule for the chi-square/z test.
func SmallCounts(baseN, baseErr, canN, canErr int) bool {
	if baseN < 100 || canN < 100 {
		return true
	}
	p := float64(baseErr+canErr) / float64(baseN+canN)
	for _, n := range []float64{float64(baseN), float64(canN)} {
		if n*p < 5 || n*(1-p) < 5 {
			return true
		}
	}
	return false
}

// ErrorRateTest tests whether the canary's error rate exceeds the baseline's
// by more than margin (an absolute difference of rates, 0 <= margin < 1).
// With small counts (see SmallCounts) it is exact: Fisher's exact test when
// margin is 0, otherwise an exact unconditional test on the
// Farrington-Manning score (Berger-Boos restricted maximum over the
// nuisance rate). Otherwise it is the pooled two-proportion z-test (margin 0)
// or the Farrington-Manning score test (margin > 0), which reduces to the
// pooled z-test at margin 0. alpha only sets the interval's level.
func ErrorRateTest(baseN, baseErr, canN, canErr int, margin, alpha float64) (ProportionTest, error) {
	if baseN <= 0 || canN <= 0 {
		return ProportionTest{}, fmt.Errorf("error-rate test needs requests in both arms (baseline %d, canary %d): wait for traffic before judging", baseN, canN)
	}
	if baseErr < 0 || canErr < 0 || baseErr > baseN || canErr > canN {
		return ProportionTest{}, fmt.Errorf("error counts out of range (baseline %d/%d, canary %d/%d): errors must be between 0 and the request count", baseErr, baseN, canErr, canN)
	}
	if margin < 0 || margin >= 1 {
		return ProportionTest{}, fmt.Errorf("error-rate margin %g out of range: use an absolute rate difference in [0, 1)", margin)
	}
	if alpha <= 0 || alpha >= 0.5 {
		return ProportionTest{}, fmt.Errorf("alpha %g out of range: use a value in (0, 0.5)", alpha)
	}
	pb, pc := float64(baseErr)/float64(baseN), float64(canErr)/float64(canN)
	t := ProportionTest{BaselineRate: pb, CanaryRate: pc, Margin: margin, Diff: pc - pb, Z: math.NaN()}
	t.CI = NewcombeCI(canErr, canN, baseErr, baseN, 1-2*alpha)
	if SmallCounts(baseN, baseErr, canN, canErr) {
		if margin == 0 {
			t.Method = MethodFisher
			t.PValue = FisherExactGreater(baseN, baseErr, canN, canErr)
			return t, nil
		}
		if p, ok := exactUnconditional(baseN, baseErr, canN, canErr, margin); ok {
			t.Method = MethodExactUncond
			t.PValue = p
			return t, nil
		}
		// Too many tables to enumerate: fall through to the score test,
		// which is what the exact test would converge to anyway.
	}
	t.Z = fmScore(float64(canErr), float64(canN), float64(baseErr), float64(baseN), margin)
	t.PValue = normSF(t.Z)
	t.Method = MethodPooledZ
	if margin > 0 {
		t.Method = MethodFarringtonMan
	}
	return t, nil
}

// errorRateLowP is the one-sided p-value for "the canary's error rate is
// lower than the baseline's" (margin 0), by the same method choice as
// ErrorRateTest. The judge uses it to class a metric "low".
func errorRateLowP(baseN, baseErr, canN, canErr int) float64 {
	if SmallCounts(baseN, baseErr, canN, canErr) {
		// The canary's lower tail is the baseline's upper tail.
		return FisherExactGreater(canN, canErr, baseN, baseErr)
	}
	z := fmScore(float64(canErr), float64(canN), float64(baseErr), float64(baseN), 0)
	return normCDF(z)
}

// PooledZ is the two-proportion z statistic with pooled variance,
// (p̂c - p̂b) / sqrt(p̄(1-p̄)(1/nb + 1/nc)); 0 when there is no variation.
func PooledZ(baseN, baseErr, canN, canErr int) float64 {
	return fmScore(float64(canErr), float64(canN), float64(baseErr), float64(baseN), 0)
}

// fmScore is the Farrington-Manning statistic for H0: p1 - p2 = delta,
// (p̂1 - p̂2 - delta) / sqrt(p̃1 q̃1/n1 + p̃2 q̃2/n2) with p̃ the maximum
// likelihood estimates restricted to H0. Group 1 is the canary.
func fmScore(x1, n1, x2, n2, delta float64) float64 {
	p1, p2 := fmRestricted(x1, n1, x2, n2, delta)
	se := math.Sqrt(p1*(1-p1)/n1 + p2*(1-p2)/n2)
	d := x1/n1 - x2/n2 - delta
	if se == 0 || math.IsNaN(se) {
		return 0
	}
	return d / se
}

// fmRestricted returns the maximum-likelihood (p1, p2) of two binomial
// samples under the constraint p1 - p2 = delta, by the closed-form root of
// the likelihood's cubic (Farrington & Manning 1990; Miettinen & Nurminen
// 1985). At delta 0 it is the pooled rate.
func fmRestricted(x1, n1, x2, n2, delta float64) (float64, float64) {
	if delta == 0 {
		p := (x1 + x2) / (n1 + n2)
		return p, p
	}
	p1h, p2h := x1/n1, x2/n2
	theta := n2 / n1
	a := 1 + theta
	b := -(1 + theta + p1h + theta*p2h + delta*(theta+2))
	c := delta*delta + delta*(2*p1h+theta+1) + p1h + theta*p2h
	d := -p1h * delta * (1 + delta)
	v := b*b*b/(27*a*a*a) - b*c/(6*a*a) + d/(2*a)
	u := math.Sqrt(b*b/(9*a*a) - c/(3*a))
	if v < 0 {
		u = -u
	}
	if u != 0 && !math.IsNaN(u) {
		r := v / (u * u * u)
		r = math.Max(-1, math.Min(1, r))
		w := (math.Pi + math.Acos(r)) / 3
		p1 := 2*u*math.Cos(w) - b/(3*a)
		p2 := p1 - delta
		if p2 >= -1e-12 && p1 <= 1+1e-12 {
			return clamp01(p1), clamp01(p2)
		}
	}
	return fmRestrictedNumeric(x1, n1, x2, n2, delta)
}

// fmRestrictedNumeric maximizes the restricted log-likelihood by golden
// section over p2 in [0, 1-delta]; a fallback for degenerate cubics.
func fmRestrictedNumeric(x1, n1, x2, n2, delta float64) (float64, float64) {
	ll := func(p2 float64) float64 {
		p1 := p2 + delta
		return xlogy(x1, p1) + xlogy(n1-x1, 1-p1) + xlogy(x2, p2) + xlogy(n2-x2, 1-p2)
	}
	lo, hi := 0.0, 1-delta
	g := (math.Sqrt(5) - 1) / 2
	for range 200 {
		m1 := hi - g*(hi-lo)
		m2 := lo + g*(hi-lo)
		if ll(m1) < ll(m2) {
			lo = m1
		} else {
			hi = m2
		}
	}
	p2 := (lo + hi) / 2
	return p2 + delta, p2
}

// xlogy is x·log(y) with 0·log(0) = 0.
func xlogy(x, y float64) float64 {
	if x == 0 {
		return 0
	}
	return x * math.Log(y)
}

// FisherExactGreater is the one-sided Fisher exact p-value that the canary's
// error rate is higher: P(X >= canErr) where X, the canary's share of all
// errors given both margins of the 2x2 table, is hypergeometric.
func FisherExactGreater(baseN, baseErr, canN, canErr int) float64 {
	n := baseN + canN
	k := baseErr + canErr
	hi := min(k, canN)
	logDenom := lchoose(n, canN)
	var p float64
	for x := canErr; x <= hi; x++ {
		term := math.Exp(lchoose(k, x) + lchoose(n-k, canN-x) - logDenom)
		p += term
		if x > canErr+10 && term < p*1e-17 {
			break // the tail past the mode only shrinks
		}
	}
	return clamp01(p)
}

// WilsonCI is the Wilson score interval for a binomial proportion x/n at
// confidence level conf.
func WilsonCI(x, n int, conf float64) [2]float64 {
	if n == 0 {
		return [2]float64{0, 1}
	}
	z := normQ(1 - (1-conf)/2)
	nf, p := float64(n), float64(x)/float64(n)
	c := 2*nf*p + z*z
	s := z * math.Sqrt(4*nf*p*(1-p)+z*z)
	d := 2 * (nf + z*z)
	return [2]float64{clamp01((c - s) / d), clamp01((c + s) / d)}
}

// NewcombeCI is Newcombe's hybrid score interval (1998, method 10) for the
// difference x1/n1 - x2/n2 at confidence level conf, built from the two
// Wilson intervals; it keeps its coverage at small counts and rates near 0.
func NewcombeCI(x1, n1, x2, n2 int, conf float64) [2]float64 {
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	w1, w2 := WilsonCI(x1, n1, conf), WilsonCI(x2, n2, conf)
	d := p1 - p2
	return [2]float64{
		d - math.Sqrt((p1-w1[0])*(p1-w1[0])+(w2[1]-p2)*(w2[1]-p2)),
		d + math.Sqrt((w1[1]-p1)*(w1[1]-p1)+(p2-w2[0])*(p2-w2[0])),
	}
}
