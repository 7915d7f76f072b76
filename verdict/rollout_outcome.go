package verdict

import (
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// rolloutOutcome: the rollout ended as the scenario expects (promoted,
// rolled_back, ...).
func rolloutOutcome(ev *Evidence, e *scenarios.Expectation, x *reports.Expectation, _ *Findings) {
	ro := ev.Rollout
	x.Threshold, x.Observed = e.Outcome, ro.Outcome
	x.Passed = ro.Outcome == e.Outcome
	if ro.Trigger != "" {
		x.Detail = "trigger: " + ro.Trigger
	}
}
