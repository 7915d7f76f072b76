package observe

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/rulefmt"

	"github.com/firedrill/firedrill/record"
)

// Live alert events: an alert of the scenario's rules started or stopped
// firing while the run goes on. The evaluation after the run (alerts[] in
// result.json) is the one judged; these let people watch the alerts as
// they would on call.
const (
	EvAlertLiveFiring   = "alert_live_firing"
	EvAlertLiveResolved = "alert_live_resolved"
)

// liveSettle is how far behind the clock the live evaluation stays: the
// last seconds are not complete (requests in flight are not recorded yet).
const liveSettle = 2 * time.Second

// LiveAlerts evaluates alerting rules during a run, instant by instant as
// the seconds complete, and reports the alerts that start or stop firing.
type LiveAlerts struct {
	ev       *evaluator
	rec      *record.Recorder
	t0       time.Time
	interval time.Duration
	told     map[string][2]int
	emit     func(record.Event)
}

// NewLiveAlerts returns the live evaluation of groups over rec's samples
// from t0, every interval; emit receives the firing and resolved events.
func NewLiveAlerts(groups *rulefmt.RuleGroups, rec *record.Recorder, t0 time.Time, interval time.Duration, emit func(record.Event)) *LiveAlerts {
	return &LiveAlerts{ev: newEvaluator(groups), rec: rec, t0: t0, interval: max(interval, time.Millisecond),
		told: map[string][2]int{}, emit: emit}
}

// Run ticks every interval until ctx ends.
func (l *LiveAlerts) Run(ctx context.Context) {
	t := time.NewTicker(max(l.interval, time.Second)) // a store is built per tick
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			l.Tick(ctx, now)
		}
	}
}

// Tick evaluates the instants up to now - liveSettle not evaluated yet
// and emits what changed, stamped with the instant it changed at.
func (l *LiveAlerts) Tick(ctx context.Context, now time.Time) {
	upTo := now.Add(-liveSettle)
	if !upTo.After(l.t0) {
		return
	}
	st := buildStore(l.rec, l.t0, upTo, nil)
	for _, r := range l.ev.recorded {
		st.add(r.l, r.t, r.v)
	}
	var cost Cost
	l.ev.advance(ctx, st, l.t0, upTo, l.interval, &cost)
	for _, r := range l.ev.rules {
		if r.name == "" {
			continue
		}
		told := l.told[r.name] // spans told: [0] firing, [1] resolved
		for i := told[0]; i < len(r.firing); i++ {
			f := r.firing[i]
			l.emit(record.Event{At: f.from, Kind: EvAlertLiveFiring, Message: fmt.Sprintf("alert %s firing (+%.0fs)", r.name, f.from.Sub(l.t0).Seconds()),
				Fields: map[string]any{"alert": r.name}})
			told[0] = i + 1
		}
		for i := told[1]; i < len(r.firing) && !r.firing[i].to.IsZero(); i++ {
			f := r.firing[i]
			l.emit(record.Event{At: f.to, Kind: EvAlertLiveResolved, Message: fmt.Sprintf("alert %s resolved (+%.0fs)", r.name, f.to.Sub(l.t0).Seconds()),
				Fields: map[string]any{"alert": r.name}})
			told[1] = i + 1
		}
		l.told[r.name] = told
	}
}
