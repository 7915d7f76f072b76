package verdict

import (
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// rolloutOutcome: the rollout ended as the scenario expects (promoted,
// rolled_back, ...).
func rolloutOutcome(ev *Evidence, e *scenarios.Expectation, x *reports.Expectation, _ *Findings) {
	ro := ev.Rollout
	x.Threshold, x.Observed = e.Outcome, orText(ro.Outcome, reports.None)
	x.Passed = ro.Outcome == e.Outcome
	switch {
	case ro.Outcome == reports.Unfinished:
		// Not "nothing happened": the new version was live when the run
		// ended without a promotion or a rollback.
		x.Detail = "the rollout was cut short while " + orText(ro.To, "the new version") +
			" still held traffic or instances (no promotion, no rollback); see the rollout_unfinished event"
	case ro.Trigger != "":
		x.Detail = "trigger: " + ro.Trigger
	}
}
