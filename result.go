package firedrill

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/faults"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/simulator"
)

// finish fills the result from what the run recorded.
func (r *runner) finish(runErr error) {
	res := r.res
	res.EndedAt = time.Now().UTC()
	if runErr != nil {
		res.Error = runErr.Error()
	}
	for _, s := range r.sc.Services {
		res.Topology = append(res.Topology, reports.Service{Name: s.Name, Version: s.Version, Replicas: s.Replicas, DependsOn: s.DependsOn})
	}
	if ro := r.sc.Rollout; ro != nil {
		res.Rollout.Service, res.Rollout.Strategy, res.Rollout.To = ro.Service, ro.Strategy, ro.To
		res.Rollout.From = r.sc.Service(ro.Service).Version
	}
	if o := r.outcome; o != nil {
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
	for _, f := range r.faults {
		rf := reports.Fault{Name: f.Fault.Name, Kind: f.Fault.Kind, Target: f.Fault.Target(), Detail: faults.Describe(f.Fault),
			InjectedAt: tp(f.InjectedAt), RevertedAt: tp(f.RevertedAt), Skipped: f.Skipped}
		if f.Err != nil {
			rf.Error = f.Err.Error()
		}
		if r.db != nil && !f.InjectedAt.IsZero() {
			// An action (promote, backup, migrate) is stamped once done: its
			// window is from when it began its work to then.
			if v, ok := r.db.actionAt.Load(f.Fault); ok {
				rf.InjectedAt, rf.RevertedAt = tp(v.(time.Time)), tp(f.InjectedAt)
			}
		}
		res.Faults = append(res.Faults, rf)
	}
	if res.Faults == nil {
		res.Faults = []reports.Fault{}
	}

	if !r.t0.IsZero() {
		client := r.rec.Select(record.Filter{Source: record.Client})
		s := analysis.Summarize(client)
		elapsed := r.stats.End.Sub(r.stats.Start).Seconds()
		res.Traffic = reports.Traffic{Requests: s.Requests, Errors: s.Errors, TargetRPS: r.sc.Traffic.Rate,
			LatencyMS: reports.Latencies{P50: ms(s.P50), P90: ms(s.P90), P99: ms(s.P99), Max: ms(s.Max)}}
		if elapsed > 0 {
			res.Traffic.AchievedRPS = math.Round(float64(s.Requests)/elapsed*10) / 10
		}
		res.Series = r.series()
		t0 := r.t0.UTC()
		res.SeriesStart = &t0
	}
	res.Power = r.resultPower() // expect_analysis.go
	r.statefulFindings()        // stateful_check.go
	res.Expectations = r.expectations()
	res.Verdict = reports.GO
	if runErr != nil {
		res.Verdict = reports.NOGO
	}
	for _, e := range res.Expectations {
		if !e.Passed {
			res.Verdict = reports.NOGO
		}
	}
	r.events.Add(record.Event{Kind: record.EvRunEnded, Message: "verdict " + res.Verdict})
	res.Events = r.events.Events()
}

func (r *runner) series() []reports.Series {
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

// expectations checks every expectation of the scenario.
func (r *runner) expectations() []reports.Expectation {
	out := []reports.Expectation{}
	for _, e := range r.sc.Expectations {
		out = append(out, r.check(e))
	}
	return out
}

func (r *runner) check(e *scenarios.Expectation) reports.Expectation {
	if x, ok := r.checkStateful(e); ok { // stateful_check.go
		return x
	}
	x := reports.Expectation{Name: e.Name, Kind: e.Kind}
	ro := r.res.Rollout
	switch e.Kind {
	case scenarios.ExpectRolloutOutcome:
		x.Threshold, x.Observed = e.Outcome, ro.Outcome
		x.Passed = ro.Outcome == e.Outcome
		if ro.Trigger != "" {
			x.Detail = "trigger: " + ro.Trigger
		}
	case scenarios.ExpectRollbackWithin:
		x.Threshold = "<= " + e.Within.D().String()
		switch {
		case ro.Outcome != reports.RolledBack:
			x.Observed = "no rollback (outcome " + ro.Outcome + ")"
		case ro.RegressionAt == nil:
			x.Observed, x.Passed = "0s", true
			x.Detail = "the new version never received traffic"
		default:
			d := ro.CompletedAt.Sub(*ro.RegressionAt)
			x.Observed = d.Round(time.Millisecond).String()
			x.Passed = d <= e.Within.D()
			numeric(&x, d.Seconds(), "<=", e.Within.D().Seconds(), "s")
			x.Detail = fmt.Sprintf("regression reached traffic at +%.1fs, detected after %.1fs, rollback completed after %.1fs",
				ro.RegressionAt.Sub(r.t0).Seconds(), ro.DetectedAt.Sub(*ro.RegressionAt).Seconds(), d.Seconds())
		}
	case scenarios.ExpectAvailability, scenarios.ExpectP99Latency:
		from, to := e.From.D(), e.To.D()
		s := analysis.Summarize(r.rec.Select(record.Filter{Source: record.Client, From: from, To: to}))
		window := "whole run"
		if from > 0 || to > 0 {
			window = fmt.Sprintf("[%s, %s)", from, orEnd(to))
		}
		if s.Requests == 0 {
			x.Observed, x.Detail = "no data", "no client requests in "+window
			break
		}
		if e.Kind == scenarios.ExpectAvailability {
			avail := 1 - s.ErrorRate
			x.Threshold, x.Observed = fmt.Sprintf(">= %.4g%%", 100*e.Min), fmt.Sprintf("%.3f%%", 100*avail)
			x.Passed = avail >= e.Min
			numeric(&x, 100*avail, ">=", 100*e.Min, "%")
			x.Detail = fmt.Sprintf("%d of %d requests failed over %s", s.Errors, s.Requests, window)
		} else {
			x.Threshold, x.Observed = "<= "+e.Max.D().String(), s.P99.Round(time.Millisecond).String()
			x.Passed = s.P99 <= e.Max.D()
			numeric(&x, ms(s.P99), "<=", ms(e.Max.D()), "ms")
			x.Detail = fmt.Sprintf("p50 %s, p99 %s, max %s over %d requests (%s)", s.P50.Round(time.Millisecond),
				s.P99.Round(time.Millisecond), s.Max.Round(time.Millisecond), s.Requests, window)
		}
	case scenarios.ExpectCanaryPower: // expect_analysis.go, expect_breaker.go
		r.checkCanaryPower(e, &x)
	case scenarios.ExpectSLOBurn:
		r.checkSLOBurn(e, &x)
	case scenarios.ExpectRTO:
		r.checkRTO(e, &x)
	case scenarios.ExpectBreaker:
		r.checkBreaker(e, &x)
	case scenarios.ExpectRetries:
		r.checkRetries(e, &x)
	case scenarios.ExpectVersionSkew:
		r.checkVersionSkew(e, &x) // expect_skew.go
	default:
		x.Observed, x.Detail = "not evaluated", "this build does not evaluate expectations of kind "+e.Kind
	}
	return x
}

// numeric gives reports the figures to say by how much a check missed.
func numeric(x *reports.Expectation, value float64, op string, limit float64, unit string) {
	x.Value, x.Op, x.Limit, x.Unit = &value, op, &limit, unit
}

func orEnd(d time.Duration) string {
	if d == 0 {
		return "end"
	}
	return d.String()
}

func (r *runner) write() error {
	if _, err := reports.Write(r.dir, r.res, r.formats()); err != nil {
		return fmt.Errorf("write reports to %s: %w", r.dir, err)
	}
	return nil
}

func (r *runner) formats() []string {
	if len(r.opts.Formats) > 0 {
		return append([]string{"json"}, r.opts.Formats...)
	}
	return []string{"json", "md", "junit", "html"}
}

func tp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }
