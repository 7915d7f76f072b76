package verdict

import (
	"fmt"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// replicationLag: every replica kept streaming with a lag of at most
// e.MaxLag (and e.MaxLagBytes) in the window.
func replicationLag(_ *Evidence, e *scenarios.Expectation, d *Database, x *reports.Expectation, _ *Findings) {
	x.Threshold = "<= " + e.MaxLag.String()
	if e.MaxLagBytes > 0 {
		x.Threshold += fmt.Sprintf(", <= %d bytes", e.MaxLagBytes)
	}
	x.Threshold += ", always streaming"
	s := analysis.SummarizeLag(d.Lag, e.From.D(), e.To.D())
	if s.Samples == 0 {
		x.Observed, x.Detail = "no data", "no replication sample in the window"
		return
	}
	x.Observed = fmt.Sprintf("max %s", s.Max.Round(time.Millisecond))
	if s.Failing > 0 {
		x.Observed += fmt.Sprintf(", %d samples not streaming", s.Failing)
	}
	x.Passed = s.Failing == 0 && s.Max <= e.MaxLag.D() && (e.MaxLagBytes == 0 || s.MaxBytes <= e.MaxLagBytes)
	setNum(x, float64(s.Max.Milliseconds()), "<=", float64(e.MaxLag.D().Milliseconds()), "ms")
	x.Detail = fmt.Sprintf("%d replica samples, %d not streaming; worst %s %s at +%.0fs, max %d bytes behind",
		s.Samples, s.Failing, s.Worst, s.Max.Round(time.Millisecond), s.WorstAt.Seconds(), s.MaxBytes)
}
