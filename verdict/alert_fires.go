package verdict

import (
	"fmt"

	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// alertFires: the alert fired during a fault or regression window, within
// e.Within of the window's start (any time in it when Within is 0).
func alertFires(ev *Evidence, e *scenarios.Expectation, x *reports.Expectation, _ *Findings) {
	a, ok := findAlert(ev, e.Alert)
	x.Threshold = "fires during a fault or the rollout"
	if e.Within > 0 {
		x.Threshold = "fires within " + e.Within.D().String() + " of a fault or the rollout starting"
	}
	switch {
	case !ok:
		x.Observed, x.Detail = "not evaluated", "the run did not evaluate the alert rules (no traffic, or alerts: missing)"
	case a.Error != "":
		x.Observed, x.Detail = "rule failed", a.Error
	case !a.Fired:
		x.Observed = "never fired"
	case a.LatencyS == nil:
		x.Observed = fmt.Sprintf("fired only outside every window (%d false alarms)", a.FalseAlarms)
	default:
		x.Observed = fmt.Sprintf("fired %.1fs after %s started", *a.LatencyS, a.Window)
		x.Passed = e.Within == 0 || *a.LatencyS <= e.Within.D().Seconds()
		if e.Within > 0 {
			setNum(x, *a.LatencyS, "<=", e.Within.D().Seconds(), "s")
		}
		if a.FalseAlarms > 0 {
			x.Detail = fmt.Sprintf("also %d false alarms outside every window", a.FalseAlarms)
		}
	}
}

// alertSilent: the alert never fired.
func alertSilent(ev *Evidence, e *scenarios.Expectation, x *reports.Expectation, _ *Findings) {
	a, ok := findAlert(ev, e.Alert)
	x.Threshold = "never fires"
	switch {
	case !ok:
		x.Observed, x.Detail = "not evaluated", "the run did not evaluate the alert rules (no traffic, or alerts: missing)"
	case a.Error != "":
		x.Observed, x.Detail = "rule failed", a.Error
	case !a.Fired:
		x.Observed, x.Passed = "never fired", true
	default:
		x.Observed = fmt.Sprintf("fired %d times, first at +%.1fs", len(a.Firings), a.Firings[0].StartS)
	}
}

func findAlert(ev *Evidence, name string) (reports.Alert, bool) {
	for _, a := range ev.Alerts {
		if a.Name == name {
			return a, true
		}
	}
	return reports.Alert{}, false
}
