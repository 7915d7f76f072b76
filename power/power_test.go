package power

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// One step at 50% of 100 rps for 36.52 s gives 1,826 requests per arm.
// By hand (Fleiss eq. 4.14, one-sided alpha 0.05, pooled null variance):
// 1% -> 2% needs n = (1.6449·sqrt(2·0.015·0.985) + 0.8416·sqrt(0.01·0.99 +
// 0.02·0.98))² / 0.01² = (0.28276 + 0.14455)² / 1e-4 = 1825.9 per arm for
// power 0.80, so the plan's power is 0.800 and the step needs 37 s.
func TestPlanPowerErrorRateMatchesHandComputation(t *testing.T) {
	base, zero := 0.01, 0.0
	rep, err := Compute(nil, Input{
		Regression: analysis.Regression{ErrorAbs: 0.01},
		Rate:       100, Steps: []analysis.PlanStep{{Weight: 50, Duration: 36520 * time.Millisecond}},
		BaselineErrorRate: &base, ErrorMargin: &zero, Trials: 2000, Seed: 5,
	})
	require.NoError(t, err)
	assert.InDelta(t, 0.800, rep.Power, 0.002)
	assert.Equal(t, 0.8, rep.Target, "default target")
	assert.Equal(t, "37s", rep.Steps[0].DurationNeeded)
	assert.InDelta(t, 1826, rep.Steps[0].CanaryN, 1)
	// The judge itself, simulated: within 3 points of the closed form
	// (2,000 trials: one standard error is 0.9 points).
	require.NotNil(t, rep.MonteCarlo)
	assert.InDelta(t, rep.Power, *rep.MonteCarlo, 0.03)
	assert.Equal(t, "closed form", rep.EffectiveMethod, "no small counts here")
	assert.InDelta(t, 1, rep.PauseScale, 0.01, "the plan is just at the target")
	// The smallest detectable increase at 80% is the one we sized for.
	require.NotEmpty(t, rep.MinDetectable)
	assert.Equal(t, "error_rate_increase", rep.MinDetectable[0].Kind)
	assert.InDelta(t, 0.01, rep.MinDetectable[0].Value, 0.0002)
}

// Latency: log-normal sigma 0.5, canary 20% slower, no allowance. By hand,
// P(Y > X) = Φ(ln 1.2 / (0.5·√2)) = Φ(0.25784) = 0.60174, and Noether's
// formula gives power Φ(sqrt(12·100·100/200)·0.10174 - 1.6449) =
// Φ(0.8472) = 0.8015 with 100 requests per arm (50% of 100 rps for 2 s).
func TestPlanPowerLatencyMatchesNoether(t *testing.T) {
	sd, zero, base := 0.5, 0.0, 0.0
	rep, err := Compute(nil, Input{
		Regression: analysis.Regression{LatencyRatio: 1.2},
		Rate:       100, Steps: []analysis.PlanStep{{Weight: 50, Duration: 2 * time.Second}},
		LatencyLogSD: &sd, LatencyAllowed: &zero, BaselineErrorRate: &base,
	})
	require.NoError(t, err)
	assert.InDelta(t, 0.8015, rep.Power, 0.001)
	require.NotNil(t, rep.Steps[0].LatencyPower)
	assert.Nil(t, rep.Steps[0].ErrorPower, "no error part in the regression")
	assert.Contains(t, rep.Advice, "strong enough")
}

// A scenario's plan: rate, steps, regression and the fixture's settings are
// read from the file, and the advice names a plan that would do.
func TestPlanPowerFromScenario(t *testing.T) {
	sc, err := scenarios.Load("../scenarios/examples/canary-power.yaml")
	require.NoError(t, err)
	rep, err := Compute(sc, Input{})
	require.NoError(t, err)
	assert.Equal(t, "web", rep.Service)
	assert.Equal(t, 20.0, rep.Rate)
	assert.Equal(t, 0.01, rep.BaselineErrorRate, "ERROR_RATE of the fixture")
	// ln(20ms / 5ms) / z_0.99 = 1.38629 / 2.32635 = 0.59592
	assert.InDelta(t, 0.59592, rep.LatencyLogSD, 1e-4)
	assert.Equal(t, analysis.Regression{ErrorAbs: 0.03}, rep.Reg, "the canary_power expectation's regression")
	assert.Equal(t, 0.01, rep.ErrorMargin, "the rollout analysis's error_margin")
	assert.Equal(t, 0.05, rep.Alpha)
	require.Len(t, rep.Steps, 2)
	assert.Equal(t, 16.0, rep.Steps[0].CanaryN, "20 rps x 10% x 8 s")
	assert.Equal(t, 144.0, rep.Steps[0].BaselineN)
	assert.Less(t, rep.Effective, 0.8)
	assert.Contains(t, rep.Advice, "too weak")
	assert.Contains(t, rep.Advice, "every pause x")
	assert.Greater(t, rep.PauseScale, 5.0, "a 16-request canary is far from enough")

	// Flags win over the scenario.
	rep2, err := Compute(sc, Input{Rate: 2000, Regression: analysis.Regression{ErrorRel: 3}})
	require.NoError(t, err)
	assert.Equal(t, 2000.0, rep2.Rate)
	assert.Greater(t, rep2.Power, 0.99, "1% -> 4% errors among 1,600 and 4,800 canary requests")

	// A regression within the judge's margin is detected at the false-alarm
	// rate, whatever the plan: no length reaches the target.
	rep3, err := Compute(sc, Input{Regression: analysis.Regression{ErrorAbs: 0.01}})
	require.NoError(t, err)
	assert.Less(t, rep3.Power, 0.1)
	assert.Zero(t, rep3.PauseScale)
	assert.Contains(t, rep3.Advice, "the judge tolerates this regression")
}

func TestPlanPowerInputErrors(t *testing.T) {
	_, err := Compute(nil, Input{Steps: []analysis.PlanStep{{Weight: 10, Duration: time.Minute}}})
	assert.ErrorContains(t, err, "--rate")
	_, err = Compute(nil, Input{Rate: 10})
	assert.ErrorContains(t, err, "--steps")
	_, err = Compute(nil, Input{Rate: 10, Steps: []analysis.PlanStep{{Weight: 10, Duration: time.Minute}}, Baseline: &reports.Result{}})
	assert.ErrorContains(t, err, "--baseline needs a scenario")
}

func TestCallPaths(t *testing.T) {
	// gateway -> a -> c, gateway -> b -> c, gateway -> c: three paths to c.
	sc, err := scenarios.Parse("d.yaml", []byte(`
name: diamond
services:
  gateway: {fixture: httpsvc, depends_on: [a, b, c]}
  a: {fixture: httpsvc, depends_on: [c]}
  b: {fixture: httpsvc, depends_on: [c]}
  c: {fixture: httpsvc}
traffic: {entry: gateway, rate: 10, duration: 10s}
`))
	require.NoError(t, err)
	assert.Equal(t, 3, callPaths(sc, "gateway", "c"))
	assert.Equal(t, 1, callPaths(sc, "gateway", "a"))
	assert.Equal(t, 1, callPaths(sc, "gateway", "gateway"))
	assert.Equal(t, 0, callPaths(sc, "c", "a"))
}

func TestFixtureSettings(t *testing.T) {
	svc := &scenarios.Service{Fixture: "httpsvc", Env: map[string]string{"ERROR_RATE": "0.02", "LATENCY_MEDIAN": "10ms"},
		Args: []string{"--error-rate=0.05", "--latency-p99", "100ms"}}
	x, ok := fixtureSetting(svc, "error-rate", "ERROR_RATE")
	assert.True(t, ok)
	assert.Equal(t, 0.05, x, "the flag wins over the env, as in the fixture")
	sd, ok := fixtureLogSD(svc)
	assert.True(t, ok)
	assert.InDelta(t, math.Log(10)/2.3263479, sd, 1e-6)
	_, ok = fixtureSetting(&scenarios.Service{Command: []string{"x"}, Env: map[string]string{"ERROR_RATE": "1"}}, "error-rate", "ERROR_RATE")
	assert.False(t, ok, "only the fixture's settings mean something")
}

func TestMeasureBaseline(t *testing.T) {
	pts := func(n, errs int, p50, p99 float64, secs int) []reports.Point {
		var out []reports.Point
		for i := range secs {
			out = append(out, reports.Point{T: i, Requests: n, Errors: errs, P50MS: p50, P99MS: p99})
		}
		return out
	}
	res := &reports.Result{Scenario: "s", Series: []reports.Series{
		{Source: "client", Service: "web", Points: pts(100, 0, 1, 2, 10)},
		{Source: "hop", Service: "web", Version: "v1", Points: pts(90, 1, 10, 10*math.Exp(0.5*z99), 10)},
		{Source: "hop", Service: "web", Version: "v2", Points: pts(10, 5, 10, 20, 10)},
	}}
	m, err := measureBaseline(res, "web", "v1")
	require.NoError(t, err)
	assert.InDelta(t, 1.0/90, m.errorRate, 1e-12, "the old version's own errors only")
	assert.InDelta(t, 0.5, m.logSD, 1e-9, "ln(p99/p50)/z99 of a log-normal with sigma 0.5")
	assert.Equal(t, 100.0, m.rate, "all versions together")
	_, err = measureBaseline(res, "web", "v9")
	assert.ErrorContains(t, err, "no router series")
}

// The sequential judge is sized by simulating it: its power is below the
// fixed-horizon closed form (which only bounds it), its false alarms stay
// at or under alpha where the per-step union bound says far more, and the
// advice's pause factor comes from the simulation.
func TestSequentialJudgeIsSimulated(t *testing.T) {
	sc, err := scenarios.Load("../scenarios/examples/simulate-regression.yaml")
	require.NoError(t, err)
	rep, err := Compute(sc, Input{Simulate: 500, Seed: 3})
	require.NoError(t, err)
	require.NotNil(t, rep.Simulated)
	s := rep.Simulated
	assert.Less(t, s.Power, rep.Power, "the fixed-horizon power bounds the sequential judge's from above")
	assert.Equal(t, s.Power, rep.Effective)
	assert.LessOrEqual(t, s.FalseAlarms, 0.05+3*math.Sqrt(0.05*0.95/500))
	assert.Greater(t, rep.FalseAlarmBound, 0.1, "the union bound of three fixed-horizon steps")
	assert.Greater(t, s.PauseScale, 1.0)
	assert.Contains(t, rep.Advice, "simulated")

	plain, err := Compute(sc, Input{Seed: 3})
	require.NoError(t, err)
	assert.Nil(t, plain.Simulated, "without Simulate, the closed forms only (a live run's verdict)")
}
