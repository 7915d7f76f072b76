package model

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/simulator"
)

// httpScenario: web (rolled out, RETRIES=retries) calls db; front, the
// entry when front is true, calls web. 500 requests a second for 60 s;
// the fault holds from 10 s to 50 s.
func httpScenario(t *testing.T, retries int, front bool, paths, fault string) *Topology {
	t.Helper()
	entry, frontSvc := "web", ""
	if front {
		entry, frontSvc = "front", "  front: {fixture: httpsvc, depends_on: [web]}\n"
	}
	sc := parse(t, fmt.Sprintf(`
name: t
services:
%s  web: {fixture: httpsvc, depends_on: [db], env: {RETRIES: "%d", LATENCY_MEDIAN: 5ms, LATENCY_P99: 20ms}}
  db: {fixture: httpsvc}
traffic: {entry: %s, rate: 500, duration: 60s%s}
rollout: {service: web, to: v2, start_at: 55s, steps: [{weight: 10, pause: 2s}]}
faults:
  - {name: f, at: 10s, duration: 40s, %s}
`, frontSvc, retries, entry, paths, fault))
	top, err := Build(sc)
	require.NoError(t, err)
	return top
}

// window counts the rolled-out service's requests and errors while the
// fault holds (20,000 requests).
func window(top *Topology, seed uint64) (w *World, s simulator.WindowStats) {
	w = NewWorld(top, seed, t0)
	return w, w.Stats(simulator.Query{Service: "web", From: t0.Add(10 * time.Second), To: t0.Add(50 * time.Second)}, false)
}

// within asserts x of n against p within four binomial standard errors.
func within(t *testing.T, p float64, x, n int, what string) {
	t.Helper()
	require.Positive(t, n)
	assert.InDelta(t, p, float64(x)/float64(n), 4*math.Sqrt(p*(1-p)/float64(n))+1e-12, "%s: %d of %d", what, x, n)
}

// An abort of 30% on an edge: each attempt fails with 0.3, the caller's r
// retries try again, so a request fails with 0.3^(1+r).
func TestHTTPAbortOnEdgeIsPercentToTheRetries(t *testing.T) {
	for _, r := range []int{0, 1, 2} {
		top := httpScenario(t, r, false, "", "kind: http_abort, edge: web -> db, percent: 30")
		_, s := window(top, 5)
		within(t, math.Pow(0.3, float64(1+r)), s.Errors, s.Requests, fmt.Sprintf("retries %d", r))
	}
	// service: db is every caller's edge to db; here web's alone.
	top := httpScenario(t, 1, false, "", "kind: http_abort, service: db, percent: 30, status: 502")
	_, s := window(top, 6)
	within(t, 0.09, s.Errors, s.Requests, "service: db")
}

// Which requests can fail: an answer below 500 is a success to the
// fixture and to the client; match_path picks the traffic's paths, and a
// retry keeps its path (share x 0.4^2, not (share x 0.4)^2); match_header
// cannot be known and is said so.
func TestHTTPAbortWhichRequests(t *testing.T) {
	top := httpScenario(t, 0, false, "", "kind: http_abort, edge: web -> db, status: 404")
	_, s := window(top, 7)
	assert.Zero(t, s.Errors)
	assert.Contains(t, strings.Join(top.Warnings, "\n"), "status 404")

	top = httpScenario(t, 1, false, `, paths: ["/pay", "/", "/pay/refund?x=1", "/list"]`, "kind: http_abort, edge: web -> db, percent: 40, match_path: /pay")
	_, s = window(top, 8)
	within(t, 0.5*0.4*0.4, s.Errors, s.Requests, "match_path")

	top = httpScenario(t, 0, false, `, paths: ["/list"]`, "kind: http_abort, edge: web -> db, match_path: /pay")
	assert.Empty(t, top.Effects)
	assert.Contains(t, strings.Join(top.Warnings, "\n"), "matches none of the traffic's paths")

	top = httpScenario(t, 0, false, "", `kind: http_abort, edge: web -> db, match_header: "X-Tenant: blue"`)
	assert.Empty(t, top.Effects)
	assert.Contains(t, strings.Join(top.Warnings, "\n"), "cannot be known")
}

// On the entry's router: the traffic does not retry. When the entry is
// the rolled-out service, the model counts the aborts against its
// requests (and says the live judge sees them in neither version); when
// the entry calls it, only the entry's requests fail and the rolled-out
// service's do not.
func TestHTTPAbortOnTheEntry(t *testing.T) {
	top := httpScenario(t, 2, false, "", "kind: http_abort, service: web, percent: 20")
	_, s := window(top, 9)
	within(t, 0.2, s.Errors, s.Requests, "entry = rolled out")
	assert.Contains(t, strings.Join(top.Warnings, "\n"), "neither version")

	top = httpScenario(t, 2, true, "", "kind: http_abort, service: front, percent: 20")
	w, s := window(top, 10)
	assert.Zero(t, s.Errors)
	ne, ee := int(w.entReq[50]-w.entReq[10]), int(w.entErr[50]-w.entErr[10])
	within(t, 0.2, ee, ne, "the entry's requests")

	// front -> web: front retries (none set: 0), the abort is before web.
	top = httpScenario(t, 0, true, "", "kind: http_abort, edge: front -> web, percent: 25")
	w, s = window(top, 11)
	assert.Zero(t, s.Errors)
	within(t, 0.25, int(w.entErr[50]-w.entErr[10]), int(w.entReq[50]-w.entReq[10]), "edge front -> web")
}

// http_delay of 200 ms on 10% of web -> db: a mixture, not a mean shift.
// The share of requests slower than 100 ms is 0.1 (the log-normal with
// median 5 ms, p99 20 ms, plus db's none, never reaches it alone), and the
// window's p99 is the mixture's 0.99 quantile (0.9 F(x) + 0.1 F(x - 200ms)
// = 0.99, F the log-normal's CDF); a delay past the caller's 1 s
// dependency timeout fails 0.1^(1+r).
func TestHTTPDelayIsAMixture(t *testing.T) {
	top := httpScenario(t, 0, false, "", "kind: http_delay, edge: web -> db, percent: 10, delay: 200ms")
	require.Len(t, top.Effects, 1)
	w := NewWorld(top, 12, t0)
	q := simulator.Query{Service: "web", From: t0.Add(10 * time.Second), To: t0.Add(50 * time.Second)}
	samples := w.Samples(q)
	slow := 0
	for _, sm := range samples {
		if sm.LatencyUS > 100_000 {
			slow++
		}
	}
	within(t, 0.1, slow, len(samples), "delayed share")
	assert.Zero(t, countOK(samples, false))

	beh := top.Old
	F := func(x float64) float64 {
		if x <= 0 {
			return 0
		}
		return distuv.LogNormal{Mu: math.Log(float64(beh.Median)), Sigma: beh.sigma()}.CDF(x)
	}
	lo, hi := 0.0, float64(time.Second)
	for range 100 {
		mid := (lo + hi) / 2
		if 0.9*F(mid)+0.1*F(mid-float64(200*time.Millisecond)) >= 0.99 {
			hi = mid
		} else {
			lo = mid
		}
	}
	want := time.Duration(hi)
	got := w.Stats(q, true).P99
	// 20,000 requests: the drawn order statistic sits within a few ms.
	assert.InDelta(t, float64(want), float64(got), float64(3*time.Millisecond), "p99 %v, mixture quantile %v", got, want)
	assert.Greater(t, want, 200*time.Millisecond) // a mean shift (+20 ms) would give about 40 ms

	top = httpScenario(t, 1, false, "", "kind: http_delay, edge: web -> db, percent: 10, delay: 2s")
	_, s := window(top, 13)
	within(t, 0.01, s.Errors, s.Requests, "delay past DEP_TIMEOUT")
}

// countOK counts failed samples (ok false) or passed ones.
func countOK(samples []record.Sample, ok bool) int {
	n := 0
	for _, s := range samples {
		if s.OK() == ok {
			n++
		}
	}
	return n
}
