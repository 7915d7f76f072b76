package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withFault adds a timeout fault on a -> b to the rollout scenario.
const withFault = withRollout + `faults:
  - {name: b-hangs, kind: timeout, edge: a -> b, at: 5s, duration: 5s}
`

func TestAnalysisExpectationsValidAndDefaulted(t *testing.T) {
	s, err := Parse("t.yaml", []byte(withFault+`expectations:
  - {kind: canary_power, regression: {error_rate_ratio: 2}}
  - {kind: slo_burn}
  - {kind: rto, fault: b-hangs, max: 10s}
  - {kind: rto, fault: "b-*", max: 10s, name: rto glob}
  - {kind: rto, fault: rollback, max: 10s}
  - {kind: breaker, service: a, dependency: b, recloses_within: 3s}
  - {kind: breaker, service: a, dependency: b, trips: false, from: 12s}
  - {kind: retries, service: a, dependency: b, max_amplification: 1.5}
`))
	require.NoError(t, err)
	e := s.Expectations
	assert.Equal(t, DefaultPowerTarget, e[0].Min)
	assert.Equal(t, "canary power >= 0.8 against error rate x2", e[0].Name)
	assert.Equal(t, DefaultBurnObjective, e[1].Objective)
	assert.Equal(t, DefaultMaxBurn, e[1].MaxBurn)
	assert.Equal(t, DefaultBurnWindow, e[1].Window)
	assert.Equal(t, "slo 99.9% burn < 14.4x over 5s and 1m0s", e[1].Name)
	assert.Equal(t, DefaultRTOObj, e[2].Objective)
	assert.Equal(t, DefaultRTOStability, e[2].Stability)
	assert.Equal(t, "rto <= 10s after b-hangs", e[2].Name)
	require.NotNil(t, e[5].Trips)
	assert.True(t, *e[5].Trips, "a breaker is expected to trip by default")
	assert.Equal(t, "b-hangs", e[5].During, "the only fault on the edge")
	assert.Equal(t, DefaultFastFail, e[5].FastFail)
	assert.Equal(t, "", e[6].During, "trips: false with a window of its own")
	assert.Equal(t, "breaker a -> b stays closed from 12s", e[6].Name)
	assert.Equal(t, "b-hangs", e[7].During)
	assert.Equal(t, Duration(0), e[7].FastFail, "fast_fail is a breaker key")
}

func TestAnalysisExpectationsInvalid(t *testing.T) {
	cases := []struct {
		name, yaml, at, msg string
	}{
		{"canary_power without regression", withFault + "expectations:\n  - {kind: canary_power, min: 0.9}\n",
			"{kind: canary_power", "canary_power needs the regression to detect"},
		{"canary_power without rollout", base + "expectations:\n  - {kind: canary_power, regression: {latency_ratio: 1.2}}\n",
			"canary_power,", "canary_power judges the rollout's plan"},
		{"regression not a worsening", withFault + "expectations:\n  - {kind: canary_power, regression: {latency_ratio: 0.9}}\n",
			"0.9", "0.9 is not a slowdown"},
		{"power of one", withFault + "expectations:\n  - {kind: canary_power, min: 1, regression: {error_rate_increase: 0.01}}\n",
			"1,", "above 0 and below 1"},
		{"no judged step", strings.Replace(withFault, "{weight: 10, pause: 5s}\n    - {weight: 50", "{weight: 100", 1) + "expectations:\n  - {kind: canary_power, regression: {error_rate_increase: 0.01}}\n",
			"canary_power,", "no rollout step routes between 1% and 99%"},
		{"key of another kind", withFault + "expectations:\n  - {kind: availability, min: 0.9, max_burn: 2}\n",
			"2}", "max_burn: applies to slo_burn expectations, not availability"},
		{"objective of one", withFault + "expectations:\n  - {kind: slo_burn, objective: 1}\n",
			"1}", "is not an SLO target"},
		{"rto unknown fault", withFault + "expectations:\n  - {kind: rto, fault: c-hangs, max: 5s}\n",
			"c-hangs", `no fault is named "c-hangs"; faults are b-hangs`},
		{"rto without max", withFault + "expectations:\n  - {kind: rto, fault: b-hangs}\n",
			"{kind: rto", "rto needs max"},
		{"rto rollback without rollout", base + "expectations:\n  - {kind: rto, fault: rollback, max: 5s}\n",
			"rollback", "rollback needs a rollout"},
		{"rto with a window", withFault + "expectations:\n  - {kind: rto, fault: b-hangs, max: 5s, from: 1s}\n",
			"1s", "rto measures from its fault's instant; remove from"},
		{"breaker not an edge", withFault + "expectations:\n  - {kind: breaker, service: b, dependency: a, during: b-hangs}\n",
			"a, during", "b does not call a"},
		{"breaker unknown service", withFault + "expectations:\n  - {kind: breaker, service: x, dependency: b, during: b-hangs}\n",
			"x,", `no service named "x"`},
		{"breaker needs a fault", withRollout + "expectations:\n  - {kind: breaker, service: a, dependency: b}\n",
			"{kind: breaker", "name the fault that makes b fail"},
		{"fast-fail bound that cannot fail", withFault + "expectations:\n  - {kind: breaker, service: a, dependency: b, fast_fail: 20ms, max_fast_fail_latency: 30ms}\n",
			"30ms", "is not below fast_fail (20ms)"},
		{"trips false with open-state checks", withFault + "expectations:\n  - {kind: breaker, service: a, dependency: b, trips: false, recloses_within: 2s}\n",
			"false", "trips: false checks that the breaker never opens"},
		{"retries checks nothing", withFault + "expectations:\n  - {kind: retries, service: a, dependency: b}\n",
			"{kind: retries", "retries checks nothing"},
		{"retries unknown during", withFault + "expectations:\n  - {kind: retries, service: a, dependency: b, during: nope, max_amplification: 2}\n",
			"nope", `no fault is named "nope"`},
		{"regression unknown key", withFault + "expectations:\n  - {kind: canary_power, regression: {error_rate: 0.01}}\n",
			"error_rate:", `unknown key "error_rate"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { requireErrorAt(t, tc.yaml, tc.at, tc.msg) })
	}
}

func TestRegressionString(t *testing.T) {
	assert.Equal(t, "error rate +0.01, latency x1.5", (&Regression{ErrorRateIncrease: 0.01, LatencyRatio: 1.5}).String())
	assert.Equal(t, "no regression", (*Regression)(nil).String())
	assert.Equal(t, Duration(60*time.Second), Duration(BurnLongWindows*DefaultBurnWindow))
}
