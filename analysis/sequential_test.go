package analysis

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// aaRun simulates one canary second by second: each second adds perSec
// Bernoulli draws to each arm; it returns whether the sequential test and
// the peeked fixed-horizon z-test ever rejected at alpha.
func aaRun(t *testing.T, rng *rand.Rand, pb, pc float64, secs, perSec int, alpha float64) (seq, peek bool) {
	s, err := NewSequentialTest(SequentialConfig{})
	require.NoError(t, err)
	z := NewPeekingZTest()
	for range secs {
		eb, ec := 0, 0
		for range perSec {
			if rng.Float64() < pb {
				eb++
			}
			if rng.Float64() < pc {
				ec++
			}
		}
		s.Update(perSec, eb, perSec, ec)
		z.Update(perSec, eb, perSec, ec)
	}
	return s.Reject(alpha), z.Reject(alpha)
}

// The acceptance test: 1,000 healthy (A/A) canaries, each looked at
// every second for 60 seconds (50 baseline and 50 canary requests per
// second, error rate 1%). The always-valid p-value must keep false
// rollbacks at or below alpha plus sampling tolerance, 3·sqrt(α(1-α)/1000)
// = 0.0207; the fixed-horizon z-test checked at every look must not.
func TestSequentialAAFalseAlarms(t *testing.T) {
	const runs, alpha = 1000, 0.05
	rng := rand.New(rand.NewPCG(2017, 1))
	seq, peek := 0, 0
	for range runs {
		s, p := aaRun(t, rng, 0.01, 0.01, 60, 50, alpha)
		if s {
			seq++
		}
		if p {
			peek++
		}
	}
	fSeq, fPeek := float64(seq)/runs, float64(peek)/runs
	tol := 3 * math.Sqrt(alpha*(1-alpha)/runs)
	t.Logf("A/A false rollbacks over 60 looks: mSPRT %.3f, peeked z-test %.3f (alpha %.2f, bound %.4f)", fSeq, fPeek, alpha, alpha+tol)
	assert.LessOrEqual(t, fSeq, alpha+tol)
	assert.Greater(t, fPeek, alpha+tol, "peeking at a fixed-horizon test must inflate false alarms")
}

// And it still finds a real regression (1% -> 3%) within the minute.
func TestSequentialDetectsRegression(t *testing.T) {
	rng := rand.New(rand.NewPCG(2017, 2))
	hits := 0
	for range 200 {
		if s, _ := aaRun(t, rng, 0.01, 0.03, 60, 50, 0.05); s {
			hits++
		}
	}
	t.Logf("detected 1%%->3%% within 60 s in %d of 200 runs", hits)
	assert.GreaterOrEqual(t, hits, 180)
}

// The closed form of the half-normal mixture must equal the integral it
// stands for: ∫₀^∞ exp((θΔ - θ²/2)/V) · (2/τ)φ(θ/τ) dθ.
func TestMixtureLikelihoodRatioClosedForm(t *testing.T) {
	cases := []struct{ xb, nb, xc, nc int }{{30, 3000, 45, 3000}, {10, 2000, 4, 1000}, {1, 50, 3, 50}}
	for _, c := range cases {
		s, err := NewSequentialTest(SequentialConfig{Tau: 0.01})
		require.NoError(t, err)
		s.Update(c.nb, c.xb, c.nc, c.xc)
		p := float64(c.xb+c.xc) / float64(c.nb+c.nc)
		v := p * (1 - p) * (1/float64(c.nb) + 1/float64(c.nc))
		d := float64(c.xc)/float64(c.nc) - float64(c.xb)/float64(c.nb)
		const tau = 0.01
		var sum float64
		const steps = 200000
		hi := 10 * tau
		h := hi / steps
		for i := range steps {
			th := (float64(i) + 0.5) * h
			sum += math.Exp((th*d-th*th/2)/v) * 2 / tau * math.Exp(-th*th/(2*tau*tau)) / math.Sqrt(2*math.Pi) * h
		}
		assert.InDelta(t, sum, s.Lambda(), 1e-6*math.Max(1, sum), "%+v", c)
	}
}

func TestSequentialBookkeeping(t *testing.T) {
	s, err := NewSequentialTest(SequentialConfig{})
	require.NoError(t, err)
	assert.Equal(t, 1.0, s.AlwaysValidP())
	s.Update(100, 0, 100, 0) // no variation: no evidence
	assert.Equal(t, 1.0, s.AlwaysValidP())
	s.Update(1000, 10, 1000, 80)
	p := s.AlwaysValidP()
	assert.Less(t, p, 0.001)
	s.Update(100000, 1000, 100000, 1000) // good news later cannot raise p
	assert.Equal(t, p, s.AlwaysValidP())
	nb, xb, nc, xc := s.Counts()
	assert.Equal(t, [4]int{101100, 1010, 101100, 1080}, [4]int{nb, xb, nc, xc})
	assert.Equal(t, 3, s.Looks())
	assert.Panics(t, func() { s.Update(1, 2, 1, 0) })
	_, err = NewSequentialTest(SequentialConfig{Tau: -1})
	assert.Error(t, err)
}
