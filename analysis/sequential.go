package analysis

import (
	"fmt"
	"math"
)

// DefaultTau is the default mixing scale of the sequential test: the size,
// in absolute error rate, of the regressions it is tuned to find fastest.
const DefaultTau = 0.01

// SequentialConfig configures a SequentialTest.
type SequentialConfig struct {
	// Margin is the tolerated absolute increase of the canary's error rate
	// (H0: canary - baseline <= Margin).
	Margin float64
	// Tau is the standard deviation of the half-normal mixing distribution
	// over the increase beyond Margin (default DefaultTau). Detection is
	// fastest for increases near Tau; validity holds for any Tau.
	Tau float64
}

// SequentialTest is a mixture sequential probability ratio test (mSPRT) for
// an increase of the canary's error rate over the baseline's, after
// Johari, Koomen, Pekelis & Walsh, "Peeking at A/B tests" (KDD 2017) and
// Johari, Pekelis & Walsh, "Always valid inference" (2015). Its p-value is
// valid at every look, so the judge may check it every second and stop at
// the first rejection without inflating false alarms.
//
// With Δ̂ = p̂c - p̂b - Margin and V the variance of p̂c - p̂b (the pooled
// variance at Margin 0, the Farrington-Manning restricted one otherwise),
// the mixture likelihood ratio over a half-normal(τ) prior on the increase
// beyond Margin is
//
//	Λ = 2·sqrt(V/(V+τ²))·exp(τ²Δ̂²/(2V(V+τ²)))·Φ(τΔ̂/sqrt(V(V+τ²)))
//
// (the one-sided form of the paper's normal mixture), and the always-valid
// p-value is the running minimum of min(1, 1/Λ). Under H0, Λ is (in the
// normal approximation) a non-negative supermartingale with mean ≤ 1, so by
// Ville's inequality P(ever Λ ≥ 1/α) ≤ α.
type SequentialTest struct {
	cfg            SequentialConfig
	nb, xb, nc, xc int
	lambda         float64
	p              float64
	looks          int
	// exact, at margin 0, must reject too (sequential_exact.go): the
	// normal mixture alone overshoots alpha while counts are small.
	exact *conditionalTest
}

// NewSequentialTest returns a test with no data (p-value 1).
func NewSequentialTest(cfg SequentialConfig) (*SequentialTest, error) {
	if cfg.Tau == 0 {
		cfg.Tau = DefaultTau
	}
	if cfg.Tau < 0 || math.IsNaN(cfg.Tau) {
		return nil, fmt.Errorf("sequential test tau %g must be positive (e.g. the error-rate increase you want to catch, 0.01)", cfg.Tau)
	}
	if cfg.Margin < 0 || cfg.Margin >= 1 {
		return nil, fmt.Errorf("sequential test margin %g out of range: use an absolute rate difference in [0, 1)", cfg.Margin)
	}
	s := &SequentialTest{cfg: cfg, p: 1}
	if cfg.Margin == 0 {
		s.exact = newConditionalTest()
	}
	return s, nil
}

// Update adds the requests and errors observed in each arm since the
// previous call (increments, not totals) and looks at the data once.
// Negative increments or more errors than requests panic: they are bugs in
// the caller's bookkeeping, not data.
func (s *SequentialTest) Update(baselineN, baselineErr, canaryN, canaryErr int) {
	if baselineN < 0 || canaryN < 0 || baselineErr < 0 || canaryErr < 0 || baselineErr > baselineN || canaryErr > canaryN {
		panic(fmt.Sprintf("analysis: SequentialTest.Update(%d, %d, %d, %d): increments must be non-negative with errors <= requests", baselineN, baselineErr, canaryN, canaryErr))
	}
	s.nb += baselineN
	s.xb += baselineErr
	s.nc += canaryN
	s.xc += canaryErr
	s.looks++
	s.lambda = s.mixtureLR()
	if s.lambda > 0 {
		s.p = math.Min(s.p, math.Min(1, 1/s.lambda))
	}
	if s.exact != nil {
		s.exact.update(baselineN, baselineErr, canaryN, canaryErr)
	}
}

// mixtureLR is Λ for the counts so far (0 before both arms have data or
// while the data show no variation).
func (s *SequentialTest) mixtureLR() float64 {
	if s.nb == 0 || s.nc == 0 {
		return 0
	}
	nb, nc := float64(s.nb), float64(s.nc)
	pc, pb := fmRestricted(float64(s.xc), nc, float64(s.xb), nb, s.cfg.Margin)
	v := pc*(1-pc)/nc + pb*(1-pb)/nb
	if v <= 0 {
		return 0
	}
	d := float64(s.xc)/nc - float64(s.xb)/nb - s.cfg.Margin
	t2 := s.cfg.Tau * s.cfg.Tau
	logL := math.Log(2) + 0.5*math.Log(v/(v+t2)) + t2*d*d/(2*v*(v+t2)) +
		logNormCDF(s.cfg.Tau*d/math.Sqrt(v*(v+t2)))
	return math.Exp(logL)
}

// Lambda is the current mixture likelihood ratio.
func (s *SequentialTest) Lambda() float64 { return s.lambda }

// AlwaysValidP is the always-valid p-value: the smallest 1/Λ seen so far,
// capped at 1 — at margin 0, the larger of that and the exact conditional
// test's (a rejection needs both). It never increases.
func (s *SequentialTest) AlwaysValidP() float64 {
	if s.exact != nil {
		return math.Max(s.p, s.exact.p)
	}
	return s.p
}

// Reject reports whether H0 (no increase beyond the margin) is rejected at
// level alpha: AlwaysValidP() <= alpha.
func (s *SequentialTest) Reject(alpha float64) bool { return s.AlwaysValidP() <= alpha }

// Looks is the number of Update calls so far.
func (s *SequentialTest) Looks() int { return s.looks }

// Counts returns the totals so far.
func (s *SequentialTest) Counts() (baselineN, baselineErr, canaryN, canaryErr int) {
	return s.nb, s.xb, s.nc, s.xc
}

// PeekingZTest is the fixed-horizon pooled z-test misused sequentially: it
// recomputes the one-sided p-value at every Update and counts a rejection
// as soon as any look falls below alpha. It exists to show (in tests and
// reports) why repeated looks need the SequentialTest: its false-alarm
// rate grows with the number of looks.
type PeekingZTest struct {
	nb, xb, nc, xc int
	p, minP        float64
	looks          int
}

// NewPeekingZTest returns a peeking test with no data.
func NewPeekingZTest() *PeekingZTest { return &PeekingZTest{p: 1, minP: 1} }

// Update adds increments (as SequentialTest.Update) and looks once.
func (z *PeekingZTest) Update(baselineN, baselineErr, canaryN, canaryErr int) {
	z.nb += baselineN
	z.xb += baselineErr
	z.nc += canaryN
	z.xc += canaryErr
	z.looks++
	z.p = 1
	if z.nb > 0 && z.nc > 0 && z.xb+z.xc > 0 {
		z.p = normSF(PooledZ(z.nb, z.xb, z.nc, z.xc))
	}
	z.minP = math.Min(z.minP, z.p)
}

// P is the fixed-horizon p-value at the latest look (valid only if this
// look was the one planned in advance).
func (z *PeekingZTest) P() float64 { return z.p }

// Reject reports whether any look so far had p <= alpha: what a controller
// that stops at the first significant look would have done.
func (z *PeekingZTest) Reject(alpha float64) bool { return z.minP <= alpha }
