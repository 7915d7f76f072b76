package stateful

import (
	"context"
	"fmt"
	"time"

	"github.com/firedrill/firedrill/record"
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
func (r *Run) backup(ctx context.Context, d *dbRun, f *scenarios.Fault) error {
	r.stamp(f, time.Now())
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
	r.cfg.Events.Add(record.Event{Kind: EvBackup, Service: d.spec.Name, Message: msg, Fields: fields})
	return err
}

func (r *Run) backupSteps(ctx context.Context, d *dbRun, br *backupRun) error {
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
	if d != r.ledgerDB {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	br.found, br.readErr = traffic.ReadLedger(rctx, pg.ConnString(n.Addr()), traffic.DefaultLedgerTable)
	return br.readErr
}
