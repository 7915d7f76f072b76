package rehearsal

import (
	"context"
	"fmt"
	"time"

	"github.com/firedrill/firedrill/observe"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/rehearsal/control"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// EvListening announces where the run's metrics are served.
const EvListening = "listening"

// startObserve serves the run's metrics when Config.Listen asks, before
// anything starts: a port that will not bind fails the run early.
func (r *rehearsal) startObserve() error {
	if r.cfg.Listen == "" {
		return nil
	}
	m := observe.NewMetrics(r.sc, r.rec)
	m.SetRunID(r.runID)
	controlAddr := func() (string, error) {
		info, err := control.Find(r.runID)
		return info.Addr, err
	}
	srv, err := observe.Serve(r.cfg.Listen, m, observe.Dashboard(m, controlAddr))
	if err != nil {
		return &InfraError{err}
	}
	r.events.Subscribe(m.Event)
	r.metrics, r.metricsSrv = m, srv
	r.events.Add(record.Event{Kind: EvListening, Message: fmt.Sprintf("live dashboard on http://%s/, metrics on http://%s/metrics", srv.Addr(), srv.Addr()),
		Fields: map[string]any{"addr": srv.Addr()}})
	return nil
}

// stopObserve publishes the verdict's expectations, then stops serving.
func (r *rehearsal) stopObserve() {
	if r.metricsSrv == nil {
		return
	}
	r.metrics.Judged(r.res.Expectations)
	r.metricsSrv.Close()
}

// EvAlertsEvaluated reports the alert rules' evaluation and its cost.
const EvAlertsEvaluated = "alerts_evaluated"

// alerts evaluates the scenario's alerting rules over the run's series,
// against its fault windows and the new version's time on traffic.
func (r *rehearsal) alerts() []reports.Alert {
	if r.sc.Alerts == nil || r.t0.IsZero() || r.stats.End.IsZero() {
		return nil
	}
	groups, err := scenarios.LoadAlertRules(r.sc.AlertRulesPath())
	if err != nil { // validated before the run; the file changed since
		return []reports.Alert{{Name: r.sc.Alerts.Rules, Error: err.Error()}}
	}
	end := r.stats.End
	var wins []observe.Window
	for _, f := range r.res.Faults {
		if f.InjectedAt == nil {
			continue
		}
		to := end
		if f.RevertedAt != nil {
			to = *f.RevertedAt
		}
		wins = append(wins, observe.Window{Name: "fault " + f.Name, Fault: f.Name, Kind: f.Kind, Target: f.Target, From: *f.InjectedAt, To: to})
	}
	if ro := r.res.Rollout; ro.RegressionAt != nil {
		to := end
		if ro.TrafficRestoredAt != nil {
			to = *ro.TrafficRestoredAt
		}
		wins = append(wins, observe.Window{Name: "rollout", From: *ro.RegressionAt, To: to}) // the new version on traffic
	}
	out, cost := observe.EvaluateAlerts(context.Background(), observe.AlertRun{Groups: groups, Samples: r.rec, T0: r.t0, End: end,
		Interval: r.sc.Alerts.EvalInterval(), Windows: wins, Grace: r.sc.Alerts.GraceAfter()})
	r.events.Add(record.Event{Kind: EvAlertsEvaluated,
		Message: fmt.Sprintf("%d alert rules: %d evaluations over %d series in %s (series built in %s)",
			len(out), cost.Evaluations, cost.Series, cost.Eval.Round(time.Millisecond), cost.Build.Round(time.Millisecond)),
		Fields: map[string]any{"evaluations": cost.Evaluations, "series": cost.Series, "eval_ms": cost.Eval.Milliseconds(), "build_ms": cost.Build.Milliseconds()}})
	return out
}

// gaps are the instance series that stopped while their service served on.
func (r *rehearsal) gaps() []reports.TelemetryGap {
	if r.t0.IsZero() || r.stats.End.IsZero() {
		return nil
	}
	last := int((r.stats.End.Sub(r.t0) - time.Nanosecond) / time.Second)
	return observe.Gaps(r.rec, r.t0, last, r.events.Events())
}

// startLiveAlerts evaluates the alert rules while traffic flows (events
// alert_live_firing / alert_live_resolved, on the dashboard and stdout);
// the evaluation after the run stays the one judged. stop waits for it.
func (r *rehearsal) startLiveAlerts(ctx context.Context) (stop func()) {
	if r.sc.Alerts == nil {
		return func() {}
	}
	groups, err := scenarios.LoadAlertRules(r.sc.AlertRulesPath())
	if err != nil { // validated before the run; alerts() says it again at the end
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	live := observe.NewLiveAlerts(groups, r.rec, r.t0, r.sc.Alerts.EvalInterval(), func(e record.Event) { r.events.Add(e) })
	done := make(chan struct{})
	go func() {
		defer close(done)
		live.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
