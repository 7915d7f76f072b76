package observe

import (
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// scrape GETs /metrics and parses it with Prometheus' own text parser.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// value finds the sample of family name whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (*dto.Metric, bool) {
	f := fams[name]
	if f == nil {
		return nil, false
	}
next:
	for _, m := range f.Metric {
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		return m, true
	}
	return nil, false
}

func counter(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	m, ok := value(fams, name, want)
	require.True(t, ok, "%s%v missing", name, want)
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

var testScenario = &scenarios.Scenario{
	Name:     "obs",
	Services: []*scenarios.Service{{Name: "api", Version: "v1"}},
	Rollout:  &scenarios.Rollout{Service: "api", To: "v2"},
	Faults:   []*scenarios.Fault{{Name: "slow-db", Kind: "latency"}},
	Expectations: []*scenarios.Expectation{
		{Name: "avail", Kind: scenarios.ExpectAvailability},
	},
}

func TestMetricsScrapedAndParsed(t *testing.T) {
	start := time.Now()
	rec := record.NewRecorder(start)
	m := NewMetrics(testScenario, rec)
	srv, err := Serve("127.0.0.1:0", m, nil)
	require.NoError(t, err)
	defer srv.Close()

	add := func(n int, version string, status int, lat time.Duration) {
		for range n {
			rec.Observe(record.Observation{Source: record.Hop, Service: "api", Version: version, Intended: start, Latency: lat, Status: status})
		}
	}
	add(90, "v1", 200, 3*time.Millisecond)
	add(10, "v1", 503, 30*time.Millisecond)
	rec.Observe(record.Observation{Source: record.Client, Service: "api", Intended: start, Latency: 2 * time.Second, Status: 200})

	f := scrape(t, srv.Addr())
	assert.Equal(t, 90.0, counter(t, f, "firedrill_requests_total", map[string]string{"service": "api", "version": "v1", "outcome": "ok"}))
	assert.Equal(t, 10.0, counter(t, f, "firedrill_requests_total", map[string]string{"service": "api", "version": "v1", "outcome": "error"}))
	assert.Equal(t, 1.0, counter(t, f, "firedrill_client_requests_total", map[string]string{"service": "api", "outcome": "ok"}))
	h, ok := value(f, "firedrill_request_duration_seconds", map[string]string{"service": "api", "version": "v1"})
	require.True(t, ok)
	assert.Equal(t, uint64(100), h.Histogram.GetSampleCount())
	for _, b := range h.Histogram.Bucket { // 3 ms in le=0.005, 30 ms from le=0.05 on
		switch b.GetUpperBound() {
		case 0.005, 0.01, 0.025:
			assert.Equal(t, uint64(90), b.GetCumulativeCount(), "le=%v", b.GetUpperBound())
		case 0.05, 10:
			assert.Equal(t, uint64(100), b.GetCumulativeCount(), "le=%v", b.GetUpperBound())
		}
	}
	assert.Equal(t, -1.0, counter(t, f, "firedrill_expectation_status", map[string]string{"expectation": "avail"}))
	assert.Equal(t, 0.0, counter(t, f, "firedrill_fault_active", map[string]string{"fault": "slow-db"}))

	// More traffic and events: counters grow, gauges follow the run.
	add(5, "v2", 200, time.Millisecond)
	add(1, "v1", 200, time.Millisecond)
	m.Event(record.Event{Kind: record.EvStepStarted, Fields: map[string]any{"step": 2, "weight": 25}})
	m.Event(record.Event{Kind: record.EvFaultInjected, Fields: map[string]any{"fault": "slow-db"}})
	m.Event(record.Event{Kind: record.EvAnalysis, Fields: map[string]any{"metrics": []map[string]any{{"name": "error rate", "p_value": 0.03}}}})
	f = scrape(t, srv.Addr())
	assert.Equal(t, 91.0, counter(t, f, "firedrill_requests_total", map[string]string{"version": "v1", "outcome": "ok"}))
	assert.Equal(t, 5.0, counter(t, f, "firedrill_requests_total", map[string]string{"version": "v2", "outcome": "ok"}))
	assert.Equal(t, 2.0, counter(t, f, "firedrill_rollout_step", nil))
	assert.Equal(t, 25.0, counter(t, f, "firedrill_rollout_weight_percent", map[string]string{"version": "v2"}))
	assert.Equal(t, 75.0, counter(t, f, "firedrill_rollout_weight_percent", map[string]string{"version": "v1"}))
	assert.Equal(t, 1.0, counter(t, f, "firedrill_fault_active", map[string]string{"fault": "slow-db"}))
	assert.Equal(t, 0.03, counter(t, f, "firedrill_analysis_p_value", map[string]string{"metric": "error rate"}))
}

func TestListenRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{":9464", "0.0.0.0:9464", "192.0.2.1:9464", "example.com:9464", "[::]:9464"} {
		err := CheckLoopback(addr)
		assert.ErrorIs(t, err, ErrNotLoopback, addr)
	}
	for _, addr := range []string{"127.0.0.1:9464", "localhost:0", "[::1]:9464", "127.0.0.2:1"} {
		assert.NoError(t, CheckLoopback(addr), addr)
	}
	assert.Error(t, CheckLoopback("9464"))
	_, err := Serve("0.0.0.0:0", NewMetrics(testScenario, record.NewRecorder(time.Now())), nil)
	assert.ErrorIs(t, err, ErrNotLoopback)
}

// BenchmarkRecordWithScrapes is the data path's cost with a scrape every
// 100 ms (ten times Prometheus' usual rate) against without: compare
// ns/op of the two sub-benchmarks.
func BenchmarkRecordWithScrapes(b *testing.B) {
	for _, scraping := range []bool{false, true} {
		name := "no-scrape"
		if scraping {
			name = "scrape-every-100ms"
		}
		b.Run(name, func(b *testing.B) {
			start := time.Now()
			rec := record.NewRecorder(start)
			m := NewMetrics(testScenario, rec)
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				if !scraping {
					return
				}
				tick := time.NewTicker(100 * time.Millisecond)
				defer tick.Stop()
				ch := make(chan prometheus.Metric, 1024)
				go func() {
					for range ch {
					}
				}()
				for {
					select {
					case <-stop:
						close(ch)
						return
					case <-tick.C:
						m.Collect(ch)
					}
				}
			}()
			b.ResetTimer()
			for i := range b.N {
				rec.Observe(record.Observation{Source: record.Hop, Service: "api", Version: "v1", Intended: start, Latency: time.Duration(i%5000) * time.Microsecond, Status: 200})
			}
			b.StopTimer()
			close(stop)
			<-done
		})
	}
}

// BenchmarkScrapeOneSecondAt1000rps is one scrape after a second of a
// 1,000 rps run through two services (a client sample and two hop samples
// per request): what each scrape costs the harness, off the request path.
func BenchmarkScrapeOneSecondAt1000rps(b *testing.B) {
	start := time.Now()
	rec := record.NewRecorder(start)
	m := NewMetrics(testScenario, rec)
	ch := make(chan prometheus.Metric, 4096)
	go func() {
		for range ch {
		}
	}()
	defer close(ch)
	for i := range b.N {
		b.StopTimer()
		for j := range 1000 {
			at := start.Add(time.Duration(i*1000+j) * time.Millisecond)
			rec.Observe(record.Observation{Source: record.Client, Service: "gateway", Intended: at, Latency: time.Millisecond, Status: 200})
			rec.Observe(record.Observation{Source: record.Hop, Service: "gateway", Version: "v1", Instance: "g-0", Intended: at, Latency: time.Millisecond, Status: 200})
			rec.Observe(record.Observation{Source: record.Hop, Service: "api", Version: "v1", Instance: "a-0", Intended: at, Latency: time.Millisecond, Status: 200})
		}
		b.StartTimer()
		m.Collect(ch)
	}
}
