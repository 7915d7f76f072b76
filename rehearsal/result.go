package rehearsal

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/faults"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/simulator"
	"github.com/firedrill/firedrill/verdict"
)

// finish fills the result from what the run recorded, and judges it.
func (r *rehearsal) finish(runErr error) {
	res := r.res
	res.EndedAt = time.Now().UTC()
	if runErr != nil {
		res.Error = runErr.Error()
	}
	for _, s := range r.sc.Services {
		res.Topology = append(res.Topology, reports.Service{Name: s.Name, Version: s.Version, Replicas: s.Replicas, DependsOn: s.DependsOn})
	}
	r.rolloutRecord()
	res.Faults = r.faultRecords()
	if !r.t0.IsZero() {
		r.trafficRecord()
	}
	res.Alerts, res.TelemetryGaps = r.alerts(), r.gaps() // observe.go
	res.Injects = r.injects()                            // gameday.go
	j := verdict.Judge(r.evidence())
	res.Power, res.Replication, res.Recovery = j.Power, j.Replication, j.Recovery
	res.Expectations, res.Breakers = j.Expectations, j.Breakers
	res.Verdict = reports.GO
	if runErr != nil {
		res.Verdict = reports.NOGO
	}
	for _, e := range res.Expectations {
		if !e.Passed {
			res.Verdict = reports.NOGO
		}
	}
	if r.abortReason != "" && runErr == nil {
		aborted(res, r.abortReason) // abort.go
	}
	if res.Interrupted {
		interrupted(res)
	}
	r.events.Add(record.Event{Kind: record.EvRunEnded, Message: "verdict " + res.Verdict})
	res.Events = r.events.Events()
}

// evidence is what the verdict judges.
func (r *rehearsal) evidence() *verdict.Evidence {
	ev := &verdict.Evidence{Scenario: r.sc, Seed: r.cfg.Seed, Samples: r.rec, T0: r.t0, TrafficEnd: r.stats.End,
		Rollout: r.res.Rollout, Databases: r.db.Evidence(), Alerts: r.res.Alerts,
		Journeys: r.res.Journeys}
	for _, f := range r.faults {
		vf := verdict.Fault{Spec: f.Fault, InjectedAt: f.InjectedAt, RevertedAt: f.RevertedAt, Skipped: f.Skipped, Err: f.Err}
		if at, ok := r.db.ActionAt(f.Fault); ok {
			vf.ActionAt = at
		}
		ev.Faults = append(ev.Faults, vf)
	}
	return ev
}

// rolloutRecord is what the controller did, in the result's terms.
func (r *rehearsal) rolloutRecord() {
	res := r.res
	if ro := r.sc.Rollout; ro != nil {
		res.Rollout.Service, res.Rollout.Strategy, res.Rollout.To = ro.Service, ro.Strategy, ro.To
		res.Rollout.From = r.sc.Service(ro.Service).Version
	}
	o := r.outcome
	if o == nil {
		return
	}
	ro := &res.Rollout
	ro.Outcome, ro.Trigger = o.Result, o.Trigger
	ro.StartedAt, ro.RegressionAt, ro.DetectedAt = tp(o.StartedAt), tp(o.RegressionAt), tp(o.DetectedAt)
	ro.RollbackStartedAt, ro.CompletedAt = tp(o.RollbackStartedAt), tp(o.CompletedAt)
	ro.TrafficRestoredAt = tp(o.TrafficRestoredAt)
	if o.Result != simulator.None {
		ro.Audit = rolloutAudit(o) // rollout.go
	}
	for _, st := range o.Steps {
		ro.Steps = append(ro.Steps, reports.Step{Index: st.Index, Weight: st.Weight, StartedAt: st.Started.UTC(), EndedAt: tp(st.Ended), Result: st.Result})
	}
}

// faultRecords are the faults as they happened.
func (r *rehearsal) faultRecords() []reports.Fault {
	out := []reports.Fault{}
	for _, f := range r.faults {
		rf := reports.Fault{Name: f.Fault.Name, Kind: f.Fault.Kind, Target: f.Fault.Target(), Detail: faults.Describe(f.Fault),
			InjectedAt: tp(f.InjectedAt), RevertedAt: tp(f.RevertedAt), Skipped: f.Skipped}
		if f.Err != nil {
			rf.Error = f.Err.Error()
		}
		if !f.InjectedAt.IsZero() {
			// An action (promote, backup, migrate) is stamped once done: its
			// window is from when it began its work to then.
			if at, ok := r.db.ActionAt(f.Fault); ok {
				rf.InjectedAt, rf.RevertedAt = tp(at), tp(f.InjectedAt)
			}
		}
		out = append(out, rf)
	}
	return out
}

// trafficRecord sums up the clients' requests and the per-second series.
func (r *rehearsal) trafficRecord() {
	res := r.res
	clients := r.rec.Select(record.Filter{Source: record.Client})
	s := analysis.Summarize(clients)
	elapsed := r.stats.End.Sub(r.stats.Start).Seconds()
	res.Traffic = reports.Traffic{Requests: s.Requests, Errors: s.Errors, TargetRPS: r.sc.Traffic.Rate,
		LatencyMS: reports.Latencies{P50: ms(s.P50), P90: ms(s.P90), P99: ms(s.P99), Max: ms(s.Max)},
		Machine:   r.machine}
	for _, c := range clients {
		if c.Err == record.ErrNone && c.Status >= 400 && c.Status < 500 {
			res.Traffic.Status4xx++
		}
	}
	if elapsed > 0 {
		res.Traffic.AchievedRPS = math.Round(float64(s.Requests)/elapsed*10) / 10
	}
	res.Series = r.series()
	t0 := r.t0.UTC()
	res.SeriesStart = &t0
}

func (r *rehearsal) series() []reports.Series {
	var out []reports.Series
	add := func(source, service, version string, pts []analysis.SecondPoint) {
		s := reports.Series{Source: source, Service: service, Version: version}
		for _, p := range pts {
			s.Points = append(s.Points, reports.Point{T: p.T, Requests: p.Requests, Errors: p.Errors, P50MS: ms(p.P50), P99MS: ms(p.P99)})
		}
		out = append(out, s)
	}
	add("client", r.sc.Traffic.Entry, "", analysis.PerSecond(r.rec.Select(record.Filter{Source: record.Client}),
		func(record.Sample) string { return "" })[""])
	for _, svc := range r.sc.Services {
		byVersion := analysis.PerSecond(r.rec.Select(record.Filter{Source: record.Hop, Service: svc.Name}),
			func(s record.Sample) string { return r.rec.Name(s.Version) })
		versions := make([]string, 0, len(byVersion))
		for v := range byVersion {
			versions = append(versions, v)
		}
		sort.Strings(versions)
		for _, v := range versions {
			add("hop", svc.Name, v, byVersion[v])
		}
	}
	return out
}

func (r *rehearsal) write() error {
	formats := []string{"json", "md", "junit", "html"}
	if len(r.cfg.Formats) > 0 {
		formats = append([]string{"json"}, r.cfg.Formats...)
	}
	if _, err := reports.Write(r.dir, r.res, formats); err != nil {
		return fmt.Errorf("write reports to %s: %w", r.dir, err)
	}
	return nil
}

func tp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }

// interrupted gives a run stopped before its end its own verdict: what it
// did not get to judge is skipped, not failed (the exit code stays 130).
func interrupted(res *reports.Result) {
	res.Verdict = reports.INTERRUPTED
	for i := range res.Expectations {
		if !res.Expectations[i].Passed {
			res.Expectations[i].Skipped = "not judged: the run was interrupted before its end"
		}
	}
}
