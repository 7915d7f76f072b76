package firedrill_test

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// httpFaultsScenario: 30% of gateway's calls to payments aborted with 503
// for 2 s, then half of every request to payments delayed 150 ms for 2 s.
const httpFaultsScenario = `
name: http-faults
seed: 11
services:
  gateway:
    fixture: httpsvc
    depends_on: [payments]
  payments:
    fixture: httpsvc
    env: {LATENCY_MEDIAN: 1ms, LATENCY_P99: 5ms}
traffic: {entry: gateway, rate: 200, duration: 7s}
faults:
  - {name: abort-pay, kind: http_abort, edge: gateway -> payments, percent: 30, at: 1s, duration: 2s}
  - {name: slow-pay, kind: http_delay, service: payments, delay: 150ms, percent: 50, at: 4s, duration: 2s}
`

// checkHTTPFaults runs the scenario on a runtime and measures both faults
// on payments' hop samples: the aborted share and the delayed share are
// binomial(n, p), checked within 4 standard deviations of n*p (closed
// form); before and after each window nothing is aborted or delayed.
func checkHTTPFaults(t *testing.T, runtime string) {
	sc, err := scenarios.Parse("http-faults.yaml", []byte(httpFaultsScenario))
	require.NoError(t, err)
	rec := record.NewRecorder(time.Now())
	var mu sync.Mutex
	var injected []string
	res, err := firedrill.Run(context.Background(), sc, firedrill.Options{Runtime: runtime, OutDir: t.TempDir(), Formats: []string{"md"},
		Recorder: rec, OnEvent: func(e record.Event) {
			if e.Kind == record.EvFaultInjected {
				mu.Lock()
				injected = append(injected, e.Message)
				mu.Unlock()
			}
		}})
	require.NoError(t, err)
	require.Len(t, res.Faults, 2)
	for _, f := range res.Faults {
		require.NotNil(t, f.InjectedAt, "%s injected (%s)", f.Name, f.Error)
		require.NotNil(t, f.RevertedAt, "%s reverted", f.Name)
		require.Empty(t, f.Error)
	}
	mu.Lock()
	assert.Contains(t, strings.Join(injected, "\n"), "abort-pay: abort with 503, 30% of requests on gateway -> payments")
	assert.Contains(t, strings.Join(injected, "\n"), "slow-pay: +150ms delay, 50% of requests to payments")
	mu.Unlock()

	// Fully inside a window: from 50 ms after the injection to 50 ms before
	// the revert started; clean: 300 ms and more away from it.
	const margin, clear = 50 * time.Millisecond, 300 * time.Millisecond
	in := func(f int, at time.Time) bool {
		from := *res.Faults[f].InjectedAt
		return at.After(from.Add(margin)) && at.Before(from.Add(sc.Faults[f].Duration.D()-margin))
	}
	out := func(f int, at time.Time) bool {
		return at.Before(res.Faults[f].InjectedAt.Add(-clear)) || at.After(res.Faults[f].RevertedAt.Add(clear))
	}
	var abortN, aborted, abortClean, abortLeak, delayN, delayed, delayClean, delayLeak int
	start := rec.Start()
	for _, s := range rec.Select(record.Filter{Source: record.Hop, Service: "payments"}) {
		at, is503, slow := s.Time(start), s.Status == 503, s.Latency() >= 150*time.Millisecond
		fromGateway := strings.HasPrefix(rec.Name(s.Caller), "gateway@")
		switch {
		case in(0, at) && fromGateway:
			abortN++
			aborted += b2i(is503)
		case out(0, at):
			abortClean++
			abortLeak += b2i(is503)
		}
		switch {
		case in(1, at):
			delayN++
			delayed += b2i(slow)
		case out(1, at):
			delayClean++
			delayLeak += b2i(slow)
		}
	}
	t.Logf("%s: aborted %d of %d in the window (0 of %d outside: %d); delayed %d of %d (outside: %d of %d)",
		runtime, aborted, abortN, abortClean, abortLeak, delayed, delayN, delayLeak, delayClean)
	binomial := func(k, n int, p float64, what string) {
		require.Greater(t, n, 200, "%s: too few requests in the window to judge", what)
		sd := math.Sqrt(float64(n) * p * (1 - p))
		assert.InDelta(t, float64(n)*p, float64(k), 4*sd, "%s: %d of %d", what, k, n)
	}
	binomial(aborted, abortN, 0.30, "aborted share")
	binomial(delayed, delayN, 0.50, "delayed share")
	assert.Zero(t, abortLeak, "no 503 outside the abort window (reverted)")
	assert.LessOrEqual(t, delayLeak, delayClean/100, "outside the delay window, requests are fast again (reverted)")
	assert.Greater(t, abortClean, 500)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestHTTPFaultsLocal(t *testing.T) { checkHTTPFaults(t, "local") }

func TestHTTPFaultsDocker(t *testing.T) {
	needDocker(t)
	checkHTTPFaults(t, "docker")
}
