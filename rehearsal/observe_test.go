package rehearsal

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
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
