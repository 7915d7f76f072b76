package firedrill_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// A drill that hurts more than its safety floor allows stops at once, with
// its own verdict, faults reverted and everything stopped.
func TestAbortIfStopsTheDrill(t *testing.T) {
	sc, err := scenarios.Parse("abort.yaml", []byte(`name: abort
seed: 7
services:
  api:
    fixture: httpsvc
    replicas: 2
traffic: {entry: api, rate: 50, duration: 40s}
faults:
  - {kind: kill, service: api, instance: 0, at: 2s, duration: 30s, restart_after: never}
  - {kind: kill, service: api, instance: 1, at: 2s, duration: 30s, restart_after: never}
abort_if: {availability_below: 0.5, window: 2s, min_requests: 20}
expectations:
  - {kind: availability, min: 0.9}
`))
	require.NoError(t, err)
	start := time.Now()
	res, err := firedrill.Run(context.Background(), sc, firedrill.Options{OutDir: t.TempDir()})
	require.NoError(t, err)
	assert.Equal(t, reports.ABORTED, res.Verdict)
	assert.Contains(t, res.Aborted, "fell below the abort_if floor 50.0%")
	assert.Equal(t, firedrill.ExitNoGo, firedrill.ExitCode(res, err))
	assert.Less(t, res.Traffic.Requests, 50*20, "stopped long before the 40 s of traffic")
	assert.Less(t, time.Since(start), 35*time.Second)
	for _, f := range res.Faults {
		assert.NotNil(t, f.RevertedAt, "fault %s reverted when the drill stopped", f.Name)
	}
	assertNothingLeft(t, res.RunID)
}
