package simulator

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// EvInstanceEjected is the router's outlier-ejection event (the router
// lives in topology, which the controller does not import).
const EvInstanceEjected = "instance_ejected"

// look runs every trigger once: health of the new version, burn rate of
// the service, then the analysis (guardrails and the sequential judge),
// and records the analysis with its evidence as an event.
func (r *run) look(w watchSpec) *trigger {
	now := r.Clock.Now()
	if t := r.healthTrigger(now); t != nil {
		return t
	}
	if t := r.burnTrigger(now); t != nil {
		return t
	}
	if w.weight == 0 && !w.canary.shadow {
		return nil // nothing live reaches the new version: nothing to judge
	}
	a := w.a
	from := now.Add(-a.Window.D())
	if from.Before(r.evidenceFrom) {
		from = r.evidenceFrom
	}
	q := Query{Service: r.ro.Service, Version: w.canary.version, Shadow: w.canary.shadow, From: from, To: now}
	// The p99 costs a draw in simulation, and the analysis event's
	// evidence maps are built only when events are kept: simulate runs
	// millions of looks.
	ws := r.windowStats(q, a.MaxP99 > 0 || r.Events != nil)
	var fields map[string]any
	if r.Events != nil {
		fields = map[string]any{"step": w.step, "judge": a.Judge, "requests": ws.Requests, "errors": ws.Errors,
			"error_rate": round4(ws.ErrorRate()), "4xx": ws.ClientErrors, "p99_ms": float64(ws.P99.Microseconds()) / 1000,
			"window_s": round4(now.Sub(from).Seconds())}
		if w.canary.shadow {
			fields["preview"] = true
		}
	}
	minReq := max(a.MinRequests, 1)
	var reasons []string
	guarded := ws.Requests >= minReq && (a.MaxErrorRate > 0 || a.MaxP99 > 0)
	if guarded {
		if a.MaxErrorRate > 0 && ws.ErrorRate() > a.MaxErrorRate {
			reasons = append(reasons, fmt.Sprintf("error rate %.1f%% > %.1f%% (%d/%d requests)",
				100*ws.ErrorRate(), 100*a.MaxErrorRate, ws.Errors, ws.Requests))
		}
		if a.MaxP99 > 0 && ws.P99 > a.MaxP99.D() {
			reasons = append(reasons, fmt.Sprintf("p99 %s > %s", ws.P99.Round(time.Millisecond), a.MaxP99.D()))
		}
	}
	if why := r.clientErrorShare(w, ws, from, now, fields); why != "" { // requests.go
		guarded = true
		reasons = append(reasons, why)
	}
	seqReject, seqJudged := false, false
	if a.Judge == scenarios.JudgeSequential && w.baseline != "" {
		seqJudged, seqReject = r.sequential(w, now, fields)
	}
	if !guarded && !seqJudged {
		return nil
	}
	if seqReject {
		reasons = append(reasons, fmt.Sprintf("sequential test: error rate above the baseline's by more than %.2g (always-valid p %.3g <= alpha %.3g)",
			a.ErrorMargin, roundSig(r.seq.AlwaysValidP()), a.Alpha))
	}
	verdict, why := "pass", ""
	if len(reasons) > 0 {
		verdict = "fail"
		why = fmt.Sprintf("%s %s %s: %s", r.out.Strategy, r.ro.Service, r.ro.To, strings.Join(reasons, "; "))
	}
	if fields != nil {
		fields["verdict"] = verdict
	}
	r.event(record.Event{At: now, Kind: record.EvAnalysis, Message: why, Fields: fields})
	if len(reasons) == 0 {
		r.fails = 0
		return nil
	}
	r.fails++
	// Consecutive failures guard against one noisy window of a threshold;
	// the sequential test's p-value is already valid at every look.
	if !seqReject && r.fails < max(a.Failures, 1) {
		return nil
	}
	return &trigger{name: TriggerAnalysis, why: why, fields: map[string]any{"step": w.step, "judge": a.Judge}}
}

// sequential feeds the mSPRT the counts that arrived since its last look
// (cumulative counts since the test began never shrink: samples are only
// ever added) and reports whether it rejects "no increase beyond margin".
func (r *run) sequential(w watchSpec, now time.Time, fields map[string]any) (judged, reject bool) {
	a := w.a
	if r.seq == nil || r.seqArm != w.canary {
		t, err := analysis.NewSequentialTest(analysis.SequentialConfig{Margin: a.ErrorMargin})
		if err != nil {
			if fields != nil {
				fields["sequential_error"] = err.Error()
			}
			return false, false
		}
		r.seq, r.seqArm, r.seqFed = t, w.canary, [4]int{}
		r.seqFrom = r.evidenceFrom
	}
	base := r.windowStats(Query{Service: r.ro.Service, Version: w.baseline, From: r.seqFrom, To: now}, false)
	can := r.windowStats(Query{Service: r.ro.Service, Version: w.canary.version, Shadow: w.canary.shadow, From: r.seqFrom, To: now}, false)
	cum := [4]int{base.Requests, base.Errors, can.Requests, can.Errors}
	var d [4]int
	for i := range d {
		d[i] = max(0, cum[i]-r.seqFed[i])
	}
	d[1], d[3] = min(d[1], d[0]), min(d[3], d[2])
	if d[0]+d[2] == 0 && r.seq.Looks() == 0 {
		return false, false
	}
	r.seq.Update(d[0], d[1], d[2], d[3])
	for i := range cum {
		r.seqFed[i] += d[i]
	}
	if fields == nil {
		return true, r.seq.Reject(a.Alpha)
	}
	bn, be, cn, ce := r.seq.Counts()
	fields["p_value"] = roundSig(r.seq.AlwaysValidP())
	fields["lambda"] = roundSig(r.seq.Lambda())
	fields["alpha"] = a.Alpha
	fields["error_margin"] = a.ErrorMargin
	fields["baseline"] = map[string]any{"version": w.baseline, "requests": bn, "errors": be}
	fields["canary"] = map[string]any{"version": w.canary.version, "requests": cn, "errors": ce}
	return true, r.seq.Reject(a.Alpha)
}

// statistical runs the fixed-horizon judge once, at the end of a stretch,
// over all of it: looking at it every second would inflate its false
// alarms (the sequential judge exists for that).
func (r *run) statistical(w watchSpec, start, end time.Time) *trigger {
	a := w.a
	if a.Judge != scenarios.JudgeStatistical || w.baseline == "" || (w.weight == 0 && !w.canary.shadow) {
		return nil
	}
	if start.Before(r.evidenceFrom) {
		start = r.evidenceFrom
	}
	base := r.Observer.Samples(Query{Service: r.ro.Service, Version: w.baseline, From: start, To: end})
	can := r.Observer.Samples(Query{Service: r.ro.Service, Version: w.canary.version, Shadow: w.canary.shadow, From: start, To: end})
	cfg := analysis.JudgeConfig{Alpha: a.Alpha, MinSamples: max(a.MinRequests, 1), Metrics: []analysis.MetricSpec{
		{Name: "error rate", Kind: analysis.MetricErrorRate, Group: "errors", Critical: true, Allowed: a.ErrorMargin},
		{Name: "latency", Kind: analysis.MetricLatency, Group: "latency", Allowed: a.LatencyMargin},
	}}
	j, err := analysis.Judge(cfg, base, can)
	fields := map[string]any{"step": w.step, "judge": a.Judge, "window_s": round4(end.Sub(start).Seconds())}
	if err != nil {
		fields["error"] = err.Error()
		r.event(record.Event{At: end, Kind: record.EvAnalysis, Message: "statistical judge: " + err.Error(), Fields: fields})
		return nil
	}
	fields["verdict"], fields["score"], fields["reason"] = string(j.Verdict), round4(j.Score), j.Reason
	var ms []map[string]any
	for _, m := range j.Metrics {
		ms = append(ms, map[string]any{"name": m.Name, "class": string(m.Class), "method": m.Method,
			"p_value": finite(m.PValue), "effect": finite(m.Effect), "ci": []any{finite(m.CI[0]), finite(m.CI[1])},
			"baseline_n": m.BaselineN, "canary_n": m.CanaryN, "detail": m.Detail})
	}
	fields["metrics"] = ms
	why := ""
	if j.Verdict == analysis.VerdictFail {
		why = fmt.Sprintf("%s %s %s: statistical judge failed the new version against %s: %s", r.out.Strategy, r.ro.Service, r.ro.To, w.baseline, j.Reason)
	}
	r.event(record.Event{At: end, Kind: record.EvAnalysis, Message: why, Fields: fields})
	if j.Verdict != analysis.VerdictFail {
		return nil
	}
	return &trigger{name: TriggerAnalysis, why: why, fields: map[string]any{"step": w.step, "judge": a.Judge, "score": round4(j.Score)}}
}

// healthTrigger fires when an instance of the new version failed its
// health checks or was ejected since the rollout started.
func (r *run) healthTrigger(now time.Time) *trigger {
	if r.Events == nil || !r.ro.HealthTrigger() {
		return nil
	}
	for _, e := range r.Events.Events() {
		if e.At.Before(r.out.StartedAt) || !e.At.After(r.healthSeen) || e.At.After(now) || e.Service != r.ro.Service {
			continue
		}
		if e.Kind != record.EvInstanceUnhealthy && e.Kind != EvInstanceEjected {
			continue
		}
		if v, _ := e.Fields["version"].(string); v != r.ro.To {
			continue
		}
		r.healthSeen = e.At // each failure triggers once
		return &trigger{name: TriggerHealth, why: fmt.Sprintf("%s instance %s of %s: %s (%s)", r.ro.To, e.Target, r.ro.Service, e.Kind, e.Message),
			fields: map[string]any{"instance": e.Target, "event": e.Kind, "event_at": e.At.UTC()}}
	}
	return nil
}

// burnTrigger evaluates the SRE Workbook's two paging burn-rate rules,
// scaled so that their 1h window is the scenario's, on the service's
// served requests (every version).
func (r *run) burnTrigger(now time.Time) *trigger {
	t := r.ro.Triggers
	if t == nil || t.BurnRate == nil || t.BurnRate.Window <= 0 {
		return nil
	}
	b := t.BurnRate
	rules := analysis.SREWorkbookRules(float64(b.Window.D()) / float64(time.Hour))[:2]
	longest := rules[1].Long
	from := now.Add(-longest)
	if r.mitigated && from.Before(r.evidenceFrom) {
		from = r.evidenceFrom // judge the mitigated service afresh
	}
	samples := r.Observer.Samples(Query{Service: r.ro.Service, From: from, To: now})
	res, err := analysis.BurnAlert(samples, now.Sub(r.Observer.Start()), analysis.SLO{Objective: b.Objective}, rules)
	if err != nil || !res.Firing {
		return nil
	}
	e := res.First
	return &trigger{name: TriggerBurnRate,
		why: fmt.Sprintf("%s burns its %.4g%% error budget %.1fx too fast over %s and %.1fx over %s (alert at %.1fx)",
			r.ro.Service, 100*b.Objective, e.LongRate, e.Rule.Long, e.ShortRate, e.Rule.Short, e.Rule.Factor),
		fields: map[string]any{"objective": b.Objective, "long_window_s": e.Rule.Long.Seconds(), "short_window_s": e.Rule.Short.Seconds(),
			"long_burn": round4(e.LongRate), "short_burn": round4(e.ShortRate), "factor": e.Rule.Factor,
			"long_requests": e.LongN, "short_requests": e.ShortN}}
}

// finite keeps NaN and infinities out of JSON events.
func finite(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return round4(f)
}

func roundSig(f float64) float64 {
	if f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		if math.IsInf(f, 1) {
			return math.MaxFloat64
		}
		return 0
	}
	p := math.Pow(10, 4-math.Ceil(math.Log10(math.Abs(f))))
	return math.Round(f*p) / p
}
