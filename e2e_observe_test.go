package firedrill_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/observe"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/rehearsal"
	"github.com/firedrill/firedrill/scenarios"
)

// scrapeRequests reads /metrics with Prometheus' text parser and returns
// firedrill_requests_total by "service version outcome".
func scrapeRequests(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	require.Contains(t, fams, "firedrill_request_duration_seconds")
	require.Contains(t, fams, "firedrill_fault_active")
	out := map[string]float64{}
	for _, m := range fams["firedrill_requests_total"].GetMetric() {
		l := map[string]string{}
		for _, lp := range m.GetLabel() {
			l[lp.GetName()] = lp.GetValue()
		}
		require.Len(t, l, 3, "service, version, outcome: %v", l)
		out[l["service"]+" "+l["version"]+" "+l["outcome"]] = m.GetCounter().GetValue()
	}
	return out
}

// A real local run with Listen is scraped while it runs, and the team's
// alert rule is scored against the fault that breaks gateway -> api.
func TestListenAndAlertsOnALocalRun(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yaml"), []byte(`groups:
  - name: gateway
    rules:
      - alert: GatewayErrors
        expr: sum(rate(firedrill_requests_total{service="gateway", outcome="error"}[2s])) > 5
      - alert: NeverPages
        expr: sum(rate(firedrill_requests_total{outcome="error"}[2s])) > 100000
`), 0o644))
	file := filepath.Join(dir, "listen.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`
name: listen-alerts
services:
  gateway: {fixture: httpsvc, depends_on: [api]}
  api: {fixture: httpsvc, version: v1}
traffic: {entry: gateway, rate: 100, duration: 8s}
faults:
  - {name: api-down, kind: down, edge: gateway -> api, at: 3s, duration: 3s}
alerts: {rules: rules.yaml}
expectations:
  - {kind: alert_fires, alert: GatewayErrors, within: 3s}
  - {kind: alert_silent, alert: NeverPages}
`), 0o644))
	sc, err := scenarios.Load(file)
	require.NoError(t, err)

	addrs := make(chan string, 1)
	trafficOn := make(chan struct{})
	type out struct {
		res *firedrill.Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := firedrill.Run(context.Background(), sc, firedrill.Options{OutDir: filepath.Join(dir, "run"), Formats: []string{"md"},
			Listen: "127.0.0.1:0", OnEvent: func(e record.Event) {
				switch e.Kind {
				case rehearsal.EvListening:
					addrs <- e.Fields["addr"].(string)
				case record.EvTrafficStarted:
					close(trafficOn)
				}
			}})
		done <- out{res, err}
	}()
	addr := <-addrs
	<-trafficOn
	time.Sleep(1500 * time.Millisecond)
	first := scrapeRequests(t, addr)
	time.Sleep(1500 * time.Millisecond)
	second := scrapeRequests(t, addr)
	o := <-done
	require.NoError(t, o.err)
	res := o.res
	assertNothingLeft(t, res.RunID)

	assert.Positive(t, first["gateway v1 ok"], "gateway's router counted what it served: %v", first)
	assert.Positive(t, first["api v1 ok"], "%v", first)
	assert.Greater(t, second["gateway v1 ok"], first["gateway v1 ok"], "counters grow during the run")
	for k := range second {
		assert.Regexp(t, `^(gateway|api) v1 (ok|error)$`, k)
	}

	require.Len(t, res.Alerts, 2)
	ge := res.Alerts[0]
	assert.Equal(t, "GatewayErrors", ge.Name)
	require.True(t, ge.Fired, "the gateway answers errors while its dependency is down")
	assert.Equal(t, "fault api-down", ge.Window)
	require.NotNil(t, ge.LatencyS)
	assert.Less(t, *ge.LatencyS, 3.0)
	t.Logf("GatewayErrors fired %.1fs after api-down started; %d false alarms", *ge.LatencyS, ge.FalseAlarms)
	assert.False(t, res.Alerts[1].Fired)

	// The same alert fired live, as the run went, at the same instant.
	live := eventsOf(res, observe.EvAlertLiveFiring)
	require.NotEmpty(t, live, "GatewayErrors fires while the run goes on")
	assert.Equal(t, "GatewayErrors", live[0].Fields["alert"])
	assert.WithinDuration(t, *ge.FirstFiringAt, live[0].At, time.Second, "live and after-run evaluations agree")
	for _, x := range res.Expectations {
		assert.True(t, x.Passed, "%s: %s %s", x.Name, x.Observed, x.Detail)
	}
}

// --listen beyond loopback is invalid input: exit 2 before anything starts.
func TestCLIListenRefusesNonLoopback(t *testing.T) {
	cli := buildCLI(t)
	for _, addr := range []string{"0.0.0.0:9464", ":9464"} {
		out, err := exec.Command(cli, "run", "--listen", addr, "--out", t.TempDir(), filepath.Join("scenarios", "examples", "quickstart.yaml")).CombinedOutput()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, string(out))
		assert.Equal(t, firedrill.ExitInvalid, ee.ExitCode(), string(out))
		assert.Contains(t, string(out), "must be a loopback address")
	}
}
