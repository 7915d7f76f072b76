// Package observe lets people and their tools watch a live rehearsal: the
// run's metrics in Prometheus text format (metrics.go, server.go), and the
// team's own alerting rules evaluated with the Prometheus query engine over
// the run's per-second series (alerts.go), scored against the windows in
// which the run knows something was wrong.
//
// Nothing here sits on the data path: the metrics are built when scraped,
// from the samples the recorder already holds (read incrementally) and from
// the run's events.
package observe

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// Buckets are the latency histogram's upper bounds in seconds (Prometheus'
// defaults, so that dashboards built for them work here).
var Buckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// key identifies one request series by the recorder's interned indexes.
type key struct {
	src      record.Source
	svc, ver uint16
}

// tally is one series' requests so far.
type tally struct {
	ok, errs uint64
	buckets  []uint64 // cumulative at export; per bucket here
	sum      float64
}

// Metrics is a prometheus.Collector over one run. Samples are read from
// the recorder when scraped (only the ones added since the last scrape),
// so the request path pays nothing; events come through Event.
type Metrics struct {
	rec *record.Recorder
	sc  *scenarios.Scenario

	mu      sync.Mutex
	cursor  int
	names   map[uint16]string
	tallies map[key]*tally

	step    float64
	weights map[[2]string]float64 // service, version -> weight %
	faults  map[string]faultState
	pvalues map[string]float64 // metric -> p-value of the last analysis
	expect  map[string]float64 // expectation name -> -1 pending, 0 failed, 1 passed
	started time.Time

	// For the dashboard (dashboard.go): what users saw per second, the
	// run's notable events, and what waits for a person.
	perSec  [][2]uint64 // [ok, errors] of client requests by second
	events  []DashEvent
	gate    string // the open gate's description, "" when none
	alert   string // the alert waiting for a decision, "" when none
	runID   string
	control bool // a control endpoint serves decisions
	// firing are the alert rules firing now (live.go's events).
	firing map[string]bool
}

type faultState struct {
	kind, target string
	active       bool
	// hidden: an unannounced game-day inject, kept off the dashboard and
	// /metrics so that responders find it by its symptoms.
	hidden bool
}

// NewMetrics returns the collector of a run of sc recording into rec.
func NewMetrics(sc *scenarios.Scenario, rec *record.Recorder) *Metrics {
	m := &Metrics{rec: rec, sc: sc, names: map[uint16]string{}, tallies: map[key]*tally{},
		weights: map[[2]string]float64{}, faults: map[string]faultState{}, pvalues: map[string]float64{},
		expect: map[string]float64{}, started: time.Now(), firing: map[string]bool{}}
	for _, f := range sc.Faults {
		m.faults[f.Name] = faultState{kind: f.Kind, target: f.Target(), hidden: !scenarios.Announced(f.Announce)}
	}
	for _, e := range sc.Expectations {
		m.expect[expectationName(e.Name, e.Kind)] = -1
	}
	for _, s := range sc.Services {
		m.weights[[2]string{s.Name, s.Version}] = 100
	}
	return m
}

func expectationName(name, kind string) string {
	if name != "" {
		return name
	}
	return kind
}

// Event updates the rollout, fault and analysis gauges; subscribe it to
// the run's event log.
func (m *Metrics) Event(e record.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dashEvent(e) // dashboard.go
	ro := m.sc.Rollout
	switch e.Kind {
	case record.EvStepStarted, "batch":
		if ro == nil {
			return
		}
		if v, ok := num(e.Fields["step"]); ok {
			m.step = v
		}
		if w, ok := num(e.Fields["weight"]); ok {
			m.setWeight(ro, w)
		}
	case record.EvRollbackCompleted:
		if ro != nil {
			m.setWeight(ro, 0)
		}
	case record.EvPromoted:
		if ro != nil {
			m.setWeight(ro, 100)
		}
	case record.EvFaultInjected, record.EvFaultReverted:
		name, _ := e.Fields["fault"].(string)
		if st, ok := m.faults[name]; ok {
			st.active = e.Kind == record.EvFaultInjected
			m.faults[name] = st
		}
	case record.EvAnalysis:
		if p, ok := num(e.Fields["p_value"]); ok {
			m.pvalues["sequential error rate"] = p
		}
		ms, _ := e.Fields["metrics"].([]map[string]any)
		for _, x := range ms {
			name, _ := x["name"].(string)
			if p, ok := num(x["p_value"]); ok && name != "" {
				m.pvalues[name] = p
			}
		}
	}
}

func (m *Metrics) setWeight(ro *scenarios.Rollout, w float64) {
	from := ""
	if s := m.sc.Service(ro.Service); s != nil {
		from = s.Version
	}
	m.weights[[2]string{ro.Service, ro.To}] = w
	m.weights[[2]string{ro.Service, from}] = 100 - w
}

// Judged sets the expectations' status once the verdict is in.
func (m *Metrics) Judged(xs []reports.Expectation) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range xs {
		v := 0.0
		if x.Passed {
			v = 1
		}
		m.expect[expectationName(x.Name, x.Kind)] = v
	}
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x)
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// catchUp tallies the samples recorded since the last call. m.mu is held.
func (m *Metrics) catchUp() {
	m.rec.EachFrom(m.cursor, func(i int, s record.Sample) bool {
		m.cursor = i + 1
		if s.Source == record.Shadow {
			return true
		}
		k := key{src: s.Source, svc: s.Service, ver: s.Version}
		if s.Source == record.Client {
			k.ver = 0 // what users saw, whichever version served it
		}
		t := m.tallies[k]
		if t == nil {
			t = &tally{buckets: make([]uint64, len(Buckets))}
			m.tallies[k] = t
		}
		count(t, s)
		if s.Source == record.Client && s.At >= 0 {
			sec := int(s.At / int64(time.Second))
			for len(m.perSec) <= sec {
				m.perSec = append(m.perSec, [2]uint64{})
			}
			if s.OK() {
				m.perSec[sec][0]++
			} else {
				m.perSec[sec][1]++
			}
		}
		return true
	})
}

// count adds one sample to t.
func count(t *tally, s record.Sample) {
	if s.OK() {
		t.ok++
	} else {
		t.errs++
	}
	sec := float64(s.LatencyUS) / 1e6
	t.sum += sec
	if b := sort.SearchFloat64s(Buckets, sec); b < len(Buckets) {
		t.buckets[b]++
	}
}

// name resolves an interned index, asking the recorder once per index.
func (m *Metrics) name(i uint16) string {
	if n, ok := m.names[i]; ok {
		return n
	}
	n := m.rec.Name(i)
	m.names[i] = n
	return n
}

var (
	descRequests = prometheus.NewDesc("firedrill_requests_total",
		"Requests served by each service version (its router's view), by outcome (error: status >= 500 or no response).",
		[]string{"service", "version", "outcome"}, nil)
	descDuration = prometheus.NewDesc("firedrill_request_duration_seconds",
		"Latency of the requests each service version served.", []string{"service", "version"}, nil)
	descClient = prometheus.NewDesc("firedrill_client_requests_total",
		"Requests of the traffic generator (what users saw), by outcome.", []string{"service", "outcome"}, nil)
	descClientDuration = prometheus.NewDesc("firedrill_client_request_duration_seconds",
		"Latency the traffic generator saw, from each request's intended send time.", []string{"service"}, nil)
	descStep   = prometheus.NewDesc("firedrill_rollout_step", "The rollout's current step (0 before it starts).", nil, nil)
	descWeight = prometheus.NewDesc("firedrill_rollout_weight_percent",
		"Share of traffic routed to each version of the rolled-out service.", []string{"service", "version"}, nil)
	descFault = prometheus.NewDesc("firedrill_fault_active", "1 while the fault is injected.",
		[]string{"fault", "kind", "target"}, nil)
	descPValue = prometheus.NewDesc("firedrill_analysis_p_value",
		"p-value of the last canary analysis, by metric.", []string{"metric"}, nil)
	descExpect = prometheus.NewDesc("firedrill_expectation_status",
		"-1 not judged yet (the verdict comes at the end of the run), 0 failed, 1 passed.", []string{"expectation"}, nil)
	descUp = prometheus.NewDesc("firedrill_run_elapsed_seconds", "Seconds since the run's metrics started.", nil, nil)
)

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descDuration, descClient, descClientDuration,
		descStep, descWeight, descFault, descPValue, descExpect, descUp} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.catchUp()
	for k, t := range m.tallies {
		svc := m.name(k.svc)
		hist := cumulative(t)
		if k.src == record.Client {
			ch <- prometheus.MustNewConstMetric(descClient, prometheus.CounterValue, float64(t.ok), svc, "ok")
			ch <- prometheus.MustNewConstMetric(descClient, prometheus.CounterValue, float64(t.errs), svc, "error")
			ch <- prometheus.MustNewConstHistogram(descClientDuration, t.ok+t.errs, t.sum, hist, svc)
			continue
		}
		ver := m.name(k.ver)
		ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(t.ok), svc, ver, "ok")
		ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(t.errs), svc, ver, "error")
		ch <- prometheus.MustNewConstHistogram(descDuration, t.ok+t.errs, t.sum, hist, svc, ver)
	}
	if ro := m.sc.Rollout; ro != nil {
		ch <- prometheus.MustNewConstMetric(descStep, prometheus.GaugeValue, m.step)
		for sv, w := range m.weights {
			if sv[0] == ro.Service {
				ch <- prometheus.MustNewConstMetric(descWeight, prometheus.GaugeValue, w, sv[0], sv[1])
			}
		}
	}
	for name, f := range m.faults {
		if f.hidden {
			continue
		}
		ch <- prometheus.MustNewConstMetric(descFault, prometheus.GaugeValue, b2f(f.active), name, f.kind, f.target)
	}
	for name, p := range m.pvalues {
		ch <- prometheus.MustNewConstMetric(descPValue, prometheus.GaugeValue, p, name)
	}
	for name, v := range m.expect {
		ch <- prometheus.MustNewConstMetric(descExpect, prometheus.GaugeValue, v, name)
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, time.Since(m.started).Seconds())
}

func cumulative(t *tally) map[float64]uint64 {
	out := make(map[float64]uint64, len(Buckets))
	var cum uint64
	for i, b := range Buckets {
		cum += t.buckets[i]
		out[b] = cum
	}
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
