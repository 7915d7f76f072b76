package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/history"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// execute runs the CLI with args and returns its output and exit code.
func execute(t *testing.T, args ...string) (string, int) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	var ee *exitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee):
		if ee.err != nil {
			out.WriteString(ee.err.Error())
		}
		return out.String(), ee.code
	}
	return out.String() + err.Error(), 2
}

func quickstartResult(t *testing.T) *reports.Result {
	b, err := os.ReadFile("../../history/testdata/quickstart-result.json")
	require.NoError(t, err)
	var res reports.Result
	require.NoError(t, json.Unmarshal(b, &res))
	return &res
}

// A nightly job's life: runs recorded, history read, the gate refuses
// until two people approve, and an edited row is caught.
func TestHistoryGateAudit(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	scenario := filepath.Join(dir, "quickstart.yaml")
	src, err := os.ReadFile("../../scenarios/examples/quickstart.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(scenario, append([]byte("risk: high\n"), src...), 0o644))

	res := quickstartResult(t)
	res.ScenarioFile = scenario
	res.OutDir = filepath.Join(dir, "out")
	_, err = reports.Write(res.OutDir, res, []string{"html"})
	require.NoError(t, err)
	now := time.Now().UTC()
	for i, v := range []string{"GO", "NO-GO", "GO"} {
		res.StartedAt, res.Verdict = now.Add(time.Duration(i-3)*time.Hour), v
		res.EndedAt = res.StartedAt.Add(30 * time.Second)
		var out bytes.Buffer
		recordRun(context.Background(), db, res, "", &out)
		assert.Contains(t, out.String(), "history  run #")
	}

	// The report shows the scenario's recent runs, this one marked.
	html, err := os.ReadFile(filepath.Join(res.OutDir, "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(html), "Recent history")
	assert.Contains(t, string(html), "verdict <code>█▁█</code>")
	assert.Contains(t, string(html), "#3 (this run)")
	written, err := reports.Load(filepath.Join(res.OutDir, "result.json"))
	require.NoError(t, err)
	assert.Len(t, written.Recent, 3)

	out, code := execute(t, "history", "--history", db, "--json")
	require.Equal(t, 0, code, out)
	var doc struct {
		Runs    []history.Run  `json:"runs"`
		Summary map[string]any `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.Len(t, doc.Runs, 3)
	for _, k := range []string{"runs", "change_failure_rate", "mttr_median_s", "detect_median_s", "flaky"} {
		assert.Contains(t, doc.Summary, k)
	}
	assert.InDelta(t, 1.0/3, doc.Summary["change_failure_rate"], 1e-9)

	out, code = execute(t, "history", "--history", db, "--scenario", "quickstart")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "verdict █▁█")
	assert.Contains(t, out, "change failure rate 33.33%")

	policy := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(policy, []byte("risk_classes:\n  high: {require: [rollout_outcome, rollback_within], max_age: 7d, approvals: 2}\n"), 0o644))
	out, code = execute(t, "gate", scenario, "--policy", policy, "--history", db)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "approvals missing: 2 of 2 for quickstart v2")
	for _, who := range []string{"alice", "bob"} {
		out, code = execute(t, "history", "approve", scenario, "--by", who, "--history", db)
		require.Equal(t, 0, code, out)
	}
	out, code = execute(t, "gate", scenario, "--policy", policy, "--history", db)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "GO  quickstart v2 (risk high) may be released; evidence: run #3")
	out, code = execute(t, "gate", scenario, "--policy", policy, "--history", db, "--at", now.Add(8*24*time.Hour).Format(time.RFC3339))
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "no passing rehearsal of quickstart v2 within 7d")

	require.NoError(t, os.WriteFile(policy, []byte("risk_classes:\n  high: {require: [rollout_outcome], max_age: soon}\n"), 0o644))
	out, code = execute(t, "gate", scenario, "--policy", policy, "--history", db)
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, policy+":2:")

	out, code = execute(t, "audit", "verify", "--history", db)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "ok: 5 records")
	sdb, err := sql.Open("sqlite", db)
	require.NoError(t, err)
	_, err = sdb.Exec(`UPDATE runs SET verdict = 'GO' WHERE id = 2`)
	require.NoError(t, err)
	require.NoError(t, sdb.Close())
	out, code = execute(t, "audit", "verify", "--history", db)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "run 2")
}

// A store that cannot be reached only warns: nothing is printed as
// recorded, nothing fails.
func TestRecordRunNeverFails(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "not-a-db")
	require.NoError(t, os.WriteFile(bad, []byte("plain text"), 0o644))
	for _, spec := range []string{bad, "postgres://firedrill@127.0.0.1:1/none?connect_timeout=1", history.Off} {
		var out bytes.Buffer
		recordRun(context.Background(), spec, quickstartResult(t), "", &out)
		assert.Empty(t, strings.TrimSpace(out.String()), spec)
	}
}

// compare: after the verdict, against the last GO runs: a p99 twice the
// baseline turns the run NO-GO, result.json says so and names the runs.
func TestCompareBaseline(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	res := quickstartResult(t)
	res.OutDir = filepath.Join(dir, "out")
	for i := range 3 {
		res.StartedAt = time.Now().Add(time.Duration(i-5) * time.Hour)
		recordRun(context.Background(), db, res, "", &bytes.Buffer{})
	}
	margin := 0.2
	cmp := &scenarios.Compare{Last: 2, P99Margin: &margin}
	res.StartedAt = time.Now()
	res.Traffic.LatencyMS.P99 = 2 * 207.26
	label := compareBaseline(context.Background(), db, cmp, res, nil, []string{"md"})
	assert.Equal(t, "#2,#3", label)
	assert.Equal(t, reports.NOGO, res.Verdict)
	written, err := reports.Load(filepath.Join(res.OutDir, "result.json"))
	require.NoError(t, err)
	x := written.Expectations[len(written.Expectations)-1]
	assert.Equal(t, "baseline_p99", x.Kind)
	assert.False(t, x.Passed)
	assert.Equal(t, "baseline runs #2,#3: median 207ms", x.Detail)
	assert.FileExists(t, filepath.Join(res.OutDir, "report.md"))

	// No history: the result stays as it was.
	res = quickstartResult(t)
	assert.Equal(t, "", compareBaseline(context.Background(), history.Off, cmp, res, nil, nil))
	assert.Equal(t, reports.GO, res.Verdict)
	assert.Len(t, res.Expectations, 4)
}
