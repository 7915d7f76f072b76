package verdict

import (
	"fmt"
	"math"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// Database is what a run observed of one database (stateful.Run.Evidence).
type Database struct {
	Name string
	// Writes is the write ledger's (nil: no ledger ran on this database);
	// Found counts each id the final read found, ReadErr why it failed.
	Writes  []analysis.Write
	Found   map[int64]int
	ReadErr error
	// Lag is every replica's replication sample, sampled once a second.
	Lag []analysis.LagPoint
	// Writable are the probes that found a server accepting writes.
	Writable []analysis.Accept
	// Detected are the primary failures the failover watcher acted on.
	Detected   []time.Time
	Backups    []Backup
	Migrations []Migration
}

// Backup is one backup drill: taken under load, verified against its
// manifest, restored into a fresh server, the ledger read from it.
type Backup struct {
	Name string
	// StartedAt, EndedAt, EndLSN and EndPointAt (when the end point's WAL
	// was written) describe the backup when Err is nil.
	StartedAt, EndedAt, EndPointAt time.Time
	EndLSN                         string
	// Err is the backup's own failure, Verify the manifest check's, Restore
	// the restore's and ReadErr the ledger read's from the restored server.
	Err, Verify, Restore, ReadErr error
	// RestoredIn is how long the restored server took to accept connections.
	RestoredIn time.Duration
	Found      map[int64]int
}

// Migration is one migrate action as it ran.
type Migration struct {
	Name string
	// At is when its SQL started (zero: it never did), Took how long it ran.
	At   time.Time
	Took time.Duration
	Err  error
	// Verified: its verify_sql ran and counted Verify (VerifyErr: failed).
	Verified  bool
	Verify    int64
	VerifyErr error
	// MaxLockWait is the longest any query waited on a lock while it ran,
	// MaxWaiters the most queries waiting at once.
	MaxLockWait time.Duration
	MaxWaiters  int
}

// dbChecker judges an expectation on one database that ran.
type dbChecker func(ev *Evidence, e *scenarios.Expectation, d *Database, x *reports.Expectation, out *Findings)

// onDatabase finds e.Database for c, or says it never ran.
func onDatabase(c dbChecker) Checker {
	return func(ev *Evidence, e *scenarios.Expectation, x *reports.Expectation, out *Findings) {
		d := ev.Databases[e.Database]
		if d == nil {
			x.Observed, x.Detail = "no data", "database "+e.Database+" never ran"
			return
		}
		c(ev, e, d, x, out)
	}
}

// firstPrimaryFault is the failure instant of d for RPO and the ledger's
// RTO: its first primary fault or action, else the first failure the
// watcher detected.
func firstPrimaryFault(ev *Evidence, d *Database) (time.Duration, bool) {
	var best time.Time
	for _, f := range ev.Faults {
		switch f.Spec.Kind {
		case scenarios.FaultKillPrimary, scenarios.FaultPausePrimary, scenarios.ActionPromote:
		default:
			continue
		}
		if at := f.struck(); f.Spec.Database == d.Name && !at.IsZero() && (best.IsZero() || at.Before(best)) {
			best = at
		}
	}
	if best.IsZero() && len(d.Detected) > 0 {
		best = d.Detected[0]
	}
	if best.IsZero() {
		return 0, false
	}
	return best.Sub(ev.T0), true
}

// dataLoss compares the ledger with the final read.
func dataLoss(ev *Evidence, d *Database) analysis.DataLoss {
	failure := analysis.NoFailure
	if at, ok := firstPrimaryFault(ev, d); ok {
		failure = at
	}
	return analysis.MeasureDataLoss(d.Writes, d.Found, failure)
}

func describeLoss(l analysis.DataLoss) string {
	s := fmt.Sprintf("%d acknowledged, %d failed, %d unknown (%d surfaced, %d vanished); %d acknowledged writes lost",
		l.Acked, l.Failed, l.Unknown, l.UnknownSurfaced, l.UnknownVanished, len(l.Lost))
	if len(l.Lost) > 0 {
		s += fmt.Sprintf(" (acknowledged between +%.2fs and +%.2fs)", l.FirstLost.Seconds(), l.LastLost.Seconds())
	}
	if len(l.Duplicated) > 0 {
		s += fmt.Sprintf("; %d writes appear twice", len(l.Duplicated))
	}
	if len(l.FailedSurfaced) > 0 {
		s += fmt.Sprintf("; %d writes reported failed are present", len(l.FailedSurfaced))
	}
	return s
}

// databaseFindings are the replication series and the recovery findings
// (ledger, then backups) of every database that ran, in file order.
func databaseFindings(ev *Evidence) ([]reports.Replication, []reports.Recovery) {
	var repl []reports.Replication
	var rec []reports.Recovery
	for _, name := range ev.Scenario.DatabaseNames() {
		d := ev.Databases[name]
		if d == nil {
			continue
		}
		repl = append(repl, replicationSeries(d)...)
		if d.Writes != nil {
			rec = append(rec, ledgerFinding(ev, d))
		}
		rec = append(rec, backupFindings(d)...)
	}
	return repl, rec
}

func replicationSeries(d *Database) []reports.Replication {
	byReplica := map[string]*reports.Replication{}
	var order []string
	for _, p := range d.Lag {
		s := byReplica[p.Replica]
		if s == nil {
			s = &reports.Replication{Database: d.Name, Replica: p.Replica}
			byReplica[p.Replica] = s
			order = append(order, p.Replica)
		}
		s.Points = append(s.Points, reports.ReplicationPoint{T: math.Round(p.T.Seconds()*10) / 10, Streaming: p.Streaming,
			LagMS: ms(p.Lag), LagBytes: p.Bytes})
	}
	out := make([]reports.Replication, 0, len(order))
	for _, name := range order {
		out = append(out, *byReplica[name])
	}
	return out
}

// ledgerFinding sums up what the ledger saw: RPO from the final read, RTO
// of writes after the first primary fault, with the targets of the
// database's rpo and rto expectations.
func ledgerFinding(ev *Evidence, d *Database) reports.Recovery {
	f := reports.Recovery{Name: "write ledger on " + d.Name, Database: d.Name, Service: d.Name}
	ip := func(n int) *int { return &n }
	var acked, failed, unknown int
	for _, w := range d.Writes {
		switch w.Status {
		case analysis.WriteAcked:
			acked++
		case analysis.WriteFailed:
			failed++
		default:
			unknown++
		}
	}
	f.AckedWrites, f.FailedWrites, f.UnknownWrites = ip(acked), ip(failed), ip(unknown)
	if d.ReadErr == nil && d.Found != nil {
		loss := dataLoss(ev, d)
		f.LostWrites, f.RPOSeconds = ip(len(loss.Lost)), ptr(loss.Window.Seconds())
		f.UnknownSurfaced, f.DuplicateWrites = ip(loss.UnknownSurfaced), ip(len(loss.Duplicated))
		f.Detail = describeLoss(loss)
	} else {
		f.Detail = fmt.Sprintf("final read failed: %v", d.ReadErr)
	}
	cfg := analysis.RecoveryConfig{Objective: scenarios.DefaultRTOObj, Stability: scenarios.DefaultRTOStability.D()}
	for _, e := range ev.Scenario.Expectations {
		if e != nil && e.Kind == scenarios.ExpectRTO && e.Database == d.Name {
			cfg = analysis.RecoveryConfig{Objective: e.Objective, Stability: e.Stability.D()}
			break
		}
	}
	if at, ok := firstPrimaryFault(ev, d); ok {
		if rec, err := analysis.MeasureWriteRecovery(d.Writes, at, cfg); err == nil {
			if rec.HasFirstAck {
				f.FirstWriteSeconds = ptr(rec.FirstAckRTO.Seconds())
			}
			if rec.Stable.Recovered {
				f.RTOSeconds = ptr(rec.Stable.RTO.Seconds())
			}
		}
	}
	for _, e := range ev.Scenario.Expectations {
		if e == nil || e.Database != d.Name {
			continue
		}
		switch {
		case e.Kind == scenarios.ExpectRPO && e.MaxWindow > 0:
			f.RPOTargetSeconds = ptr(e.MaxWindow.D().Seconds())
		case e.Kind == scenarios.ExpectRTO:
			f.RTOTargetSeconds = ptr(e.Max.D().Seconds())
			f.Fault = e.Fault
		}
	}
	return f
}
