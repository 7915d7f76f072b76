package firedrill

import (
	"fmt"
	"math"
	"path"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/faults"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/traffic"
)

// splitBrainGap is how far apart two accepts of one server may be and
// still belong to one stretch of it accepting writes (samples are 1s apart).
const splitBrainGap = 2 * time.Second

// checkStateful evaluates the database expectations (and rto with a
// database); ok is false for any other expectation.
func (r *runner) checkStateful(e *scenarios.Expectation) (reports.Expectation, bool) {
	isDB := e.Kind == scenarios.ExpectRPO || e.Kind == scenarios.ExpectNoSplitBrain ||
		e.Kind == scenarios.ExpectReplicationLag || e.Kind == scenarios.ExpectBackupRestore || e.Kind == scenarios.ExpectMigration ||
		(e.Kind == scenarios.ExpectRTO && e.Database != "")
	if !isDB {
		return reports.Expectation{}, false
	}
	x := reports.Expectation{Name: e.Name, Kind: e.Kind}
	var d *dbRun
	if r.db != nil {
		d = r.db.dbs[e.Database]
	}
	if d == nil {
		x.Observed, x.Detail = "no data", "database "+e.Database+" never ran"
		return x, true
	}
	switch e.Kind {
	case scenarios.ExpectRPO:
		r.checkRPO(e, d, &x)
	case scenarios.ExpectRTO:
		r.checkWriteRTO(e, d, &x)
	case scenarios.ExpectNoSplitBrain:
		r.checkSplitBrain(d, &x)
	case scenarios.ExpectReplicationLag:
		r.checkLag(e, d, &x)
	case scenarios.ExpectBackupRestore:
		r.checkBackup(e, d, &x)
	case scenarios.ExpectMigration:
		r.checkMigration(e, d, &x)
	}
	return x, true
}

func (r *runner) checkRPO(e *scenarios.Expectation, d *dbRun, x *reports.Expectation) {
	x.Threshold = fmt.Sprintf("<= %d lost", e.MaxLost)
	if e.MaxWindow > 0 {
		x.Threshold += ", window <= " + e.MaxWindow.String()
	}
	if d.readErr != nil || d.found == nil {
		x.Observed, x.Detail = "not measured", fmt.Sprintf("the final read failed, so losses cannot be counted: %v", d.readErr)
		return
	}
	loss := r.dataLoss(d)
	lost := len(loss.Lost)
	x.Observed = fmt.Sprintf("%d lost (window %s)", lost, loss.Window.Round(time.Millisecond))
	x.Passed = lost <= e.MaxLost && (e.MaxWindow == 0 || loss.Window <= e.MaxWindow.D()) && len(loss.Duplicated) == 0
	numeric(x, float64(lost), "<=", float64(e.MaxLost), "writes")
	x.Detail = describeLoss(loss)
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

// dataLoss compares the ledger with the final read; the failure instant is
// the database's first primary fault or action, else the first failure the
// watcher detected.
func (r *runner) dataLoss(d *dbRun) analysis.DataLoss {
	failure := analysis.NoFailure
	if at, ok := r.firstPrimaryFault(d); ok {
		failure = at
	}
	return analysis.MeasureDataLoss(ledgerWrites(d.writes), d.found, failure)
}

func (r *runner) firstPrimaryFault(d *dbRun) (time.Duration, bool) {
	var best time.Time
	for _, f := range r.faults {
		switch f.Fault.Kind {
		case scenarios.FaultKillPrimary, scenarios.FaultPausePrimary, scenarios.ActionPromote:
		default:
			continue
		}
		if at := r.struckAt(f); f.Fault.Database == d.spec.Name && !at.IsZero() && (best.IsZero() || at.Before(best)) {
			best = at
		}
	}
	if best.IsZero() {
		d.mu.Lock()
		if len(d.detected) > 0 {
			best = d.detected[0]
		}
		d.mu.Unlock()
	}
	if best.IsZero() {
		return 0, false
	}
	return best.Sub(r.t0), true
}

func (r *runner) checkWriteRTO(e *scenarios.Expectation, d *dbRun, x *reports.Expectation) {
	x.Threshold = "<= " + e.Max.D().String()
	at, name, ok := r.faultInstant(e.Fault, d)
	switch {
	case !ok:
		x.Observed, x.Detail = "no fault", fmt.Sprintf("no fault matching %q was injected on %s", e.Fault, d.spec.Name)
		return
	case d.writes == nil:
		x.Observed, x.Detail = "no data", "rto with database measures the write ledger, and there is none"
		return
	}
	rec, err := analysis.MeasureWriteRecovery(ledgerWrites(d.writes), at, analysis.RecoveryConfig{Objective: e.Objective, Stability: e.Stability.D()})
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
	numeric(x, rec.Stable.RTO.Seconds(), "<=", e.Max.D().Seconds(), "s")
	x.Detail = fmt.Sprintf("after %s at +%.1fs: %s; writes >= %.4g acknowledged in every 1s bin for %s from %s on",
		name, at.Seconds(), first, e.Objective, e.Stability, rec.Stable.RTO)
}

// faultInstant is when the first injected fault of d matching glob struck.
func (r *runner) faultInstant(glob string, d *dbRun) (time.Duration, string, bool) {
	for _, f := range r.faults {
		ok, _ := path.Match(glob, f.Fault.Name)
		if at := r.struckAt(f); ok && f.Fault.Database == d.spec.Name && !at.IsZero() {
			return at.Sub(r.t0), f.Fault.Name, true
		}
	}
	return 0, "", false
}

// struckAt is when a fault struck: when an action began its work, else when
// it was injected (zero: never).
func (r *runner) struckAt(f faults.Outcome) time.Time {
	if f.InjectedAt.IsZero() {
		return time.Time{}
	}
	if v, ok := r.db.actionAt.Load(f.Fault); ok {
		return v.(time.Time)
	}
	return f.InjectedAt
}

func (r *runner) checkSplitBrain(d *dbRun, x *reports.Expectation) {
	x.Threshold = "never two servers accepting writes"
	accepts := r.accepts(d)
	if len(accepts) == 0 {
		x.Observed, x.Detail = "no data", "no write was acknowledged and no server was seen writable"
		return
	}
	splits := analysis.FindSplitBrain(accepts, splitBrainGap)
	reigns := analysis.Reigns(accepts, splitBrainGap)
	x.Passed = len(splits) == 0
	x.Observed = fmt.Sprintf("%d overlaps", len(splits))
	numeric(x, float64(len(splits)), "==", 0, "")
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
func (r *runner) accepts(d *dbRun) []analysis.Accept {
	var out []analysis.Accept
	for _, w := range d.writes {
		if w.Status == traffic.WriteAcked && w.Instance != "" {
			out = append(out, analysis.Accept{Instance: w.Instance, At: w.Done})
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.samples {
		for _, n := range s.Writable {
			out = append(out, analysis.Accept{Instance: n, At: s.At.Sub(r.t0)})
		}
	}
	return out
}

func (r *runner) checkLag(e *scenarios.Expectation, d *dbRun, x *reports.Expectation) {
	x.Threshold = "<= " + e.MaxLag.String()
	if e.MaxLagBytes > 0 {
		x.Threshold += fmt.Sprintf(", <= %d bytes", e.MaxLagBytes)
	}
	x.Threshold += ", always streaming"
	s := analysis.SummarizeLag(r.lagPoints(d), e.From.D(), e.To.D())
	if s.Samples == 0 {
		x.Observed, x.Detail = "no data", "no replication sample in the window"
		return
	}
	x.Observed = fmt.Sprintf("max %s", s.Max.Round(time.Millisecond))
	if s.Failing > 0 {
		x.Observed += fmt.Sprintf(", %d samples not streaming", s.Failing)
	}
	x.Passed = s.Failing == 0 && s.Max <= e.MaxLag.D() && (e.MaxLagBytes == 0 || s.MaxBytes <= e.MaxLagBytes)
	numeric(x, float64(s.Max.Milliseconds()), "<=", float64(e.MaxLag.D().Milliseconds()), "ms")
	x.Detail = fmt.Sprintf("%d replica samples, %d not streaming; worst %s %s at +%.0fs, max %d bytes behind",
		s.Samples, s.Failing, s.Worst, s.Max.Round(time.Millisecond), s.WorstAt.Seconds(), s.MaxBytes)
}

func (r *runner) lagPoints(d *dbRun) []analysis.LagPoint {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []analysis.LagPoint
	for _, s := range d.samples {
		out = append(out, lagPoints(s, r.t0)...)
	}
	return out
}

func ledgerWrites(ws []traffic.Write) []analysis.Write {
	out := make([]analysis.Write, len(ws))
	for i, w := range ws {
		out[i] = analysis.Write{ID: w.ID, At: w.At, Done: w.Done, Status: analysis.WriteStatus(w.Status), Instance: w.Instance}
	}
	return out
}

// statefulFindings adds the replication series and one recovery finding per
// database with a ledger.
func (r *runner) statefulFindings() {
	if r.db == nil || r.t0.IsZero() {
		return
	}
	for _, name := range r.sc.DatabaseNames() {
		d := r.db.dbs[name]
		if d == nil {
			continue
		}
		r.res.Replication = append(r.res.Replication, r.replicationSeries(d)...)
		if d.writes != nil {
			r.res.Recovery = append(r.res.Recovery, r.ledgerFinding(d))
		}
		r.res.Recovery = append(r.res.Recovery, r.backupFindings(d)...)
	}
}

func (r *runner) replicationSeries(d *dbRun) []reports.Replication {
	byReplica := map[string]*reports.Replication{}
	var order []string
	for _, p := range r.lagPoints(d) {
		s := byReplica[p.Replica]
		if s == nil {
			s = &reports.Replication{Database: d.spec.Name, Replica: p.Replica}
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
func (r *runner) ledgerFinding(d *dbRun) reports.Recovery {
	f := reports.Recovery{Name: "write ledger on " + d.spec.Name, Database: d.spec.Name, Service: d.spec.Name}
	ws := ledgerWrites(d.writes)
	ip := func(n int) *int { return &n }
	fp := func(x float64) *float64 { return &x }
	var acked, failed, unknown int
	for _, w := range ws {
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
	if d.readErr == nil && d.found != nil {
		loss := r.dataLoss(d)
		f.LostWrites, f.RPOSeconds = ip(len(loss.Lost)), fp(loss.Window.Seconds())
		f.UnknownSurfaced, f.DuplicateWrites = ip(loss.UnknownSurfaced), ip(len(loss.Duplicated))
		f.Detail = describeLoss(loss)
	} else {
		f.Detail = fmt.Sprintf("final read failed: %v", d.readErr)
	}
	cfg := analysis.RecoveryConfig{Objective: scenarios.DefaultRTOObj, Stability: scenarios.DefaultRTOStability.D()}
	for _, e := range r.sc.Expectations {
		if e != nil && e.Kind == scenarios.ExpectRTO && e.Database == d.spec.Name {
			cfg = analysis.RecoveryConfig{Objective: e.Objective, Stability: e.Stability.D()}
			break
		}
	}
	if at, ok := r.firstPrimaryFault(d); ok {
		if rec, err := analysis.MeasureWriteRecovery(ws, at, cfg); err == nil {
			if rec.HasFirstAck {
				f.FirstWriteSeconds = fp(rec.FirstAckRTO.Seconds())
			}
			if rec.Stable.Recovered {
				f.RTOSeconds = fp(rec.Stable.RTO.Seconds())
			}
		}
	}
	for _, e := range r.sc.Expectations {
		if e == nil || e.Database != d.spec.Name {
			continue
		}
		switch {
		case e.Kind == scenarios.ExpectRPO && e.MaxWindow > 0:
			f.RPOTargetSeconds = fp(e.MaxWindow.D().Seconds())
		case e.Kind == scenarios.ExpectRTO:
			f.RTOTargetSeconds = fp(e.Max.D().Seconds())
			f.Fault = e.Fault
		}
	}
	return f
}
