package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A zero the file writes stays zero where zero means something; a key left
// out still gets its default.
func TestExplicitZerosAreKept(t *testing.T) {
	text := strings.Replace(withRollout, "  to: v2\n", "  to: v2\n  start_at: 0s\n  analysis: {error_margin: 0}\n", 1)
	text = strings.Replace(text, "    - {weight: 50, pause: 5s}\n", "    - {weight: 50, pause: 5s, analysis: {latency_margin: 0}}\n", 1)
	s, err := Parse("t.yaml", []byte(text))
	require.NoError(t, err)
	r := s.Rollout
	assert.Zero(t, r.StartAt, "start_at: 0s starts the rollout at once")
	assert.Zero(t, r.Analysis.ErrorMargin)
	assert.Equal(t, DefaultLatencyMargin, r.Analysis.LatencyMargin, "not written: the default")
	assert.Zero(t, r.Steps[1].Analysis.LatencyMargin)
	assert.Zero(t, r.Steps[1].Analysis.ErrorMargin, "a step inherits the rollout's explicit zero")
	assert.Zero(t, r.Steps[0].Analysis.ErrorMargin, "also a step without analysis of its own")
	assert.Equal(t, DefaultLatencyMargin, r.Steps[0].Analysis.LatencyMargin)

	s, err = Parse("t.yaml", []byte(withRollout))
	require.NoError(t, err)
	assert.Equal(t, DefaultStartAt, s.Rollout.StartAt)
	assert.Equal(t, DefaultErrorMargin, s.Rollout.Analysis.ErrorMargin)

	bg := strings.Replace(withRollout, "  steps:\n    - {weight: 10, pause: 5s}\n    - {weight: 50, pause: 5s}\n",
		"  strategy: blue_green\n  blue_green: {scale_down_delay: 0s}\n", 1)
	s, err = Parse("t.yaml", []byte(bg))
	require.NoError(t, err)
	assert.Zero(t, s.Rollout.BlueGreen.ScaleDownDelay)
	assert.Equal(t, DefaultPreviewFor, s.Rollout.BlueGreen.PreviewFor)
}

// replicas: 0 is a primary alone; left out, a database has one replica.
func TestDatabaseWithoutReplicas(t *testing.T) {
	text := `name: t
services:
  api: {fixture: httpsvc}
databases:
  alone: {replicas: 0, failover: none}
  pair: {}
traffic: {entry: api, rate: 10, duration: 10s}
`
	s, err := Parse("t.yaml", []byte(text))
	require.NoError(t, err)
	assert.Zero(t, s.Databases["alone"].Replicas)
	assert.Equal(t, 1, s.Databases["pair"].Replicas)
}
