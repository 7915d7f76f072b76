package firedrill_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/rehearsal/control"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/simulator"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/local"
)

// strategyCase is one example scenario of a rollout strategy and what must
// be true of its run beyond its own expectations.
type strategyCase struct {
	file    string
	outcome string
	check   func(t *testing.T, res *reports.Result)
}

// TestStrategyExamples runs every strategy's example pair on the local
// runtime: the regression must be caught and the healthy variant promoted,
// each with a GO verdict. They run one after the other: each is a real
// topology under 100 rps, and the machine has two cores.
func TestStrategyExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("nine rehearsals of ~25 s each; run without -short")
	}
	for _, tc := range []strategyCase{
		{"canary-healthy.yaml", reports.Promoted, checkCanaryGate},
		{"canary-flag.yaml", reports.Promoted, checkFlagMitigation},
		{"canary-manual.yaml", reports.RolledBack, checkManualDecision},
		{"bluegreen.yaml", reports.RolledBack, checkBlueGreenPreview},
		{"bluegreen-healthy.yaml", reports.Promoted, checkBlueGreenSwitch},
		{"rolling.yaml", reports.RolledBack, checkRollingLimits},
		{"rolling-healthy.yaml", reports.Promoted, checkRollingBatches},
		{"phased.yaml", reports.RolledBack, checkPhasedCaught},
		{"phased-healthy.yaml", reports.Promoted, checkPhasedPhases},
	} {
		t.Run(strings.TrimSuffix(tc.file, ".yaml"), func(t *testing.T) {
			sc := load(t, tc.file)
			res, err := firedrill.Run(context.Background(), sc, firedrill.Options{OutDir: t.TempDir(), Formats: []string{"md"}})
			require.NoError(t, err)
			assertNothingLeft(t, res.RunID)
			ro := res.Rollout
			require.Equal(t, tc.outcome, ro.Outcome, "trigger %s", ro.Trigger)
			assert.Equal(t, sc.Rollout.Strategy, ro.Strategy)
			for _, e := range res.Expectations {
				assert.True(t, e.Passed, "%s: observed %s, threshold %s (%s)", e.Name, e.Observed, e.Threshold, e.Detail)
			}
			assert.Equal(t, reports.GO, res.Verdict)
			require.NotNil(t, ro.Audit, "the audit figures are in the result")
			assertAuditTrail(t, res)
			if ro.Outcome == reports.RolledBack {
				require.NotNil(t, ro.RegressionAt)
				t.Logf("%s: %s rolled back by %s: regression -> rollback completed %.2f s (detect %s s, decide %s s, restore %s s), %d bad requests of %d served by %s",
					tc.file, ro.Strategy, ro.Trigger, ro.CompletedAt.Sub(*ro.RegressionAt).Seconds(), fmtSecs(ro.Audit.TimeToDetectS),
					fmtSecs(ro.Audit.TimeToDecideS), fmtSecs(ro.Audit.TimeToRestoreS), ro.Audit.BadRequests, ro.Audit.NewVersionRequests, ro.To)
			} else {
				t.Logf("%s: %s promoted in %.2f s; %d bad requests of %d served by %s (mitigation %q, restore %s s)",
					tc.file, ro.Strategy, ro.CompletedAt.Sub(*ro.StartedAt).Seconds(), ro.Audit.BadRequests,
					ro.Audit.NewVersionRequests, ro.To, ro.Audit.Mitigation, fmtSecs(ro.Audit.TimeToRestoreS))
			}
			tc.check(t, res)
		})
	}
}

// assertAuditTrail: every decision is an event, in the order it happened,
// and the closing event carries the review's figures.
func assertAuditTrail(t *testing.T, res *reports.Result) {
	t.Helper()
	first := map[string]int{}
	for i, e := range res.Events {
		if _, ok := first[e.Kind]; !ok {
			first[e.Kind] = i
		}
	}
	require.Contains(t, first, record.EvRolloutStarted)
	closing := record.EvPromoted
	if res.Rollout.Outcome == reports.RolledBack {
		closing = record.EvRollbackCompleted
		for _, k := range []string{record.EvTriggerFired, record.EvRollbackStarted} {
			require.Contains(t, first, k)
			assert.Less(t, first[record.EvRolloutStarted], first[k])
			assert.Less(t, first[k], first[closing])
		}
	}
	require.Contains(t, first, closing)
	e := res.Events[first[closing]]
	for _, k := range []string{"bad_requests", "time_to_detect_s", "time_to_restore_s", "time_to_complete_s"} {
		assert.Contains(t, e.Fields, k, "%s event", closing)
	}
}

func eventsOf(res *reports.Result, kind string) []record.Event {
	var out []record.Event
	for _, e := range res.Events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func indexOf(res *reports.Result, kind string) int {
	for i, e := range res.Events {
		if e.Kind == kind {
			return i
		}
	}
	return -1
}

func checkCanaryGate(t *testing.T, res *reports.Result) {
	require.Len(t, eventsOf(res, simulator.EvGateApproved), 1)
	assert.Less(t, indexOf(res, simulator.EvGateOpened), indexOf(res, simulator.EvGateApproved))
	assert.Zero(t, res.Rollout.Audit.BadRequests, "a healthy v2 served no failure")
	require.Len(t, res.Rollout.Steps, 2)
	// The gate held step 1 open for its 2 s after the 5 s pause.
	assert.GreaterOrEqual(t, res.Rollout.Steps[0].EndedAt.Sub(res.Rollout.Steps[0].StartedAt), 7*time.Second)
	skew := expectationOf(t, res, scenarios.ExpectVersionSkew)
	assert.Contains(t, skew.Detail, "old callers -> checkout@v2: 0 of ", "gateway v1 reached checkout v2")
	assert.Contains(t, skew.Detail, "checkout@v2 -> old callees: 0 of ", "checkout v2 called payments v1")
}

func expectationOf(t *testing.T, res *reports.Result, kind string) reports.Expectation {
	t.Helper()
	for _, e := range res.Expectations {
		if e.Kind == kind {
			return e
		}
	}
	t.Fatalf("no %s expectation in the result", kind)
	return reports.Expectation{}
}

// TestVersionSkewIsCaught: checkout v2 sends what the payments in production
// refuse. The canary rolls back, and the version_skew expectation fails the
// verdict, naming the pair that broke.
func TestVersionSkewIsCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("a 15 s rehearsal; run without -short")
	}
	res, err := firedrill.Run(context.Background(), load(t, "canary-skew.yaml"), firedrill.Options{OutDir: t.TempDir(), Formats: []string{"md"}})
	require.NoError(t, err)
	assertNothingLeft(t, res.RunID)
	assert.Equal(t, reports.RolledBack, res.Rollout.Outcome)
	assert.Equal(t, reports.NOGO, res.Verdict)
	skew := expectationOf(t, res, scenarios.ExpectVersionSkew)
	assert.False(t, skew.Passed)
	assert.Contains(t, skew.Detail, "(checkout@v2 -> payments@v1 ")
	assert.NotContains(t, skew.Detail, "checkout@v1", "the old checkout is no crossing")
	t.Logf("%s: %s", skew.Observed, skew.Detail)
}

// The flag was turned off on v2, which then stopped failing: no v2 error
// in the series from the second after the flip on.
func checkFlagMitigation(t *testing.T, res *reports.Result) {
	a := res.Rollout.Audit
	assert.Equal(t, "bad", a.Mitigation)
	require.NotNil(t, a.MitigatedAt)
	require.Len(t, eventsOf(res, simulator.EvFlagFlipped), 1)
	assert.Empty(t, eventsOf(res, record.EvRollbackStarted))
	assert.Positive(t, a.BadRequests, "v2 failed until the flag went off")
	flipped := int(a.MitigatedAt.Sub(*res.SeriesStart).Seconds())
	after := 0
	for _, s := range res.Series {
		if s.Source != "hop" || s.Service != "checkout" || s.Version != "v2" {
			continue
		}
		for _, p := range s.Points {
			if p.T > flipped+1 {
				after += p.Requests
				assert.Zero(t, p.Errors, "v2 failed at +%ds, after the flag went off at +%ds", p.T, flipped)
			}
		}
	}
	assert.Positive(t, after, "v2 kept serving after the flip")
}

func checkManualDecision(t *testing.T, res *reports.Result) {
	a := res.Rollout.Audit
	require.Len(t, eventsOf(res, simulator.EvAlert), 1)
	require.Len(t, eventsOf(res, simulator.EvDecision), 1)
	assert.Less(t, indexOf(res, simulator.EvAlert), indexOf(res, simulator.EvDecision))
	assert.Less(t, indexOf(res, simulator.EvDecision), indexOf(res, record.EvRollbackStarted))
	// The decision was scheduled 4 s after the alert: a cause-and-order
	// bound, generous above for a loaded machine.
	require.NotNil(t, a.TimeToDecideS)
	assert.GreaterOrEqual(t, *a.TimeToDecideS, 4.0)
	assert.Less(t, *a.TimeToDecideS, 7.0)
	require.NotNil(t, a.DecidedAt)
}

// The preview failed on mirrored traffic; the switch never happened, so no
// user was served by v2.
func checkBlueGreenPreview(t *testing.T, res *reports.Result) {
	a := res.Rollout.Audit
	assert.Zero(t, a.BadRequests)
	assert.Zero(t, a.NewVersionRequests, "no user request reached the preview")
	assert.Empty(t, eventsOf(res, simulator.EvSwitched))
	require.NotEmpty(t, eventsOf(res, simulator.EvPreviewStarted))
	require.NotEmpty(t, res.Rollout.Steps)
	assert.Equal(t, "failed", res.Rollout.Steps[0].Result)
	an := eventsOf(res, record.EvAnalysis)
	require.NotEmpty(t, an)
	assert.Equal(t, true, an[0].Fields["preview"], "judged on preview (mirrored) traffic")
	for _, s := range res.Series {
		if s.Service == "checkout" && s.Version == "v2" {
			t.Errorf("v2 appears in the served (hop) series: %+v", s)
		}
	}
}

func checkBlueGreenSwitch(t *testing.T, res *reports.Result) {
	a := res.Rollout.Audit
	require.NotNil(t, a.Switch, "the switch's impact was measured")
	assert.Zero(t, a.Switch.InFlightFailed, "requests in flight at the switch finished on the kept v1 stack")
	assert.Positive(t, a.Switch.NewFirstSecond)
	assert.Zero(t, a.Switch.NewFirstSecondFailed)
	assert.Less(t, indexOf(res, simulator.EvPreviewStarted), indexOf(res, simulator.EvSwitched))
	assert.Less(t, indexOf(res, simulator.EvSwitched), indexOf(res, record.EvPromoted))
	require.Len(t, res.Rollout.Steps, 2)
	assert.Equal(t, 0, res.Rollout.Steps[0].Weight)
	assert.Equal(t, 100, res.Rollout.Steps[1].Weight)
}

// readyCounts follows a service's ready instances through the run's events
// (healthy adds one, stopped removes one) and returns the extremes from
// the topology up to the end of traffic (then everything goes down).
func readyCounts(res *reports.Result, service string, initial int) (lo, hi int) {
	n, up := initial, false
	lo, hi = initial, initial
	for _, e := range res.Events {
		if e.Kind == record.EvTopologyUp {
			up = true
			continue
		}
		if e.Kind == record.EvTrafficStopped {
			break
		}
		if !up || e.Service != service {
			continue
		}
		switch e.Kind {
		case record.EvInstanceHealthy:
			n++
		case record.EvInstanceStopped:
			n--
		default:
			continue
		}
		lo, hi = min(lo, n), max(hi, n)
	}
	return lo, hi
}

func checkRollingLimits(t *testing.T, res *reports.Result) {
	lo, hi := readyCounts(res, "checkout", 3)
	assert.Equal(t, 3, lo, "max_unavailable 0: never below three ready instances")
	assert.Equal(t, 4, hi, "max_surge 1: never above four")
	var rollbackBatches int
	for _, e := range eventsOf(res, simulator.EvBatch) {
		if e.Fields["rollback"] == true {
			rollbackBatches++
		}
	}
	assert.Positive(t, rollbackBatches, "rolled back by rolling back")
	assert.NotNil(t, res.Rollout.TrafficRestoredAt)
	an := eventsOf(res, record.EvAnalysis)
	require.NotEmpty(t, an)
	assert.Equal(t, scenarios.JudgeStatistical, an[len(an)-1].Fields["judge"])
	assert.Contains(t, an[len(an)-1].Fields, "metrics", "the judge's evidence is recorded")
}

func checkRollingBatches(t *testing.T, res *reports.Result) {
	lo, hi := readyCounts(res, "checkout", 3)
	assert.GreaterOrEqual(t, lo, 3)
	assert.LessOrEqual(t, hi, 4)
	var weights []int
	for _, st := range res.Rollout.Steps {
		assert.Equal(t, "passed", st.Result)
		weights = append(weights, st.Weight)
	}
	assert.Equal(t, []int{33, 67, 100}, weights)
}

func checkPhasedCaught(t *testing.T, res *reports.Result) {
	assert.Contains(t, []string{simulator.TriggerAnalysis, simulator.TriggerBurnRate}, res.Rollout.Trigger)
	assert.Positive(t, res.Rollout.Audit.BadRequests)
	require.NotEmpty(t, res.Rollout.Steps)
	assert.Equal(t, 10, res.Rollout.Steps[0].Weight, "caught in the first phase")
}

func checkPhasedPhases(t *testing.T, res *reports.Result) {
	require.Len(t, res.Rollout.Steps, 3)
	assert.Zero(t, res.Rollout.Audit.BadRequests)
}

// bareRuntime is the local runtime with none of its optional
// capabilities visible: its topology is only a topology.Topology.
type bareRuntime struct{ *local.Runtime }

type bareTopology struct{ topology.Topology }

func (b bareRuntime) Up(ctx context.Context, sc *scenarios.Scenario, opts topology.Options) (topology.Topology, error) {
	tp, err := b.Runtime.Up(ctx, sc, opts)
	if err != nil {
		return nil, err
	}
	return bareTopology{tp}, nil
}

// A strategy that needs a capability the runtime lacks is refused as
// invalid input, naming both, before any traffic is sent.
func TestStrategyNeedsCapability(t *testing.T) {
	sc := load(t, "rolling.yaml")
	res, err := firedrill.Run(context.Background(), sc, firedrill.Options{OutDir: t.TempDir(), Formats: []string{"md"},
		Runtime: "bare", Runtimes: map[string]topology.Runtime{"bare": bareRuntime{local.New()}}})
	require.Error(t, err)
	assertNothingLeft(t, res.RunID)
	assert.Contains(t, err.Error(), "strategy rolling needs instance scaling, which runtime bare lacks")
	assert.Equal(t, firedrill.ExitInvalid, firedrill.ExitCode(res, err))
	var infra *firedrill.InfraError
	assert.False(t, errors.As(err, &infra))
	assert.Zero(t, res.Traffic.Requests, "refused before traffic")
}

// TestLiveApprovalThroughCLI: a release owner approves the open gate from
// another terminal (`firedrill approve RUN`); the scheduled answer (reject
// after 15 s) never comes, and the audit log says who decided.
func TestLiveApprovalThroughCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30 s rehearsal; run without -short")
	}
	dir := t.TempDir()
	cli := buildCLI(t)
	cmd := exec.Command(cli, "run", "--out", dir, filepath.Join("scenarios", "examples", "canary-gameday.yaml"))
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	var seen []string
	for lines.Scan() {
		seen = append(seen, lines.Text())
		if strings.Contains(lines.Text(), simulator.EvGateOpened) {
			break
		}
	}
	require.True(t, strings.Contains(strings.Join(seen, "\n"), "live decisions: firedrill approve"), "the run says how to decide:\n%s", strings.Join(seen, "\n"))
	runID := runIDFrom(t, filepath.Join(dir, "events.jsonl"))

	// Before any gate is open nothing could be decided; now it is.
	out, err := exec.Command(cli, "approve", runID[:6], "--by", "alice").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "alice: approve applied to run "+runID)
	out, err = exec.Command(cli, "reject", runID, "--by", "bob").CombinedOutput()
	assert.Error(t, err, "the gate is closed again: %s", out)
	assert.Contains(t, string(out), "nothing waits for a decision")

	// A responder notices the (unannounced) slowdown once it is on.
	for !strings.Contains(strings.Join(seen, "\n"), record.EvFaultInjected) && lines.Scan() {
		seen = append(seen, lines.Text())
	}
	out, err = exec.Command(cli, "ack", runID, "--by", "carol").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "carol: acknowledged rollout, 1 unannounced in run "+runID, "the unannounced inject is not named")

	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	require.NoError(t, cmd.Wait(), "exit 0: promoted after the live approval")
	res, err := reports.Load(filepath.Join(dir, "result.json"))
	require.NoError(t, err)
	assert.Equal(t, reports.Promoted, res.Rollout.Outcome)
	require.Len(t, res.Injects, 2, "the slowdown and the release")
	slow, release := res.Injects[0], res.Injects[1]
	assert.Equal(t, "slow-payments", slow.Name)
	assert.False(t, slow.Announced)
	assert.Equal(t, "live: carol", slow.AcknowledgedBy)
	require.NotNil(t, slow.TimeToAcknowledgeS)
	assert.True(t, *slow.TimeToAcknowledgeS >= 0 && *slow.TimeToAcknowledgeS < 6, "acknowledged while it held: %v", *slow.TimeToAcknowledgeS)
	assert.Equal(t, "scheduled revert", slow.MitigatedBy)
	assert.Equal(t, "rollout", release.Name)
	require.NotNil(t, release.TimeToAcknowledgeS)
	assert.Greater(t, *release.TimeToAcknowledgeS, *slow.TimeToAcknowledgeS, "the release was on traffic before the slowdown")
	assert.Nil(t, release.MitigatedAt, "promoted: the new version stays")
	t.Logf("time to acknowledge: slow-payments %.2fs, rollout %.2fs", *slow.TimeToAcknowledgeS, *release.TimeToAcknowledgeS)
	approved := eventsOf(res, simulator.EvGateApproved)
	require.Len(t, approved, 1)
	assert.Equal(t, "live: alice", approved[0].Fields["by"])
	assert.Empty(t, eventsOf(res, simulator.EvGateRejected))
	_, err = os.Stat(filepath.Join(control.Dir(), runID+".json"))
	assert.True(t, os.IsNotExist(err), "the announcement is gone with the run")
	assertNothingLeft(t, runID)
}
