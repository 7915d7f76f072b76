package firedrill_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// steadyDrill is a two-replica service erring at errorRate from the start,
// a kill at 3s and a rollout at 4s, guarded by a steady-state check over
// the 2 s before the kill.
func steadyDrill(t *testing.T, errorRate string) *reports.Result {
	t.Helper()
	sc, err := scenarios.Parse("steady.yaml", []byte(`name: steady
seed: 7
services:
  api:
    fixture: httpsvc
    replicas: 2
    env: {ERROR_RATE: "`+errorRate+`"}
traffic: {entry: api, rate: 50, duration: 9s}
rollout:
  service: api
  to: v2
  start_at: 4s
  steps: [{weight: 50, pause: 1s}]
faults:
  - {kind: kill, service: api, instance: 0, at: 3s, duration: 1s}
steady_state: {min_availability: 0.9, window: 2s, min_requests: 20}
expectations:
  - {kind: availability, min: 0.4}
`))
	require.NoError(t, err)
	res, err := firedrill.Run(context.Background(), sc, firedrill.Options{OutDir: t.TempDir()})
	require.NoError(t, err)
	assertNothingLeft(t, res.RunID)
	return res
}

// A service erring half the time before the first fault is not in steady
// state: the drill is refused before anything is injected; a healthy one
// passes the check and runs as usual.
func TestSteadyState(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		res := steadyDrill(t, "0.5")
		assert.Equal(t, reports.ABORTED, res.Verdict)
		assert.Equal(t, firedrill.ExitNoGo, firedrill.ExitCode(res, nil))
		require.NotNil(t, res.SteadyState)
		assert.False(t, res.SteadyState.Passed)
		assert.InDelta(t, 0.5, res.SteadyState.Availability, 0.2)
		assert.Contains(t, res.Aborted, "not in steady state: availability ")
		assert.Contains(t, res.Aborted, "over 2s < 90%, before fault kill-0 (faults[0].at) at +3s: no fault was injected")
		require.Len(t, res.Faults, 1)
		assert.Nil(t, res.Faults[0].InjectedAt, "the kill was never injected")
		assert.Contains(t, res.Faults[0].Skipped, "not in steady state")
		assert.Empty(t, eventsOf(res, record.EvFaultInjected))
		assert.Empty(t, eventsOf(res, record.EvRolloutStarted))
		assert.Nil(t, res.Rollout.StartedAt, "the rollout never started")
		assert.Len(t, eventsOf(res, "steady_state"), 1)
		assert.Less(t, res.Traffic.Requests, 50*6, "traffic stopped at the check (~3 s), long before its 9 s")
	})
	t.Run("passes", func(t *testing.T) {
		res := steadyDrill(t, "0")
		require.NotNil(t, res.SteadyState)
		assert.True(t, res.SteadyState.Passed, res.SteadyState.Message)
		assert.Contains(t, res.SteadyState.Message, "steady state: availability 100.0% over 2s >= 90%")
		assert.Len(t, eventsOf(res, "steady_state"), 1)
		require.Len(t, res.Faults, 1)
		assert.NotNil(t, res.Faults[0].InjectedAt, "the kill was injected after the check")
		assert.NotNil(t, res.Rollout.StartedAt)
		assert.Empty(t, res.Aborted)
		assert.NotEqual(t, reports.ABORTED, res.Verdict)
	})
}
