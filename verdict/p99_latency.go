package verdict

import (
	"fmt"
	"time"

	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// p99Latency: the clients' p99 latency in the window is at most e.Max.
func p99Latency(ev *Evidence, e *scenarios.Expectation, x *reports.Expectation, _ *Findings) {
	s, window := clientWindow(ev, e)
	if s.Requests == 0 {
		x.Observed, x.Detail = "no data", "no client requests in "+window
		return
	}
	x.Threshold, x.Observed = "<= "+e.Max.D().String(), s.P99.Round(time.Millisecond).String()
	x.Passed = s.P99 <= e.Max.D()
	setNum(x, ms(s.P99), "<=", ms(e.Max.D()), "ms")
	x.Detail = fmt.Sprintf("p50 %s, p99 %s, max %s over %d requests (%s)", s.P50.Round(time.Millisecond),
		s.P99.Round(time.Millisecond), s.Max.Round(time.Millisecond), s.Requests, window)
}
