package observe

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
)

const testRules = `
groups:
  - name: api
    rules:
      - record: api:errors:rate5s
        expr: sum(rate(firedrill_requests_total{outcome="error"}[5s]))
      - alert: FastErrors
        expr: api:errors:rate5s > 1
      - alert: SlowErrors
        expr: sum(rate(firedrill_requests_total{outcome="error"}[5s])) > 1
        for: 15s
      - alert: NeverFires
        expr: sum(rate(firedrill_requests_total{outcome="error"}[5s])) > 1000
      - alert: FaultGauge
        expr: max(firedrill_fault_active) > 0
      - alert: SlowP99
        expr: histogram_quantile(0.99, sum by (le) (rate(firedrill_request_duration_seconds_bucket[5s]))) > 0.2
`

// A 60 s run at 20 rps: every request fails from 20 s to 40 s (the fault
// window) and again from 50 s to 53 s (no fault: a false alarm for an
// alert that fires then). Latency is 300 ms from 20 s to 40 s, 2 ms else.
func alertRun(t testing.TB) AlertRun {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := record.NewRecorder(t0)
	for ms := 0; ms < 60_000; ms += 50 {
		at := time.Duration(ms) * time.Millisecond
		status, lat := 200, 2*time.Millisecond
		if at >= 20*time.Second && at < 40*time.Second {
			status, lat = 503, 300*time.Millisecond
		}
		if at >= 50*time.Second && at < 53*time.Second {
			status = 503
		}
		rec.Observe(record.Observation{Source: record.Hop, Service: "api", Version: "v1", Intended: t0.Add(at), Latency: lat, Status: status})
	}
	groups, errs := rulefmt.Parse([]byte(testRules), false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	require.Empty(t, errs)
	return AlertRun{Groups: groups, Samples: rec, T0: t0, End: t0.Add(60 * time.Second), Interval: time.Second, Grace: 5 * time.Second,
		Windows: []Window{{Name: "fault api-down", Fault: "api-down", Kind: "down", Target: "api", From: t0.Add(20 * time.Second), To: t0.Add(40 * time.Second)}}}
}

func byName(as []reports.Alert) map[string]reports.Alert {
	out := map[string]reports.Alert{}
	for _, a := range as {
		out[a.Name] = a
	}
	return out
}

func TestAlertsScoredAgainstKnownWindows(t *testing.T) {
	in := alertRun(t)
	alerts, cost := EvaluateAlerts(context.Background(), in)
	got := byName(alerts)
	require.Len(t, got, 5, "one entry per alerting rule, none for the recording rule")
	for _, a := range alerts {
		assert.Empty(t, a.Error, a.Name)
	}
	assert.Equal(t, 60*6, cost.Evaluations, "6 rules, every second of 60")

	// Fires in time: the errors of second 20 are in the point at 21 s, the
	// first evaluation that sees them.
	fast := got["FastErrors"]
	require.True(t, fast.Fired)
	assert.Equal(t, "fault api-down", fast.Window)
	require.NotNil(t, fast.LatencyS)
	assert.InDelta(t, 1.0, *fast.LatencyS, 0.001)
	// ... and outside the fault: the errors at 50-53 s are a false alarm.
	assert.Equal(t, 1, fast.FalseAlarms)
	require.Len(t, fast.Firings, 2)
	assert.Equal(t, "", fast.Firings[1].Window)
	assert.InDelta(t, 51.0, fast.Firings[1].StartS, 0.001)
	require.NotNil(t, fast.ResolvedAt)

	// Fires late: pending from 21 s, firing once it held 15 s.
	slow := got["SlowErrors"]
	require.True(t, slow.Fired)
	require.NotNil(t, slow.LatencyS)
	assert.InDelta(t, 16.0, *slow.LatencyS, 0.001)
	assert.Equal(t, 0, slow.FalseAlarms, "the 3 s of errors at 50 s never held for 15 s")

	// Never fires.
	never := got["NeverFires"]
	assert.False(t, never.Fired)
	assert.Nil(t, never.FirstFiringAt)
	assert.Empty(t, never.Firings)

	// The fault gauge is 1 exactly in the window [20 s, 40 s): the alert
	// fires at its start and resolves at its end.
	g := got["FaultGauge"]
	require.True(t, g.Fired)
	assert.InDelta(t, 0.0, *g.LatencyS, 0.001)
	require.Len(t, g.Firings, 1)
	assert.InDelta(t, 40.0, *g.Firings[0].EndS, 0.001)

	// The latency histogram: 300 ms requests lift the p99 above 200 ms.
	p99 := got["SlowP99"]
	require.True(t, p99.Fired)
	assert.Equal(t, 0, p99.FalseAlarms)
}

func TestAlertRuleErrorIsReported(t *testing.T) {
	in := alertRun(t)
	groups, errs := rulefmt.Parse([]byte(`
groups:
  - name: bad
    rules:
      - alert: VectorMix
        expr: firedrill_requests_total + on(nothing) group_left firedrill_requests_total
`), false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	require.Empty(t, errs)
	in.Groups = groups
	alerts, _ := EvaluateAlerts(context.Background(), in)
	require.Len(t, alerts, 1)
	assert.NotEmpty(t, alerts[0].Error, "a query that fails at evaluation says why")
}

func BenchmarkEvaluateAlerts(b *testing.B) {
	in := alertRun(b)
	b.ResetTimer()
	for range b.N {
		EvaluateAlerts(context.Background(), in)
	}
}

// A firing inside two windows belongs to the one that began last: a fault
// during a canary is the likelier cause than the canary.
func TestAlertAttributedToTheLatestWindow(t *testing.T) {
	in := alertRun(t)
	in.Windows = append(in.Windows, Window{Name: "rollout", From: in.T0.Add(5 * time.Second), To: in.T0.Add(30 * time.Second)})
	got := byName(func() []reports.Alert { a, _ := EvaluateAlerts(context.Background(), in); return a }())
	fast := got["FastErrors"]
	assert.Equal(t, "fault api-down", fast.Window)
	assert.InDelta(t, 1.0, *fast.LatencyS, 0.001)
	assert.Equal(t, 1, fast.FalseAlarms, "51 s is after the rollout window and its 5 s grace")
}
