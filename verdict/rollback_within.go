package verdict

import (
	"fmt"
	"time"

	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// rollbackWithin: the rollback completed within e.Within of the regression
// reaching traffic.
func rollbackWithin(ev *Evidence, e *scenarios.Expectation, x *reports.Expectation, _ *Findings) {
	ro := ev.Rollout
	x.Threshold = "<= " + e.Within.D().String()
	switch {
	case ro.Outcome != reports.RolledBack:
		x.Observed = "no rollback (outcome " + ro.Outcome + ")"
	case ro.RegressionAt == nil:
		x.Observed, x.Passed = "0s", true
		x.Detail = "the new version never received traffic"
	default:
		d := ro.CompletedAt.Sub(*ro.RegressionAt)
		x.Observed = d.Round(time.Millisecond).String()
		x.Passed = d <= e.Within.D()
		setNum(x, d.Seconds(), "<=", e.Within.D().Seconds(), "s")
		x.Detail = fmt.Sprintf("regression reached traffic at +%.1fs, detected after %.1fs, rollback completed after %.1fs",
			ro.RegressionAt.Sub(ev.T0).Seconds(), ro.DetectedAt.Sub(*ro.RegressionAt).Seconds(), d.Seconds())
	}
}
