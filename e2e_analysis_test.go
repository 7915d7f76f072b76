package firedrill_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// TestAnalysisExamples runs the analysis examples at the same time (up to
// concurrentRuns): each is ~20 s of light traffic that leaves the cores
// mostly idle, and go test would run only GOMAXPROCS parallel tests at once.
func TestAnalysisExamples(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("scenarios", "examples", "breaker.yaml"))
	require.NoError(t, err)
	// A breaker that never recloses: open for an hour.
	text := strings.Replace(string(raw), "BREAKER_OPEN: 2s", "BREAKER_OPEN: 1h", 1)
	require.NotEqual(t, string(raw), text)
	neverRecloses, err := scenarios.Parse("breaker-never-recloses.yaml", []byte(text))
	require.NoError(t, err)

	cases := []struct {
		name  string
		sc    *scenarios.Scenario
		check func(*testing.T, *reports.Result)
	}{
		{"breaker", load(t, "breaker.yaml"), checkBreakerGo},
		{"breaker-misconfigured", load(t, "breaker-misconfigured.yaml"), checkBreakerMisconfigured},
		{"breaker-never-recloses", neverRecloses, checkBreakerNeverRecloses},
		{"canary-power", load(t, "canary-power.yaml"), checkCanaryPower},
	}
	if raceDetector {
		cases = []struct {
			name  string
			sc    *scenarios.Scenario
			check func(*testing.T, *reports.Result)
		}{cases[0], cases[3]}
	}
	results := make([]*reports.Result, len(cases))
	errs := make([]error, len(cases))
	var wg sync.WaitGroup
	slots := make(chan struct{}, concurrentRuns)
	for i, c := range cases {
		dir := t.TempDir()
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			results[i], errs[i] = firedrill.Run(context.Background(), c.sc, firedrill.Options{OutDir: dir, Formats: []string{"md"}})
		})
	}
	wg.Wait()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.NoError(t, errs[i])
			assertNothingLeft(t, results[i].RunID)
			c.check(t, results[i])
		})
	}
}

func expectation(t *testing.T, res *reports.Result, kind string) reports.Expectation {
	t.Helper()
	for _, e := range res.Expectations {
		if e.Kind == kind {
			return e
		}
	}
	require.Failf(t, "no expectation", "kind %s in %s", kind, res.Scenario)
	return reports.Expectation{}
}

func checkBreakerGo(t *testing.T, res *reports.Result) {
	for _, e := range res.Expectations {
		assert.True(t, e.Passed, "%s: observed %s, threshold %s (%s)", e.Name, e.Observed, e.Threshold, e.Detail)
	}
	assert.Equal(t, reports.GO, res.Verdict)

	br := expectation(t, res, scenarios.ExpectBreaker)
	assert.Contains(t, br.Observed, "reclosed")
	require.Len(t, res.Breakers, 1)
	b := res.Breakers[0]
	assert.Equal(t, "api", b.Service)
	assert.Equal(t, "payments", b.Target)
	require.NotNil(t, b.FirstOpenedAt)
	require.NotNil(t, b.LastClosedAt)
	require.Len(t, res.Faults, 1)
	f := res.Faults[0]
	require.NotNil(t, f.InjectedAt)
	require.NotNil(t, f.RevertedAt)
	// Order of causes: the fault opens the breaker, its revert lets it close.
	assert.True(t, b.FirstOpenedAt.After(*f.InjectedAt), "opened after the fault")
	assert.True(t, b.FirstOpenedAt.Before(*f.RevertedAt), "opened while payments hung")
	assert.True(t, b.LastClosedAt.After(*f.RevertedAt), "closed after payments recovered")

	require.Len(t, res.Recovery, 1)
	require.NotNil(t, res.Recovery[0].RTOSeconds)
	assert.GreaterOrEqual(t, *res.Recovery[0].RTOSeconds, 5.0, "no recovery while payments still hung")
	assert.Nil(t, res.Power, "no rollout, no canary plan")
}

func checkBreakerMisconfigured(t *testing.T, res *reports.Result) {
	assert.Equal(t, reports.NOGO, res.Verdict)

	br := expectation(t, res, scenarios.ExpectBreaker)
	assert.False(t, br.Passed)
	assert.Equal(t, "never opened", br.Observed)
	assert.Contains(t, br.Detail, "none within fast_fail", "the cause: nothing failed fast")
	assert.Contains(t, br.Detail, "BREAKER=true", "and what to do")

	re := expectation(t, res, scenarios.ExpectRetries)
	assert.False(t, re.Passed)
	assert.Contains(t, re.Detail, "FAILED retry amplification")
	// Two retries against a dead dependency: about 3 attempts per request.
	assert.Regexp(t, `retry amplification (2\.[5-9]|3\.[01])\dx`, re.Observed)

	rto := expectation(t, res, scenarios.ExpectRTO)
	assert.True(t, rto.Passed, "RTO alone cannot tell a missing breaker: %s", rto.Detail)
}

// A breaker that never recloses (open for an hour) keeps failing callers
// after the dependency recovered: breaker and RTO expectations say so.
func checkBreakerNeverRecloses(t *testing.T, res *reports.Result) {
	assert.Equal(t, reports.NOGO, res.Verdict)

	br := expectation(t, res, scenarios.ExpectBreaker)
	assert.False(t, br.Passed)
	assert.Contains(t, br.Observed, "never reclosed")
	assert.Contains(t, br.Detail, "FAILED recloses")
	assert.Contains(t, br.Detail, "BREAKER_OPEN")
	require.Len(t, res.Breakers, 1)
	assert.Equal(t, "open", res.Breakers[0].FinalState)

	rto := expectation(t, res, scenarios.ExpectRTO)
	assert.False(t, rto.Passed)
	assert.Contains(t, rto.Observed, "not recovered")
}

func checkCanaryPower(t *testing.T, res *reports.Result) {
	assert.Equal(t, reports.NOGO, res.Verdict)

	cp := expectation(t, res, scenarios.ExpectCanaryPower)
	assert.False(t, cp.Passed)
	require.NotNil(t, cp.Value)
	assert.Less(t, *cp.Value, 0.5, "16 and 48 canary requests cannot tell 1% from 4% errors")
	assert.Contains(t, cp.Detail, "too weak")
	assert.Contains(t, cp.Detail, "every pause x", "the message names a plan that would do")
	assert.Contains(t, cp.Detail, "measured in this run")

	for _, kind := range []string{scenarios.ExpectSLOBurn, scenarios.ExpectAvailability} {
		e := expectation(t, res, kind)
		assert.True(t, e.Passed, "%s: %s (%s)", e.Name, e.Observed, e.Detail)
	}
	require.NotNil(t, res.Power, "every canary run reports its plan's power")
	assert.Equal(t, *cp.Value, res.Power.Power)
	assert.Equal(t, 0.8, res.Power.Target)
	assert.Greater(t, res.Power.RequestsNeeded, res.Power.RequestsAvailable)
}
