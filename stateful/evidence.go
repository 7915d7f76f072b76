package stateful

import (
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/traffic"
	"github.com/firedrill/firedrill/verdict"
)

// Evidence is what the run observed of each database that ran, for the
// verdict; call it after Finish.
func (r *Run) Evidence() map[string]*verdict.Database {
	out := make(map[string]*verdict.Database, len(r.dbs))
	for name, d := range r.dbs {
		out[name] = r.evidence(d)
	}
	return out
}

func (r *Run) evidence(d *dbRun) *verdict.Database {
	d.mu.Lock()
	defer d.mu.Unlock()
	ev := &verdict.Database{Name: d.spec.Name, Writes: ledgerWrites(d.writes), Found: d.found, ReadErr: d.readErr,
		Detected: append([]time.Time(nil), d.detected...)}
	for _, s := range d.samples {
		ev.Lag = append(ev.Lag, lagPoints(s, r.t0)...)
		for _, n := range s.Writable {
			ev.Writable = append(ev.Writable, analysis.Accept{Instance: n, At: s.At.Sub(r.t0)})
		}
	}
	for _, br := range d.backups {
		b := verdict.Backup{Name: br.name, Err: br.err, Verify: br.verify, Restore: br.restore, ReadErr: br.readErr,
			RestoredIn: br.restoredIn, Found: br.found}
		if br.b != nil {
			b.StartedAt, b.EndedAt, b.EndPointAt, b.EndLSN = br.b.StartedAt, br.b.EndedAt, br.b.EndPointAt, br.b.EndLSN
		}
		ev.Backups = append(ev.Backups, b)
	}
	for _, m := range d.migrations {
		ev.Migrations = append(ev.Migrations, verdict.Migration{Name: m.name, At: m.at, Took: m.took, Err: m.err,
			Verified: m.verified, Verify: m.verify, VerifyErr: m.verifyEr, MaxLockWait: m.maxLockWait, MaxWaiters: m.maxWaiters})
	}
	return ev
}

// ledgerWrites are the ledger's writes for the analysis (nil: no ledger).
func ledgerWrites(ws []traffic.Write) []analysis.Write {
	if ws == nil {
		return nil
	}
	out := make([]analysis.Write, len(ws))
	for i, w := range ws {
		out[i] = analysis.Write{ID: w.ID, At: w.At, Done: w.Done, Status: analysis.WriteStatus(w.Status), Instance: w.Instance}
	}
	return out
}
