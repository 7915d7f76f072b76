package rehearsal

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
)

// hopRequests scrapes addr's /metrics with Prometheus' text parser and sums
// firedrill_requests_total of api v1 (ok + error).
func hopRequests(t *testing.T, addr string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	f := fams["firedrill_requests_total"]
	require.NotNil(t, f, "firedrill_requests_total is served")
	sum := 0.0
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		assert.Contains(t, []string{"ok", "error"}, labels["outcome"])
		if labels["service"] == "api" && labels["version"] == "v1" {
			sum += m.Counter.GetValue()
		}
	}
	return sum
}

// A run with Listen serves its metrics while traffic flows: two scrapes
// parse, the counters grow between them, and the endpoint is gone after.
func TestRunServesMetricsWhileItRuns(t *testing.T) {
	sc := parse(t, `
name: fake-metrics
seed: 7
services:
  api: {fixture: httpsvc}
traffic: {entry: api, rate: 50, duration: 2s}
expectations:
  - kind: availability
    min: 0.9
`)
	rt := &fakeRuntime{t: t}
	addrs := make(chan string, 1)
	trafficOn := make(chan struct{})
	done := make(chan error, 1)
	dir := filepath.Join(t.TempDir(), "run")
	go func() {
		_, err := Run(context.Background(), Config{Scenario: sc, Runtime: rt, RuntimeName: "fake", Seed: sc.Seed, OutDir: dir,
			Formats: []string{"md"}, Binary: fakeBinary, Listen: "127.0.0.1:0", OnEvent: func(e record.Event) {
				switch e.Kind {
				case EvListening:
					addrs <- e.Fields["addr"].(string)
				case record.EvTrafficStarted:
					close(trafficOn)
				}
			}})
		done <- err
	}()
	addr := <-addrs
	<-trafficOn
	time.Sleep(500 * time.Millisecond)
	first := hopRequests(t, addr)
	time.Sleep(700 * time.Millisecond)
	second := hopRequests(t, addr)
	assert.Positive(t, first, "requests counted within half a second of traffic")
	assert.Greater(t, second, first, "the counters grow as the run goes")
	require.NoError(t, <-done)
	_, err := http.Get("http://" + addr + "/metrics")
	assert.Error(t, err, "the endpoint ends with the run")
}

// The scenario's alert rules are evaluated over the run's series: errors
// with no fault or regression window make a firing a false alarm, which
// alert_silent turns into NO-GO; result.json carries alerts[].
func TestRunEvaluatesAlertRules(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(rules, []byte(`groups:
  - name: api
    rules:
      - alert: APIErrors
        expr: sum(rate(firedrill_requests_total{service="api", outcome="error"}[2s])) > 1
`), 0o644))
	sc := parse(t, `
name: fake-alerts
seed: 7
services:
  api: {fixture: httpsvc}
traffic: {entry: api, rate: 50, duration: 3s}
alerts: {rules: `+rules+`}
expectations:
  - kind: alert_silent
    alert: APIErrors
`)
	rt := &fakeRuntime{t: t, status: func(_ string, n int64) int {
		if n > 25 && n <= 75 { // about 0.5 s to 1.5 s
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}}
	res, dir, err := run(context.Background(), t, sc, rt)
	require.NoError(t, err)
	require.Len(t, res.Alerts, 1)
	a := res.Alerts[0]
	assert.Equal(t, "APIErrors", a.Name)
	assert.True(t, a.Fired, "50 errors in a second is above 1/s")
	assert.Equal(t, 1, a.FalseAlarms, "no fault, no rollout: nothing covers the firing")
	assert.Empty(t, a.Error)
	assert.Equal(t, reports.NOGO, res.Verdict)
	require.Len(t, res.Expectations, 1)
	assert.False(t, res.Expectations[0].Passed)
	written := loadResult(t, dir)
	require.Len(t, written.Alerts, 1)
	assert.True(t, written.Alerts[0].Fired)
	assert.Contains(t, eventKinds(t, dir), EvAlertsEvaluated)
}
