package reports

import (
	"fmt"
	"sort"
	"time"

	"github.com/firedrill/firedrill/record"
)

// Alert is how one alerting rule of the scenario's alerts: file did over
// the run's series: when it fired, against the windows in which the run
// knew something was wrong (its faults and the rollout's regression).
type Alert struct {
	Name  string `json:"name"`
	Fired bool   `json:"fired"`
	// FirstFiringAt is the first firing's time; ResolvedAt when the last
	// firing ended (nil while it still fired at the end of the run).
	FirstFiringAt *time.Time `json:"first_firing_at,omitempty"`
	ResolvedAt    *time.Time `json:"resolved_at,omitempty"`
	// Window is the first fault or regression window a firing covered
	// ("fault slow-db", "rollout": the new version on traffic), LatencyS the seconds from its start
	// to that firing.
	Window   string   `json:"window,omitempty"`
	LatencyS *float64 `json:"latency_s,omitempty"`
	// FalseAlarms counts firings that started outside every window (and
	// its grace).
	FalseAlarms int `json:"false_alarms"`
	// Firings are each firing episode, in order.
	Firings []AlertFiring `json:"firings,omitempty"`
	// Error is why the rule could not be evaluated.
	Error string `json:"error,omitempty"`
}

// AlertFiring is one episode of an alert firing, in seconds from traffic
// start (End nil: still firing at the end).
type AlertFiring struct {
	StartS float64  `json:"start_s"`
	EndS   *float64 `json:"end_s,omitempty"`
	// Window is the window it covers; "" for a false alarm.
	Window string `json:"window,omitempty"`
}

// Timeline entries of the scenario's alerting rules (not in events.jsonl:
// they are found after the run, from its series).
const (
	EvAlertFiring   = "alert_firing"
	EvAlertResolved = "alert_resolved"
	EvTelemetryGap  = "telemetry_gap"
)

// withAlertEvents is the run's events with each alert firing and its
// resolution merged in, in time order.
func withAlertEvents(r *Result) []record.Event {
	if len(r.Alerts) == 0 && len(r.TelemetryGaps) == 0 {
		return r.Events
	}
	z := Zero(r)
	at := func(s float64) time.Time { return z.Add(time.Duration(s * float64(time.Second))) }
	out := append([]record.Event(nil), r.Events...)
	for _, a := range r.Alerts {
		for _, f := range a.Firings {
			msg := a.Name + " firing: false alarm (no fault or regression)"
			if f.Window != "" {
				msg = a.Name + " firing during " + f.Window
			}
			out = append(out, record.Event{At: at(f.StartS), Kind: EvAlertFiring, Message: msg})
			if f.EndS != nil {
				out = append(out, record.Event{At: at(*f.EndS), Kind: EvAlertResolved, Message: a.Name + " resolved"})
			}
		}
	}
	for _, g := range r.TelemetryGaps {
		msg := fmt.Sprintf("%s (%s %s) stopped reporting", g.Instance, g.Service, g.Version)
		if g.ToS != nil {
			msg += fmt.Sprintf(" for %.0fs", *g.ToS-g.FromS)
		}
		out = append(out, record.Event{At: at(g.FromS), Kind: EvTelemetryGap, Message: msg})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// TelemetryGap is a per-instance series that stopped while its service
// still served traffic (an instance killed, restarted or replaced): an
// alert on that series sees missing data, not errors.
type TelemetryGap struct {
	Service  string `json:"service"`
	Version  string `json:"version,omitempty"`
	Instance string `json:"instance"`
	// FromS is the first silent second after traffic start; ToS the first
	// second with data again (nil: it never came back).
	FromS float64  `json:"from_s"`
	ToS   *float64 `json:"to_s,omitempty"`
	// Cause is the event about this instance that came with the gap, if any.
	Cause string `json:"cause,omitempty"`
}
