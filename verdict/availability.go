package verdict

import (
	"fmt"

	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// availability: at least e.Min of the clients' requests in the window
// succeeded.
func availability(ev *Evidence, e *scenarios.Expectation, x *reports.Expectation, _ *Findings) {
	s, window := clientWindow(ev, e)
	if s.Requests == 0 {
		x.Observed, x.Detail = "no data", "no client requests in "+window
		return
	}
	avail := 1 - s.ErrorRate
	x.Threshold, x.Observed = fmt.Sprintf(">= %.4g%%", 100*e.Min), fmt.Sprintf("%.3f%%", 100*avail)
	x.Passed = avail >= e.Min
	setNum(x, 100*avail, ">=", 100*e.Min, "%")
	x.Detail = fmt.Sprintf("%d of %d requests failed over %s", s.Errors, s.Requests, window)
}
