package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill"
)

func runSimulate(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"simulate"}, args...))
	err := root.Execute()
	return out.String(), err
}

const regression = "../../scenarios/examples/simulate-regression.yaml"

func TestSimulateJSONHasTheIssuesKeys(t *testing.T) {
	out, err := runSimulate(t, "--json", "--trials", "200", "--seed", "7", regression)
	require.NoError(t, err, out)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	for _, k := range []string{"trials", "seed", "outcomes", "detect_s", "rollback_s", "bad_requests", "expectations", "wall_s"} {
		assert.Contains(t, got, k)
	}
	o := got["outcomes"].(map[string]any)
	assert.Equal(t, 200.0, o["promoted"].(float64)+o["rolled_back"].(float64)+o["aborted"].(float64))
	assert.Equal(t, 7.0, got["seed"])
	for _, k := range []string{"p50", "p90", "p99"} {
		assert.Contains(t, got["detect_s"], k)
	}

	// The same seed gives the same numbers with other workers.
	again, err := runSimulate(t, "--json", "--trials", "200", "--seed", "7", "--workers", "1", regression)
	require.NoError(t, err)
	var got2 map[string]any
	require.NoError(t, json.Unmarshal([]byte(again), &got2))
	for _, k := range []string{"outcomes", "detect_s", "bad_requests", "expectations"} {
		assert.Equal(t, got[k], got2[k], k)
	}
}

func TestSimulateComparesPlans(t *testing.T) {
	out, err := runSimulate(t, "--trials", "100", regression, "../../scenarios/examples/canary-power.yaml")
	require.NoError(t, err, out)
	assert.Contains(t, out, "simulate-regression")
	assert.Contains(t, out, "canary-power")
	assert.Contains(t, out, "rolled back")
	assert.Contains(t, out, "time to detect s (p50 / p90)")
}

func TestSimulateBadInputIsExit2(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("name: x\nservices:\n  a: {fixture: httpsvc, replicaz: 2}\ntraffic: {entry: a, rate: 10, duration: 1s}\n"), 0o644))
	_, err := runSimulate(t, bad)
	var ee *exitError
	require.True(t, errors.As(err, &ee))
	assert.Equal(t, firedrill.ExitInvalid, ee.code)
	assert.Contains(t, err.Error(), "bad.yaml:3:")

	norollout := filepath.Join(t.TempDir(), "none.yaml")
	require.NoError(t, os.WriteFile(norollout, []byte("name: x\nservices:\n  a: {fixture: httpsvc}\ntraffic: {entry: a, rate: 10, duration: 1s}\n"), 0o644))
	_, err = runSimulate(t, norollout)
	require.True(t, errors.As(err, &ee))
	assert.Equal(t, firedrill.ExitInvalid, ee.code)
}

func TestSimulateOutWritesReports(t *testing.T) {
	dir := t.TempDir()
	out, err := runSimulate(t, "--trials", "100", "--out", dir, regression, "../../scenarios/examples/simulate-aa.yaml")
	require.NoError(t, err, out)
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(page), "<svg")
	assert.Contains(t, string(page), "time to detect (s)")
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "## Plans side by side")
	assert.Contains(t, string(md), "#")
	var js map[string]any
	raw, err := os.ReadFile(filepath.Join(dir, "simulation.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &js))
	assert.Len(t, js["plans"], 2)
}
