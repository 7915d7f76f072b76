package verdict

import (
	"fmt"
	"time"

	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// rpo: at most e.MaxLost acknowledged writes were lost (and the loss window
// is at most e.MaxWindow), none duplicated, by the final read of the ledger.
func rpo(ev *Evidence, e *scenarios.Expectation, d *Database, x *reports.Expectation, _ *Findings) {
	x.Threshold = fmt.Sprintf("<= %d lost", e.MaxLost)
	if e.MaxWindow > 0 {
		x.Threshold += ", window <= " + e.MaxWindow.String()
	}
	if d.ReadErr != nil || d.Found == nil {
		x.Observed, x.Detail = "not measured", fmt.Sprintf("the final read failed, so losses cannot be counted: %v", d.ReadErr)
		return
	}
	loss := dataLoss(ev, d)
	lost := len(loss.Lost)
	x.Observed = fmt.Sprintf("%d lost (window %s)", lost, loss.Window.Round(time.Millisecond))
	x.Passed = lost <= e.MaxLost && (e.MaxWindow == 0 || loss.Window <= e.MaxWindow.D()) && len(loss.Duplicated) == 0
	setNum(x, float64(lost), "<=", float64(e.MaxLost), "writes")
	x.Detail = describeLoss(loss)
}
