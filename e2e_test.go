package firedrill_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/rehearsal/control"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

func load(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load(filepath.Join("scenarios", "examples", name))
	require.NoError(t, err)
	return sc
}

func assertNothingLeft(t *testing.T, runID string) {
	t.Helper()
	assert.Eventually(t, func() bool { return len(instancePIDs(runID)) == 0 }, 10*time.Second, 100*time.Millisecond,
		"instance processes of run %s still alive: %v", runID, instancePIDs(runID))
}

func TestQuickstartRollsBackAndHolds(t *testing.T) {
	sc := load(t, "quickstart.yaml")
	res, err := firedrill.Run(context.Background(), sc, firedrill.Options{OutDir: t.TempDir()})
	require.NoError(t, err)
	assertNothingLeft(t, res.RunID)

	assert.Equal(t, reports.RolledBack, res.Rollout.Outcome)
	assert.Equal(t, "analysis", res.Rollout.Trigger)
	require.NotNil(t, res.Rollout.RegressionAt)
	require.NotNil(t, res.Rollout.CompletedAt)
	require.Len(t, res.Faults, 1)
	assert.NotNil(t, res.Faults[0].InjectedAt, "the latency fault was injected")
	assert.NotNil(t, res.Faults[0].RevertedAt, "and reverted")
	for _, e := range res.Expectations {
		assert.True(t, e.Passed, "%s: observed %s, threshold %s (%s)", e.Name, e.Observed, e.Threshold, e.Detail)
	}
	assert.Equal(t, reports.GO, res.Verdict)
	assert.Equal(t, firedrill.ExitGO, firedrill.ExitCode(res, err))
	// Open-loop traffic: the number of requests follows from rate x duration.
	assert.InDelta(t, 3000, res.Traffic.Requests, 150)

	// The files a user and CI rely on are there, with the keys promised.
	raw, err := os.ReadFile(filepath.Join(res.OutDir, "result.json"))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	for _, k := range []string{"schema_version", "scenario", "runtime", "seed", "started_at", "ended_at", "verdict",
		"interrupted", "expectations", "rollout", "faults", "traffic"} {
		assert.Contains(t, m, k)
	}
	ev, err := os.ReadFile(filepath.Join(res.OutDir, "events.jsonl"))
	require.NoError(t, err)
	assert.Contains(t, string(ev), `"kind":"rollback_completed"`)
	logs, _ := filepath.Glob(filepath.Join(res.OutDir, "logs", "*.log"))
	assert.GreaterOrEqual(t, len(logs), 7, "one log per instance, canary included")
}

func TestLaxThresholdsIsNoGo(t *testing.T) {
	sc := load(t, "lax-thresholds.yaml")
	res, err := firedrill.Run(context.Background(), sc, firedrill.Options{OutDir: t.TempDir()})
	require.NoError(t, err)
	assertNothingLeft(t, res.RunID)
	assert.Equal(t, reports.Promoted, res.Rollout.Outcome, "the bad version slipped through")
	assert.Equal(t, reports.NOGO, res.Verdict)
	assert.Equal(t, firedrill.ExitNoGo, firedrill.ExitCode(res, err))
	failed := 0
	for _, e := range res.Expectations {
		if !e.Passed {
			failed++
		}
	}
	assert.Equal(t, 2, failed)
}

// A paused (SIGSTOPped) instance shows up as latency, not as missing requests.
func TestStallShowsAsLatency(t *testing.T) {
	sc, err := scenarios.Parse("stall.yaml", []byte(`
name: stall
services:
  api:
    fixture: httpsvc
    env: {LATENCY_MEDIAN: 20ms}
traffic: {entry: api, rate: 100, duration: 5s}
faults:
  - {kind: pause, service: api, at: 2s, duration: 1s}
`))
	require.NoError(t, err)
	res, err := firedrill.Run(context.Background(), sc, firedrill.Options{OutDir: t.TempDir(), Formats: []string{"md"}})
	require.NoError(t, err)
	assertNothingLeft(t, res.RunID)
	require.NotNil(t, res.Faults[0].InjectedAt)
	assert.GreaterOrEqual(t, res.Traffic.LatencyMS.Max, 1000.0, "a request in flight during the 1 s stall waited it out")
	assert.InDelta(t, 500, res.Traffic.Requests, 40, "open loop: requests were still sent during the stall")
}

// Ctrl-C: faults reverted, everything stopped, the partial result written and marked.
func TestInterruptWritesPartialResult(t *testing.T) {
	sc := load(t, "quickstart.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	done := make(chan struct{})
	var res *reports.Result
	var err error
	go func() {
		defer close(done)
		res, err = firedrill.Run(ctx, sc, firedrill.Options{OutDir: dir, OnEvent: func(e record.Event) {
			if e.Kind == "fault_injected" {
				cancel()
			}
		}})
	}()
	<-done
	require.Error(t, err)
	assert.True(t, errors.Is(err, firedrill.ErrInterrupted), "%v", err)
	assert.Equal(t, firedrill.ExitInterrupted, firedrill.ExitCode(res, err))
	require.NotNil(t, res)
	assert.True(t, res.Interrupted)
	assertNothingLeft(t, res.RunID)
	require.Len(t, res.Faults, 1)
	assert.NotNil(t, res.Faults[0].RevertedAt, "the fault was reverted on interrupt")
	saved, err := reports.Load(filepath.Join(dir, "result.json"))
	require.NoError(t, err)
	assert.True(t, saved.Interrupted)
	// Its own verdict; what it could not judge is skipped, not failed.
	assert.Equal(t, reports.INTERRUPTED, saved.Verdict)
	skipped := 0
	for _, e := range saved.Expectations {
		assert.False(t, reports.Failed(e), "%s: an interrupted run fails nothing", e.Name)
		if e.Skipped != "" {
			skipped++
		}
	}
	assert.Positive(t, skipped, "the rollout did not end: its outcome was not judged")
}

func TestCLIExitCodes(t *testing.T) {
	bin := buildCLI(t)
	run := func(args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		}
		require.NoError(t, err, string(out))
		return 0, string(out)
	}
	examples, _ := filepath.Glob("scenarios/examples/*.yaml")
	require.NotEmpty(t, examples)
	code, out := run(append([]string{"validate"}, examples...)...)
	assert.Equal(t, 0, code, out)

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("name: x\nservices:\n  a: {fixture: httpsvc, replicaz: 2}\ntraffic: {entry: a, rate: 10, duration: 1s}\n"), 0o644))
	code, out = run("validate", bad)
	assert.Equal(t, 2, code)
	assert.Contains(t, out, "bad.yaml:3:")
	assert.Contains(t, out, "replicas")
	code, _ = run("run", bad)
	assert.Equal(t, 2, code, "invalid input fails before anything starts")

	code, out = run("plan", "scenarios/examples/quickstart.yaml")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "step 1: 10% to v2")
	assert.Contains(t, out, "slow-payments")

	code, out = run("run", "--out", t.TempDir(), "scenarios/examples/lax-thresholds.yaml")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "NO-GO")
}

// SIGKILL the harness mid-run: the parent-death signal takes every instance down.
func TestHarnessSIGKILLLeavesNoProcess(t *testing.T) {
	cmd, runID := startCLIRun(t, "quickstart.yaml")
	before := instancePIDs(runID)
	require.GreaterOrEqual(t, len(before), 6, "the topology was up")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	assertNothingLeft(t, runID)
	// Its live-decision announcement cannot remove itself; clean (or the
	// next run) sweeps it.
	announcement := filepath.Join(control.Dir(), runID+".json")
	require.FileExists(t, announcement)
	out, err := exec.Command(buildCLI(t), "clean").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "removed the control announcement of run "+runID)
	assert.NoFileExists(t, announcement)
}

// startCLIRun starts the real binary on an example and returns once its
// traffic has started, with the run's id; the process is killed at cleanup.
func startCLIRun(t *testing.T, example string) (*exec.Cmd, string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(buildCLI(t), "run", "--out", dir, filepath.Join("scenarios", "examples", example))
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "traffic_started") {
			break
		}
	}
	return cmd, runIDFrom(t, filepath.Join(dir, "events.jsonl"))
}

func runIDFrom(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var e struct {
		Kind   string         `json:"kind"`
		Fields map[string]any `json:"fields"`
	}
	require.NoError(t, json.NewDecoder(f).Decode(&e))
	require.Equal(t, "run_started", e.Kind)
	return fmt.Sprint(e.Fields["run_id"])
}
