package analysis

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testPlan() Plan {
	return Plan{
		Rate:              20,
		Steps:             []PlanStep{{Weight: 10, Duration: 2 * time.Minute}, {Weight: 50, Duration: time.Minute}},
		Alpha:             0.05,
		BaselineErrorRate: 0.01,
		LatencyLogSD:      0.5,
	}
}

func TestPlanPowerByHand(t *testing.T) {
	// Step 1: 20 rps × 120 s: baseline 2160, canary 240 (k = 1/9); 1% ->
	// 3%, one-sided 0.05: p̄ = 0.012, σ0 = sqrt(0.012·0.988·10) = 0.344325,
	// σ1 = sqrt(0.0099 + 0.0291·9) = 0.521344,
	// power = Φ((0.02·sqrt(2160) - 1.644854·0.344325)/0.521344) = 0.75696.
	// Step 2: 600 and 600: p̄ = 0.02, σ0 = 0.197990, σ1 = 0.197484,
	// power = Φ((0.02·sqrt(600) - 1.644854·0.197990)/0.197484) = 0.79719.
	// Overall: 1 - (1-0.75696)(1-0.79719) = 0.95071.
	pp, err := testPlan().Power(Regression{ErrorAbs: 0.02})
	require.NoError(t, err)
	require.Len(t, pp.Steps, 2)
	assert.InDelta(t, 2160, pp.Steps[0].BaselineN, 1e-9)
	assert.InDelta(t, 240, pp.Steps[0].CanaryN, 1e-9)
	assert.InDelta(t, 0.75696, pp.Steps[0].Power, 1e-5)
	assert.InDelta(t, 0.79719, pp.Steps[1].Power, 1e-5)
	assert.InDelta(t, 0.95071, pp.Overall, 1e-5)
	assert.True(t, math.IsNaN(pp.Steps[0].LatencyPower))
	assert.InDelta(t, 1-0.95*0.95, pp.FalseAlarmBound, 1e-12)

	// The same regression as relative: 1% × (1+2) = 3%.
	rel, err := testPlan().Power(Regression{ErrorRel: 2})
	require.NoError(t, err)
	assert.InDelta(t, pp.Overall, rel.Overall, 1e-12)
}

func TestPlanLatencyPowerByHand(t *testing.T) {
	// 10% of 20 rps for 60 s: baseline 1080·0.99, canary 120·0.99 successful
	// requests. Ratio 1.2 with log-sd 0.5: P(Y>X) = Φ(ln 1.2/(0.5·√2)) =
	// 0.601735; sqrt(12·n1·n2/N) = 35.8195;
	// power = Φ(35.8195·0.101735 - 1.644854) = 0.97721.
	p := testPlan()
	p.Steps = []PlanStep{{Weight: 10, Duration: time.Minute}}
	pp, err := p.Power(Regression{LatencyRatio: 1.2})
	require.NoError(t, err)
	assert.InDelta(t, 0.97721, pp.Overall, 1e-5)
	assert.True(t, math.IsNaN(pp.Steps[0].ErrorPower))
}

func TestPlanInverseQuestions(t *testing.T) {
	p := testPlan()
	mde, err := p.MinDetectable(ByErrorAbs, 0.8)
	require.NoError(t, err)
	at, err := p.Power(Regression{ErrorAbs: mde})
	require.NoError(t, err)
	assert.InDelta(t, 0.8, at.Overall, 1e-6)
	assert.Less(t, mde, 0.02, "the 2-point regression had 95% power")

	ratio, err := p.MinDetectable(ByLatencyRatio, 0.8)
	require.NoError(t, err)
	at, err = p.Power(Regression{LatencyRatio: ratio})
	require.NoError(t, err)
	assert.InDelta(t, 0.8, at.Overall, 1e-6)
	assert.Greater(t, ratio, 1.0)

	reg := Regression{ErrorAbs: 0.01}
	d, err := p.DurationFor(0, reg, 0.8)
	require.NoError(t, err)
	long, short := p, p
	long.Steps = []PlanStep{{Weight: 10, Duration: d}}
	short.Steps = []PlanStep{{Weight: 10, Duration: d - time.Second}}
	pl, _ := long.Power(reg)
	ps, _ := short.Power(reg)
	assert.GreaterOrEqual(t, pl.Overall, 0.8)
	assert.Less(t, ps.Overall, 0.8)

	reg = Regression{ErrorAbs: 0.02}
	w, err := p.WeightFor(0, reg, 0.8)
	require.NoError(t, err)
	at1, at0 := p, p
	at1.Steps = []PlanStep{{Weight: w, Duration: 2 * time.Minute}}
	at0.Steps = []PlanStep{{Weight: w - 1, Duration: 2 * time.Minute}}
	p1, _ := at1.Power(reg)
	p0, _ := at0.Power(reg)
	assert.GreaterOrEqual(t, p1.Overall, 0.8)
	assert.Less(t, p0.Overall, 0.8)

	_, err = Plan{}.Power(reg)
	assert.Error(t, err)
	_, err = p.Power(Regression{})
	assert.Error(t, err)
}

// The plan's closed form against the judge itself on step 2 (600 and 600
// requests, enough errors for the z-test): within 3 points. Step 1 has
// ~3 expected canary errors, where the judge switches to Fisher's exact
// test and is more conservative than the normal formula; the Monte-Carlo
// shows by how much.
func TestPlanMonteCarloAgreesWhereNormalHolds(t *testing.T) {
	reg := Regression{ErrorAbs: 0.02}
	closed, err := testPlan().Power(reg)
	require.NoError(t, err)
	mc, err := testPlan().MonteCarlo(reg, 1500, 42)
	require.NoError(t, err)
	t.Logf("step 1 (exact test): closed %.3f, monte-carlo %.3f; step 2: closed %.3f, monte-carlo %.3f",
		closed.Steps[0].Power, mc.Steps[0].Power, closed.Steps[1].Power, mc.Steps[1].Power)
	assert.InDelta(t, closed.Steps[1].Power, mc.Steps[1].Power, 0.03)
	assert.Less(t, mc.Steps[0].Power, closed.Steps[0].Power, "the exact test is conservative")
	assert.True(t, closed.Steps[0].SmallCounts)
	assert.False(t, closed.Steps[1].SmallCounts)
}

func TestLatencyLogSD(t *testing.T) {
	// 26 values at ln(20ms)-0.5, 48 at ln(20ms), 26 at ln(20ms)+0.5: the
	// 25th and 75th of 100 are the outer groups, IQR = 1, sd = 1/1.349.
	var ls []time.Duration
	for i := range 100 {
		d := 20 * time.Millisecond
		switch {
		case i < 26:
			d = time.Duration(20000*math.Exp(-0.5)) * time.Microsecond
		case i >= 74:
			d = time.Duration(20000*math.Exp(0.5)) * time.Microsecond
		}
		ls = append(ls, d)
	}
	assert.InDelta(t, 1/1.3489795, LatencyLogSD(ls), 1e-4)
	assert.True(t, math.IsNaN(LatencyLogSD(nil)))
}
