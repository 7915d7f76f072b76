package firedrill_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/rehearsal"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// A canary whose error rate the analysis tolerates (its thresholds are
// lenient) but that breaks the checkout journey is rolled back by the
// step's journey gate, the trigger naming the journey.
func TestJourneyGateRollsBackOnALocalRun(t *testing.T) {
	if testing.Short() {
		t.Skip("a 12 s rehearsal; run without -short")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "journey-gate.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`
name: journey-gate
seed: 7
services:
  gateway: {fixture: httpsvc, depends_on: [checkout]}
  checkout: {fixture: httpsvc}
traffic: {entry: gateway, rate: 40, duration: 12s}
journeys:
  - {name: checkout-flow, rate: 10, steps: [{path: /}, {path: /}]}
rollout:
  service: checkout
  to: v2
  start_at: 2s
  env: {ERROR_RATE: "0.5"}
  analysis: {judge: threshold, max_error_rate: 0.95}
  steps:
    - weight: 50
      pause: 4s
      journey_gate: {journey: checkout-flow, min: 0.99}
    - weight: 100
      pause: 2s
expectations:
  - {kind: rollout_outcome, outcome: rolled_back}
`), 0o644))
	sc, err := scenarios.Load(file)
	require.NoError(t, err)
	res, err := firedrill.Run(context.Background(), sc, firedrill.Options{OutDir: filepath.Join(dir, "run"), Formats: []string{"md"}})
	require.NoError(t, err)
	assertNothingLeft(t, res.RunID)

	assert.Equal(t, reports.RolledBack, res.Rollout.Outcome)
	assert.Equal(t, rehearsal.TriggerJourney, res.Rollout.Trigger)
	require.Len(t, res.Rollout.Steps, 1, "step 2 never started")
	fired := eventsOf(res, record.EvTriggerFired)
	require.Len(t, fired, 1)
	assert.Equal(t, "checkout-flow", fired[0].Fields["journey"])
	assert.Contains(t, fired[0].Message, "journey checkout-flow succeeded")
	assert.Contains(t, fired[0].Message, "during step 1, below the gate's 99.0%")
	ratio, _ := fired[0].Fields["success_ratio"].(float64)
	// Half the journeys' requests meet v2 and half of those fail, on each
	// of two steps: 1 - 0.75^2 = 44% fail; well under 99% either way.
	assert.Less(t, ratio, 0.85)
	t.Logf("%s", fired[0].Message)
	for _, x := range res.Expectations {
		assert.True(t, x.Passed, "%s: %s %s", x.Name, x.Observed, x.Detail)
	}
}
