package verdict

import (
	"fmt"
	"path"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// writeRTO is rto on a database: the write ledger is acknowledged again,
// stably, within e.Max of the first fault matching e.Fault on it.
func writeRTO(ev *Evidence, e *scenarios.Expectation, d *Database, x *reports.Expectation, _ *Findings) {
	x.Threshold = "<= " + e.Max.D().String()
	at, name, ok := faultInstant(ev, e.Fault, d)
	switch {
	case !ok:
		x.Observed, x.Detail = "no fault", fmt.Sprintf("no fault matching %q was injected on %s", e.Fault, d.Name)
		return
	case d.Writes == nil:
		x.Observed, x.Detail = "no data", "rto with database measures the write ledger, and there is none"
		return
	}
	rec, err := analysis.MeasureWriteRecovery(d.Writes, at, analysis.RecoveryConfig{Objective: e.Objective, Stability: e.Stability.D()})
	if err != nil {
		x.Observed, x.Detail = "not measured", err.Error()
		return
	}
	first := "no write acknowledged after it"
	if rec.HasFirstAck {
		first = fmt.Sprintf("first acknowledged write %s after it", rec.FirstAckRTO.Round(time.Millisecond))
	}
	if !rec.Stable.Recovered {
		x.Observed, x.Detail = "not recovered", fmt.Sprintf("after %s at +%.1fs: %s; %s", name, at.Seconds(), first, rec.Stable.Detail)
		return
	}
	x.Observed = rec.Stable.RTO.String()
	x.Passed = rec.Stable.RTO <= e.Max.D()
	setNum(x, rec.Stable.RTO.Seconds(), "<=", e.Max.D().Seconds(), "s")
	x.Detail = fmt.Sprintf("after %s at +%.1fs: %s; writes >= %.4g acknowledged in every 1s bin for %s from %s on",
		name, at.Seconds(), first, e.Objective, e.Stability, rec.Stable.RTO)
}

// faultInstant is when the first injected fault of d matching glob struck.
func faultInstant(ev *Evidence, glob string, d *Database) (time.Duration, string, bool) {
	for _, f := range ev.Faults {
		ok, _ := path.Match(glob, f.Spec.Name)
		if at := f.struck(); ok && f.Spec.Database == d.Name && !at.IsZero() {
			return at.Sub(ev.T0), f.Spec.Name, true
		}
	}
	return 0, "", false
}
