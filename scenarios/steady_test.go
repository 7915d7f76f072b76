package scenarios

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A fault at 10s on base, so that the window fits before it.
const steadyBase = base + "faults:\n  - {kind: kill, service: b, at: 10s, duration: 5s}\n"

func TestSteadyStateDefaults(t *testing.T) {
	s, err := Parse("t.yaml", []byte(steadyBase+"steady_state: {min_availability: 0.99}\n"))
	require.NoError(t, err)
	assert.Equal(t, &SteadyState{MinAvailability: 0.99, Window: DefaultSteadyWindow, MinRequests: DefaultSteadyMinRequests}, s.SteadyState)

	s, err = Parse("t.yaml", []byte(steadyBase+"steady_state: {max_p99: 500ms, window: 3s, min_requests: 5}\n"))
	require.NoError(t, err)
	assert.Equal(t, &SteadyState{MaxP99: Duration(500 * time.Millisecond), Window: Duration(3 * time.Second), MinRequests: 5}, s.SteadyState)
}

func TestSteadyStateFirstPerturbation(t *testing.T) {
	s, err := Parse("t.yaml", []byte(withRollout+"faults:\n  - {kind: kill, service: b, at: 3s, duration: 5s}\n  - {kind: kill, service: b, step: 1, at: 0s, duration: 1s}\n"))
	require.NoError(t, err)
	at, what, ok := s.FirstPerturbation()
	assert.True(t, ok)
	assert.Equal(t, 3*time.Second, at, "the fault at 3s comes before the rollout's default start at 5s; a step's fault never counts")
	assert.Contains(t, what, "faults[0].at")

	s, err = Parse("t.yaml", []byte(withRollout))
	require.NoError(t, err)
	at, what, ok = s.FirstPerturbation()
	assert.Equal(t, []any{DefaultStartAt.D(), "the rollout's start_at", true}, []any{at, what, ok})

	s, err = Parse("t.yaml", []byte(base))
	require.NoError(t, err)
	_, _, ok = s.FirstPerturbation()
	assert.False(t, ok)
}

func TestSteadyStateRefused(t *testing.T) {
	requireErrorAt(t, steadyBase+"steady_state: {window: 5s}\n", "{window", "has no criterion; write min_availability")
	requireErrorAt(t, steadyBase+"steady_state: {min_availability: 1.5}\n", "1.5", "not a ratio from 0 to 1")
	requireErrorAt(t, steadyBase+"steady_state: {min_availability: 0.9, min_requests: -1}\n", "-1", "at least 1")
	requireErrorAt(t, steadyBase+"steady_state: {min_availability: 0.9, window: 500ms}\n", "500ms", "at least 1s")
	requireErrorAt(t, steadyBase+"steady_state: {min_availability: 0.9, window: 12s}\n", "12s",
		"12s does not fit before the first perturbation, fault kill-0 (faults[0].at)")
	requireErrorAt(t, steadyBase+"steady_state: {min_availability: 0.9, window: 12s}\n", "12s", "at 10s: write a window of at most 10s")
	requireErrorAt(t, withRollout+"steady_state: {max_p99: 1s, window: 6s}\n", "6s", "the rollout's start_at at 5s")
	requireErrorAt(t, base+"steady_state: {max_p99: 1s}\n", "{max_p99", "no rollout and no fault at a fixed time")
}
