package analysis

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Limits of the exact unconditional test: the number of (baseline, canary)
// error-count tables it enumerates, and the nuisance grid.
const (
	exactMaxCells = 2_000_000
	exactGrid     = 60
	bergerBoosGam = 1e-3
)

// exactUnconditional is the exact unconditional p-value for
// H0: p_c - p_b <= margin (margin > 0), on the Farrington-Manning score T:
// sup over the nuisance p_b of P(T >= t_obs) with p_c = p_b + margin (the
// boundary of H0, where the rejection probability is largest for this
// monotone statistic). Following Berger & Boos (1994) the supremum runs
// over a 1-γ Clopper-Pearson interval for p_b only, and γ is added to the
// result, which keeps the test valid and the search short. ok is false when
// the tables to enumerate exceed exactMaxCells.
func exactUnconditional(baseN, baseErr, canN, canErr int, margin float64) (p float64, ok bool) {
	tObs := fmScore(float64(canErr), float64(canN), float64(baseErr), float64(baseN), margin)
	ci := clopperPearson(baseErr, baseN, 1-bergerBoosGam)
	lo, hi := ci[0], math.Min(ci[1], 1-margin)
	if lo > hi {
		// Under H0 the canary rate would exceed 1: no table can reject.
		return 1, true
	}
	bLo, bHi := binomRange(baseN, lo, hi)
	cLo, cHi := binomRange(canN, lo+margin, hi+margin)
	rb, rc := bHi-bLo+1, cHi-cLo+1
	if rb*rc > exactMaxCells {
		return math.NaN(), false
	}
	// first[i] is, for baseline count bLo+i, the smallest canary count
	// whose statistic reaches tObs (the score rises with the canary's
	// count), or cHi+1 when none does.
	first := make([]int, rb)
	for i := range rb {
		xb := float64(bLo + i)
		first[i] = cHi + 1
		for xc := cHi; xc >= cLo; xc-- {
			if fmScore(float64(xc), float64(canN), xb, float64(baseN), margin) < tObs-1e-9 {
				break
			}
			first[i] = xc
		}
	}
	pmfB := make([]float64, rb)
	sfC := make([]float64, rc+1) // sfC[j] = P(canary count >= cLo+j)
	best := 0.0
	for g := 0; g <= exactGrid; g++ {
		pb := lo + (hi-lo)*float64(g)/exactGrid
		pc := pb + margin
		for i := range rb {
			pmfB[i] = binomPMF(bLo+i, baseN, pb)
		}
		sfC[rc] = 0
		for j := rc - 1; j >= 0; j-- {
			sfC[j] = sfC[j+1] + binomPMF(cLo+j, canN, pc)
		}
		var s float64
		for i := range rb {
			if first[i] <= cHi {
				s += pmfB[i] * sfC[first[i]-cLo]
			}
		}
		best = math.Max(best, s)
	}
	return clamp01(best + bergerBoosGam), true
}

// binomRange bounds the counts of a Binomial(n, p) with p in [pLo, pHi] that
// carry any probability worth adding (beyond ±10 standard deviations the
// mass is below 1e-20).
func binomRange(n int, pLo, pHi float64) (int, int) {
	nf := float64(n)
	lo := nf*pLo - 10*math.Sqrt(nf*pLo*(1-pLo)) - 10
	hi := nf*pHi + 10*math.Sqrt(nf*pHi*(1-pHi)) + 10
	return max(0, int(math.Floor(lo))), min(n, int(math.Ceil(hi)))
}

// binomPMF is P(X = x) for X ~ Binomial(n, p).
func binomPMF(x, n int, p float64) float64 {
	switch {
	case p <= 0:
		if x == 0 {
			return 1
		}
		return 0
	case p >= 1:
		if x == n {
			return 1
		}
		return 0
	}
	return math.Exp(lchoose(n, x) + float64(x)*math.Log(p) + float64(n-x)*math.Log1p(-p))
}

// clopperPearson is the exact (Clopper-Pearson) interval for x/n at
// confidence level conf.
func clopperPearson(x, n int, conf float64) [2]float64 {
	a := (1 - conf) / 2
	var ci [2]float64
	if x > 0 {
		ci[0] = distuv.Beta{Alpha: float64(x), Beta: float64(n - x + 1)}.Quantile(a)
	}
	ci[1] = 1
	if x < n {
		ci[1] = distuv.Beta{Alpha: float64(x + 1), Beta: float64(n - x)}.Quantile(1 - a)
	}
	return ci
}
