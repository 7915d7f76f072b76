package verdict

import (
	"errors"
	"fmt"
	"strings"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// backupRestore judges the backup drills of d: each taken, verified and
// restored, and every write acknowledged before its end point (less the
// declared window, MaxWindow) present in the restored server, once.
func backupRestore(ev *Evidence, e *scenarios.Expectation, d *Database, x *reports.Expectation, _ *Findings) {
	slack := e.MaxWindow.D()
	x.Threshold = fmt.Sprintf("every write acknowledged up to %s before the backup's end point restored", slack)
	if len(d.Backups) == 0 {
		x.Observed, x.Detail = "no backup", "the backup action never ran"
		return
	}
	var missingTotal int
	var details []string
	var failed error
	for _, br := range d.Backups {
		if err := errors.Join(br.Err, br.Verify, br.Restore, br.ReadErr); err != nil {
			failed = err
			details = append(details, fmt.Sprintf("%s: %v", br.Name, err))
			continue
		}
		cut := br.EndPointAt.Add(-slack).Sub(ev.T0)
		var due, missing, dup, inSlack int
		for _, w := range d.Writes {
			if w.Status != analysis.WriteAcked {
				continue
			}
			n := br.Found[w.ID]
			switch {
			case w.Done < cut:
				due++
				if n == 0 {
					missing++
				}
			case w.Done < br.EndPointAt.Sub(ev.T0) && n > 0:
				inSlack++
			}
			if n > 1 {
				dup++
			}
		}
		missingTotal += missing + dup
		details = append(details, fmt.Sprintf("%s: backup took %.1fs under load (end point %s at +%.1fs), verified against its manifest, "+
			"restored in %.1fs; %d of %d writes acknowledged before +%.1fs present, %d later ones too, %d duplicated",
			br.Name, br.EndedAt.Sub(br.StartedAt).Seconds(), br.EndLSN, br.EndPointAt.Sub(ev.T0).Seconds(),
			br.RestoredIn.Seconds(), due-missing, due, cut.Seconds(), inSlack, dup))
	}
	x.Detail = strings.Join(details, "; ")
	if failed != nil {
		x.Observed = "drill failed"
		return
	}
	x.Observed = fmt.Sprintf("%d missing", missingTotal)
	x.Passed = missingTotal == 0
	setNum(x, float64(missingTotal), "==", 0, "writes")
}

// backupFindings adds one recovery finding per backup drill: the restore
// time is the RTO of recovering from that backup.
func backupFindings(d *Database) []reports.Recovery {
	var out []reports.Recovery
	for _, br := range d.Backups {
		f := reports.Recovery{Name: "restore of backup " + br.Name, Fault: br.Name, Service: d.Name, Database: d.Name}
		ok := br.Err == nil && br.Verify == nil && br.Restore == nil
		if ok {
			s := br.RestoredIn.Seconds()
			f.RTOSeconds = &s
			f.Detail = fmt.Sprintf("backup took %.1fs, end point %s; verified; restored server accepted connections after %.1fs",
				br.EndedAt.Sub(br.StartedAt).Seconds(), br.EndLSN, s)
		} else {
			f.Detail = "drill failed: " + errors.Join(br.Err, br.Verify, br.Restore).Error()
		}
		f.Passed = &ok
		out = append(out, f)
	}
	return out
}
