package verdict

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/record"
)

// burnPeak's one-pass sliding windows agree with analysis.BurnAlert
// evaluated at the same instants.
func TestBurnPeakAgreesWithBurnAlert(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var samples []record.Sample
	for i := range 3000 { // 100 rps for 30 s; 40% errors between 12 s and 15 s
		at := time.Duration(i) * 10 * time.Millisecond
		st := int16(200)
		bad := 0.001
		if at >= 12*time.Second && at < 15*time.Second {
			bad = 0.4
		}
		if rng.Float64() < bad {
			st = 500
		}
		samples = append(samples, record.Sample{At: int64(at), Status: st, Source: record.Client})
	}
	slo := analysis.SLO{Objective: 0.99}
	short, long := 2*time.Second, 24*time.Second
	// By hand: the short window burns ~40x during the errors, the long one
	// (clipped at the start) reaches 0.4·3s/15s = 8% bad, 8x, at +15 s; it
	// passes 5x at 0.4·(t-12)/t = 0.05, t = 13.7 s.
	p := burnPeak(samples, slo, 0, short, long, 5)

	rule := []analysis.BurnRule{{Long: long, Short: short, Factor: 5}}
	var peak float64
	var peakAt, firstFire time.Duration = 0, -1
	for at := short; at <= 30*time.Second; at += p.Step {
		res, err := analysis.BurnAlert(samples, at, slo, rule)
		require.NoError(t, err)
		ev := res.Evals[0]
		if lv := min(ev.LongRate, ev.ShortRate); lv > peak {
			peak, peakAt = lv, at
		}
		if res.Firing && firstFire < 0 {
			firstFire = at
		}
	}
	assert.InDelta(t, peak, p.Level, 1e-9)
	assert.Equal(t, peakAt, p.At)
	assert.Equal(t, firstFire, p.FiredAt)
	assert.InDelta(t, 8, p.Level, 1.5, "the long window at its worst")
	assert.GreaterOrEqual(t, p.FiredAt, 13*time.Second)
	assert.Less(t, p.FiredAt, 15*time.Second)

	// One early error among a handful of requests is not judged.
	early := []record.Sample{{At: 0, Status: 500}, {At: int64(100 * time.Millisecond), Status: 200}}
	for i := 2; i < 400; i++ {
		early = append(early, record.Sample{At: int64(time.Duration(i) * 10 * time.Millisecond), Status: 200})
	}
	e := burnPeak(early, slo, 0, short, long, 10)
	assert.Less(t, e.Level, 1.0, "1 bad of 200 in the first full short window burns 0.5x")
	assert.Equal(t, time.Duration(-1), e.FiredAt)
}
