package verdict

import (
	"fmt"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// splitBrainGap is how far apart two accepts of one server may be and
// still belong to one stretch of it accepting writes (samples are 1s apart).
const splitBrainGap = 2 * time.Second

// splitBrain: never two servers accepting writes at once.
func splitBrain(ev *Evidence, _ *scenarios.Expectation, d *Database, x *reports.Expectation, _ *Findings) {
	x.Threshold = "never two servers accepting writes"
	accepts := accepts(d)
	if len(accepts) == 0 {
		x.Observed, x.Detail = "no data", "no write was acknowledged and no server was seen writable"
		return
	}
	splits := analysis.FindSplitBrain(accepts, splitBrainGap)
	reigns := analysis.Reigns(accepts, splitBrainGap)
	x.Passed = len(splits) == 0
	x.Observed = fmt.Sprintf("%d overlaps", len(splits))
	setNum(x, float64(len(splits)), "==", 0, "")
	if len(splits) > 0 {
		x.Detail = splits[0].String()
		return
	}
	x.Detail = fmt.Sprintf("%d stretches of one writable server each:", len(reigns))
	for _, rg := range reigns {
		x.Detail += fmt.Sprintf(" %s %.1f-%.1fs;", rg.Instance, rg.From.Seconds(), rg.To.Seconds())
	}
}

// accepts is every sign of a server accepting writes: the ledger's
// acknowledgements (by the server that answered) and the probes that found
// a server writable.
func accepts(d *Database) []analysis.Accept {
	var out []analysis.Accept
	for _, w := range d.Writes {
		if w.Status == analysis.WriteAcked && w.Instance != "" {
			out = append(out, analysis.Accept{Instance: w.Instance, At: w.Done})
		}
	}
	return append(out, d.Writable...)
}
