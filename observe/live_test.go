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
)

// Live evaluation, ticking every 5 s of a run as it goes, tells of the
// same firings at the same instants as the evaluation after the run (the
// recording rule's results carried from tick to tick); fault gauges are
// not live (the run's fault windows are known at the end).
func TestLiveAlertsMatchTheEvaluationAfterTheRun(t *testing.T) {
	in := alertRun(t)
	after, _ := EvaluateAlerts(context.Background(), in)
	var events []record.Event
	live := NewLiveAlerts(in.Groups, in.Samples, in.T0, in.Interval, func(e record.Event) { events = append(events, e) })
	for s := 1; s <= 62; s += 5 {
		live.Tick(context.Background(), in.T0.Add(time.Duration(s)*time.Second))
	}
	live.Tick(context.Background(), in.End.Add(liveSettle))

	type change struct {
		kind string
		at   float64
	}
	got := map[string][]change{}
	for _, e := range events {
		got[e.Fields["alert"].(string)] = append(got[e.Fields["alert"].(string)], change{e.Kind, e.At.Sub(in.T0).Seconds()})
	}
	for _, a := range after {
		if a.Name == "FaultGauge" {
			assert.Empty(t, got[a.Name], "no fault windows live")
			continue
		}
		var want []change
		for _, f := range a.Firings {
			want = append(want, change{EvAlertLiveFiring, f.StartS})
			if f.EndS != nil {
				want = append(want, change{EvAlertLiveResolved, *f.EndS})
			}
		}
		assert.Equal(t, want, got[a.Name], a.Name)
	}
	require.NotEmpty(t, got["FastErrors"], "the recording rule's alert fired live")
	assert.Equal(t, change{EvAlertLiveFiring, 21}, got["FastErrors"][0])
}

// A rule over a range of a recording rule's results needs the results of
// earlier ticks: live, it fires when the evaluation after the run does.
func TestLiveAlertsCarryRecordedSeries(t *testing.T) {
	in := alertRun(t)
	groups, errs := rulefmt.Parse([]byte(`
groups:
  - name: api
    rules:
      - record: api:errors:rate5s
        expr: sum(rate(firedrill_requests_total{outcome="error"}[5s]))
      - alert: Sustained
        expr: min_over_time(api:errors:rate5s[4s]) > 1
`), false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	require.Empty(t, errs)
	in.Groups = groups
	after, _ := EvaluateAlerts(context.Background(), in)
	require.Len(t, after, 1)
	require.True(t, after[0].Fired)
	var first *record.Event
	live := NewLiveAlerts(groups, in.Samples, in.T0, in.Interval, func(e record.Event) {
		if first == nil {
			first = &e
		}
	})
	for s := 1; s <= 62; s++ { // a tick per second: each sees one new instant
		live.Tick(context.Background(), in.T0.Add(time.Duration(s)*time.Second))
	}
	require.NotNil(t, first)
	assert.Equal(t, after[0].Firings[0].StartS, first.At.Sub(in.T0).Seconds())
}
