package verdict

import (
	"fmt"
	"strings"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// Breakers and retries are judged from the outside: the caller's router
// records what its callers got from it, and the dependency's router sits
// behind the edge's Toxiproxy proxy, so it records exactly the attempts
// that reached the dependency (and none that an open breaker refused).

// edgeView is what a breaker or retries expectation reads.
type edgeView struct {
	calls    []analysis.Call
	offered  []time.Duration
	arrivals []time.Duration
	window   analysis.Window
	during   string // "" when the window is from/to or the whole run
}

func newEdgeView(ev *Evidence, e *scenarios.Expectation) (edgeView, error) {
	var v edgeView
	if e.During != "" {
		w, err := faultWindow(ev, e.During)
		if err != nil {
			return v, err
		}
		v.window, v.during = w, e.During
	} else {
		v.window = analysis.Window{From: e.From.D(), To: e.To.D()}
		if v.window.To == 0 {
			v.window.To = ev.TrafficEnd.Sub(ev.T0) + time.Minute // past any sample
		}
	}
	for _, s := range ev.Samples.Select(record.Filter{Source: record.Hop, Service: e.Service}) {
		v.calls = append(v.calls, analysis.Call{At: time.Duration(s.At), Latency: s.Latency(), OK: s.OK()})
		v.offered = append(v.offered, time.Duration(s.At))
	}
	for _, s := range ev.Samples.Select(record.Filter{Source: record.Hop, Service: e.Dependency}) {
		v.arrivals = append(v.arrivals, time.Duration(s.At))
	}
	if len(v.calls) == 0 {
		return v, fmt.Errorf("%s's router saw no requests: nothing to judge", e.Service)
	}
	return v, nil
}

// faultWindow is when the named fault held, from traffic start.
func faultWindow(ev *Evidence, name string) (analysis.Window, error) {
	for _, f := range ev.Faults {
		if f.Spec.Name != name {
			continue
		}
		if f.InjectedAt.IsZero() {
			return analysis.Window{}, fmt.Errorf("fault %s was not injected (%s): there is no window to judge", name, orText(f.Skipped, errText(f.Err)))
		}
		w := analysis.Window{From: f.InjectedAt.Sub(ev.T0), To: ev.TrafficEnd.Sub(ev.T0)}
		if !f.RevertedAt.IsZero() {
			w.To = f.RevertedAt.Sub(ev.T0)
		}
		return w, nil
	}
	return analysis.Window{}, fmt.Errorf("fault %s did not run (the run ended before it)", name)
}

func (v edgeView) windowText() string {
	w := fmt.Sprintf("[+%s, +%s)", v.window.From.Round(time.Millisecond), v.window.To.Round(time.Millisecond))
	if v.during != "" {
		return v.during + " " + w
	}
	return w
}

func countWithin(ts []time.Duration, w analysis.Window) int {
	n := 0
	for _, t := range ts {
		if t >= w.From && t < w.To {
			n++
		}
	}
	return n
}

func allOK(fs []analysis.Finding) bool {
	for _, f := range fs {
		if !f.OK {
			return false
		}
	}
	return len(fs) > 0
}

func thresholds(fs []analysis.Finding) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, f.Check+" "+f.Threshold)
	}
	return strings.Join(parts, ", ")
}

// failedFirst names the failed checks, observed against threshold.
func failedFirst(fs []analysis.Finding) string {
	var parts []string
	for _, f := range fs {
		if !f.OK {
			parts = append(parts, fmt.Sprintf("FAILED %s: %s, want %s", f.Check, f.Observed, f.Threshold))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "; ") + ". "
}
