package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/history"
)

// TestMain keeps every test of the CLI out of the user's own history:
// simulate and run record by default. Tests that want a store pass
// --history or set the variable themselves.
func TestMain(m *testing.M) {
	os.Setenv(history.EnvHistory, history.Off) //nolint:errcheck // before any test runs
	os.Exit(m.Run())
}

// A simulated plan is recorded (by --history and by $FIREDRILL_HISTORY),
// listed apart, filterable, chained, and never passes a gate.
func TestSimulateRecordsInHistory(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	out, err := runSimulate(t, "--trials", "100", "--seed", "3", "--history", db, regression)
	require.NoError(t, err, out)
	assert.Contains(t, out, "history  simulation #1 of simulate-regression in "+db)
	t.Setenv(history.EnvHistory, db)
	out, err = runSimulate(t, "--json", "--trials", "100", "--seed", "4", regression)
	require.NoError(t, err, out)
	assert.Contains(t, out, "history  simulation #2")

	out, code := execute(t, "history", "--history", db, "--kind", "simulation", "--json")
	require.Equal(t, 0, code, out)
	var doc struct {
		Runs    []history.Run   `json:"runs"`
		Summary history.Summary `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	require.Len(t, doc.Runs, 2)
	r := doc.Runs[0]
	assert.Equal(t, history.KindSimulation, r.Kind)
	assert.Equal(t, history.Simulated, r.Verdict)
	assert.Equal(t, int64(100), r.Trials)
	assert.Equal(t, int64(3), r.Seed)
	assert.Equal(t, "v2", r.Version)
	require.NotNil(t, r.RollbackRatio)
	require.NotNil(t, r.DetectRatio)
	assert.NotEmpty(t, r.Expectations)
	assert.Equal(t, 0, doc.Summary.Runs)
	assert.Equal(t, 2, doc.Summary.Simulations)
	assert.Nil(t, doc.Summary.ChangeFailureRate)

	out, code = execute(t, "history", "--history", db, "--kind", "run", "--json")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, `"runs": []`)
	out, code = execute(t, "history", "--history", db)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "simulated plans (2)")
	assert.Contains(t, out, "TRIALS")
	out, code = execute(t, "history", "--history", db, "--kind", "sim")
	assert.Equal(t, 2, code, out)

	// A low-risk release needing a passing rehearsal finds none.
	src, err := os.ReadFile(regression)
	require.NoError(t, err)
	scenario := filepath.Join(dir, "regression.yaml")
	require.NoError(t, os.WriteFile(scenario, append([]byte("risk: low\n"), src...), 0o644))
	policy := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(policy, []byte("risk_classes:\n  low: {require: [], max_age: 30d}\n"), 0o644))
	out, code = execute(t, "gate", scenario, "--policy", policy, "--history", db)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "no passing rehearsal")

	out, code = execute(t, "audit", "verify", "--history", db)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "ok: 2 records")
}

// A history that cannot be opened costs the simulation nothing.
func TestSimulateWithoutReachableHistory(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "not-a-db")
	require.NoError(t, os.WriteFile(bad, []byte("this is not SQLite, it is a long enough text file to look foreign"), 0o644))
	out, err := runSimulate(t, "--trials", "50", "--history", bad, regression)
	require.NoError(t, err, out)
	assert.Contains(t, out, "rollout outcome")
	assert.NotContains(t, out, "history  simulation #")
}
