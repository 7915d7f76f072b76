package firedrill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology/pg"
	"github.com/firedrill/firedrill/traffic"
)

// EvBackup is the event of a finished backup drill.
const EvBackup = "db_backup"

// backupRun is one backup drill: pg_basebackup under load,
// pg_verifybackup, a restore into a fresh server and a read of the ledger
// from it.
type backupRun struct {
	name   string
	b      *pg.Backup
	err    error // the backup itself
	verify error
	// restore is the restore's error; restoredIn how long the restored
	// server took to accept connections.
	restore    error
	restoredIn time.Duration
	found      map[int64]int
	readErr    error
}

// backup runs the drill of action f. Every step is recorded even when a
// later one fails; the error says what failed first.
func (r *runner) backup(ctx context.Context, d *dbRun, f *scenarios.Fault) error {
	r.db.actionAt.Store(f, time.Now())
	br := &backupRun{name: f.Name}
	d.mu.Lock()
	d.backups = append(d.backups, br)
	d.mu.Unlock()
	err := r.backupSteps(ctx, d, br)
	msg := fmt.Sprintf("backup %s of %s: ", f.Name, d.spec.Name)
	fields := map[string]any{"backup": f.Name}
	if b := br.b; b != nil && err == nil {
		msg += fmt.Sprintf("taken in %.1fs (end point %s), verified, restored in %.1fs, %d ledger ids in it",
			b.EndedAt.Sub(b.StartedAt).Seconds(), b.EndLSN, br.restoredIn.Seconds(), len(br.found))
		fields["end_lsn"], fields["took_s"], fields["restored_s"] = b.EndLSN, b.EndedAt.Sub(b.StartedAt).Seconds(), br.restoredIn.Seconds()
	} else {
		msg += "failed: " + err.Error()
	}
	r.events.Add(record.Event{Kind: EvBackup, Service: d.spec.Name, Message: msg, Fields: fields})
	return err
}

func (r *runner) backupSteps(ctx context.Context, d *dbRun, br *backupRun) error {
	cl := d.cl
	br.b, br.err = cl.Backup(ctx, br.name)
	if br.err != nil {
		return br.err
	}
	if br.verify = cl.VerifyBackup(ctx, br.b); br.verify != nil {
		return br.verify
	}
	start := time.Now()
	n, err := cl.Restore(ctx, br.b)
	br.restoredIn = time.Since(start)
	if n != nil {
		defer func() { _ = cl.Discard(context.WithoutCancel(ctx), n) }()
	}
	if br.restore = err; err != nil {
		return err
	}
	if d != r.db.ledgerDB {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	br.found, br.readErr = traffic.ReadLedger(rctx, pg.ConnString(n.Addr()), traffic.DefaultLedgerTable)
	return br.readErr
}

// checkBackup judges the backup drills of d: each taken, verified and
// restored, and every write acknowledged before its end point (less the
// declared window, MaxWindow) present in the restored server, once.
func (r *runner) checkBackup(e *scenarios.Expectation, d *dbRun, x *reports.Expectation) {
	slack := e.MaxWindow.D()
	x.Threshold = fmt.Sprintf("every write acknowledged up to %s before the backup's end point restored", slack)
	d.mu.Lock()
	backups := append([]*backupRun(nil), d.backups...)
	d.mu.Unlock()
	if len(backups) == 0 {
		x.Observed, x.Detail = "no backup", "the backup action never ran"
		return
	}
	ws := ledgerWrites(d.writes)
	var missingTotal int
	var details []string
	var failed error
	for _, br := range backups {
		if err := errors.Join(br.err, br.verify, br.restore, br.readErr); err != nil {
			failed = err
			details = append(details, fmt.Sprintf("%s: %v", br.name, err))
			continue
		}
		cut := br.b.EndPointAt.Add(-slack).Sub(r.t0)
		var due, missing, dup, inSlack int
		for _, w := range ws {
			if w.Status != analysis.WriteAcked {
				continue
			}
			n := br.found[w.ID]
			switch {
			case w.Done < cut:
				due++
				if n == 0 {
					missing++
				}
			case w.Done < br.b.EndPointAt.Sub(r.t0) && n > 0:
				inSlack++
			}
			if n > 1 {
				dup++
			}
		}
		missingTotal += missing + dup
		details = append(details, fmt.Sprintf("%s: backup took %.1fs under load (end point %s at +%.1fs), verified against its manifest, "+
			"restored in %.1fs; %d of %d writes acknowledged before +%.1fs present, %d later ones too, %d duplicated",
			br.name, br.b.EndedAt.Sub(br.b.StartedAt).Seconds(), br.b.EndLSN, br.b.EndPointAt.Sub(r.t0).Seconds(),
			br.restoredIn.Seconds(), due-missing, due, cut.Seconds(), inSlack, dup))
	}
	x.Detail = joinDetails(details)
	if failed != nil {
		x.Observed = "drill failed"
		return
	}
	x.Observed = fmt.Sprintf("%d missing", missingTotal)
	x.Passed = missingTotal == 0
	numeric(x, float64(missingTotal), "==", 0, "writes")
}

func joinDetails(ds []string) string {
	out := ""
	for i, d := range ds {
		if i > 0 {
			out += "; "
		}
		out += d
	}
	return out
}

// backupFindings adds one recovery finding per backup drill: the restore
// time is the RTO of recovering from that backup.
func (r *runner) backupFindings(d *dbRun) []reports.Recovery {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []reports.Recovery
	for _, br := range d.backups {
		f := reports.Recovery{Name: "restore of backup " + br.name, Fault: br.name, Service: d.spec.Name, Database: d.spec.Name}
		ok := br.err == nil && br.verify == nil && br.restore == nil
		if ok {
			s := br.restoredIn.Seconds()
			f.RTOSeconds = &s
			f.Detail = fmt.Sprintf("backup took %.1fs, end point %s; verified; restored server accepted connections after %.1fs",
				br.b.EndedAt.Sub(br.b.StartedAt).Seconds(), br.b.EndLSN, s)
		} else {
			f.Detail = "drill failed: " + errors.Join(br.err, br.verify, br.restore).Error()
		}
		f.Passed = &ok
		out = append(out, f)
	}
	return out
}
