package firedrill_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/simulator"
)

// releaseRun runs a one-service canary whose new version gets rolloutEnv
// on the local runtime, and returns its result.
func releaseRun(t *testing.T, name, rolloutYAML string) *reports.Result {
	t.Helper()
	src := `name: ` + name + `
seed: 7
services:
  api:
    fixture: httpsvc
    replicas: 1
    health: {http: /healthz, interval: 200ms}
traffic:
  entry: api
  rate: 50
  duration: 12s
rollout:
  service: api
  to: v2
  start_at: 1s
` + rolloutYAML + `
expectations:
  - kind: rollout_outcome
    outcome: promoted
`
	sc, err := scenarios.Parse(name+".yaml", []byte(src))
	require.NoError(t, err)
	res, err := firedrill.Run(context.Background(), sc, firedrill.Options{OutDir: t.TempDir(), Formats: []string{"md"}})
	require.NoError(t, err)
	assertNothingLeft(t, res.RunID)
	return res
}

// A new version that never answers its health check is rolled back with
// trigger not_ready once ready_timeout passes, with an event naming the
// instance and its last health answer; the run is NO-GO (exit 1).
func TestUnreadyCanaryRollsBack(t *testing.T) {
	res := releaseRun(t, "unready", `  env: {HEALTH_STATUS: "503"}
  ready_timeout: 2s
  steps:
    - {weight: 20, pause: 4s}
    - {weight: 50, pause: 4s}`)
	ro := res.Rollout
	assert.Equal(t, reports.RolledBack, ro.Outcome)
	assert.Equal(t, simulator.TriggerNotReady, ro.Trigger)
	assert.Nil(t, ro.RegressionAt, "no request ever reached v2")
	require.NotNil(t, ro.Audit)
	assert.Nil(t, ro.Audit.TimeToDetectS, "no regression reached traffic: null, not 0")
	require.NotNil(t, ro.StartedAt)
	require.NotNil(t, ro.CompletedAt)
	assert.Less(t, ro.CompletedAt.Sub(*ro.StartedAt).Seconds(), 6.0, "rolled back soon after the 2 s bound, not at the end of traffic")
	fired := eventsOf(res, record.EvTriggerFired)
	require.Len(t, fired, 1)
	assert.Equal(t, "api-v2-0", fired[0].Fields["instance"])
	assert.Contains(t, fired[0].Fields["last_health"], "status 503")
	assert.Equal(t, reports.NOGO, res.Verdict)
	assert.Equal(t, firedrill.ExitNoGo, firedrill.ExitCode(res, nil))
	var sum strings.Builder
	reports.Summary(&sum, res, nil, false)
	assert.Contains(t, sum.String(), "trigger not_ready")
}

// A new version answering 404 to every request (no error by the default
// classification) is rolled back: its 4xx share is compared with the old
// version's.
func TestNotFoundCanaryRollsBack(t *testing.T) {
	res := releaseRun(t, "notfound", `  env: {STATUS: "404"}
  analysis: {interval: 1s, window: 3s, min_requests: 10, failures: 2}
  steps:
    - {weight: 20, pause: 4s}
    - {weight: 50, pause: 4s}`)
	ro := res.Rollout
	require.Equal(t, reports.RolledBack, ro.Outcome)
	assert.Equal(t, simulator.TriggerAnalysis, ro.Trigger)
	fired := eventsOf(res, record.EvTriggerFired)
	require.Len(t, fired, 1)
	assert.Contains(t, fired[0].Message, "4xx share 100.0%")
	assert.Positive(t, res.Traffic.Status4xx, "the clients' 404s are counted apart")
	assert.Zero(t, res.Rollout.Audit.BadRequests, "404 is not an error by default")
	var sum strings.Builder
	reports.Summary(&sum, res, nil, false)
	assert.Contains(t, sum.String(), "4xx (")
}

// One seed drives every random choice of a run: the same --seed gives the
// same per-second series (the fixture's error draws), another seed other
// ones. (The routers' version draws take the same seed: rehearsal passes
// it to the topology through the scenario.)
func TestSeedDrivesEveryDraw(t *testing.T) {
	src := `name: seeds
seed: 1
services:
  api:
    fixture: httpsvc
    env: {ERROR_RATE: "0.3"}
    health: {interval: 200ms}
traffic:
  entry: api
  rate: 20
  duration: 4s
`
	series := func(seed int64) []reports.Point {
		sc, err := scenarios.Parse("seeds.yaml", []byte(src))
		require.NoError(t, err)
		res, err := firedrill.Run(context.Background(), sc, firedrill.Options{OutDir: t.TempDir(), Formats: []string{"md"}, Seed: seed, SeedSet: true})
		require.NoError(t, err)
		assertNothingLeft(t, res.RunID)
		assert.Equal(t, seed, res.Seed)
		for _, s := range res.Series {
			// The clients' series: by intended send time, so a request
			// delayed across a second boundary stays in its second (20/s
			// leaves 50 ms between requests: they reach the instance, and
			// take its draws, in order).
			if s.Source == "client" {
				pts := s.Points
				for i := range pts {
					pts[i].P50MS, pts[i].P99MS = 0, 0 // timing is the machine's, not a draw
				}
				return pts
			}
		}
		t.Fatalf("no client series in %+v", res.Series)
		return nil
	}
	a, again, other := series(11), series(11), series(12)
	require.Len(t, a, 4)
	assert.Equal(t, a, again, "the same seed gives the same run")
	assert.NotEqual(t, a, other, "another seed gives other draws")
	t.Logf("seed 11: %+v\nseed 12: %+v", a, other)
}

// fmtSecs prints a timing of the audit, "-" when it did not happen.
func fmtSecs(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'f', 2, 64)
}

// The nginx example runs a real third-party program (nginx, configured by
// its rendered config: file) in front of httpsvc, where nginx is installed.
func TestNginxExample(t *testing.T) {
	if _, err := exec.LookPath("nginx"); err != nil {
		t.Skip("nginx is not installed (apt-get install nginx-light): the example scenarios/examples/programs/nginx-proxy.yaml needs it on PATH")
	}
	sc, err := scenarios.Load(filepath.Join("scenarios", "examples", "programs", "nginx-proxy.yaml"))
	require.NoError(t, err)
	res, err := firedrill.Run(context.Background(), sc, firedrill.Options{OutDir: t.TempDir(), Formats: []string{"md"}})
	require.NoError(t, err)
	assertNothingLeft(t, res.RunID)
	assert.Equal(t, reports.RolledBack, res.Rollout.Outcome, "trigger %s", res.Rollout.Trigger)
	for _, e := range res.Expectations {
		assert.True(t, e.Passed, "%s: %s (%s)", e.Name, reports.ObservedText(e), e.Detail)
	}
	assert.Equal(t, reports.GO, res.Verdict)
	conf, err := os.ReadFile(filepath.Join(res.OutDir, "logs", "edge-v1-0", "config"))
	require.NoError(t, err, "the rendered config is kept with the run's logs")
	assert.Contains(t, string(conf), "rendered for instance edge-v1-0 (number 0) of edge")
}
