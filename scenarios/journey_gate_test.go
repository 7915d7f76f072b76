package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJourneyGateValidated(t *testing.T) {
	good := `name: jg
services:
  api: {fixture: httpsvc}
traffic: {entry: api, rate: 10, duration: 20s}
journeys:
  - {name: checkout, rate: 4, steps: [{path: /cart}]}
rollout:
  service: api
  to: v2
  steps:
    - weight: 50
      pause: 5s
      journey_gate: {journey: checkout, min: 0.99}
`
	sc, err := Parse("jg.yaml", []byte(good))
	require.NoError(t, err)
	require.NoError(t, sc.Validate())
	assert.Equal(t, 10, sc.Rollout.Steps[0].JourneyGate.Needed())

	bad := strings.Replace(good, "{journey: checkout, min: 0.99}", "{journey: chekout, min: 1.5}", 1)
	bad = strings.Replace(bad, "pause: 5s", "pause: 2s", 1)
	sc, err = Parse("jg.yaml", []byte(bad))
	if err == nil {
		err = sc.Validate()
	}
	require.Error(t, err)
	for _, want := range []string{
		`jg.yaml:13:31: rollout.steps[0].journey_gate.journey: "chekout" is not a journey of this scenario; did you mean "checkout"?`,
		"rollout.steps[0].journey_gate.min: 1.5 must be a success ratio in (0, 1]",
	} {
		assert.Contains(t, err.Error(), want)
	}
	short := strings.Replace(good, "pause: 5s", "pause: 2s", 1)
	sc, err = Parse("jg.yaml", []byte(short))
	if err == nil {
		err = sc.Validate()
	}
	require.Error(t, err)
	assert.Contains(t, err.Error(), "step 1's pause 2s sees about 8 journeys of checkout at 4/s; the gate needs 10")
}
