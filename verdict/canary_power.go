package verdict

import (
	"fmt"

	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// canaryPower: the canary plan detects e's regression with at least e.Min
// power (power.Compute, with this run's measured baseline).
func canaryPower(ev *Evidence, e *scenarios.Expectation, x *reports.Expectation, _ *Findings) {
	x.Threshold = fmt.Sprintf(">= %.2f", e.Min)
	rep, err := planPower(ev, e)
	if err != nil {
		x.Observed, x.Detail = "not computed", err.Error()
		return
	}
	x.Observed = fmt.Sprintf("%.3f", rep.Effective)
	x.Passed = rep.Effective >= e.Min
	setNum(x, rep.Effective, ">=", e.Min, "")
	x.Detail = rep.Advice + "; " + stepsText(rep)
}
