package rehearsal

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/faults"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/traffic"
)

// EvSteadyState: the steady-state check before the first perturbation,
// passed or not, with its figures.
const EvSteadyState = "steady_state"

// steadyCheck judges the clients' samples of the window before the first
// perturbation against the hypothesis. Too few requests to tell is not a
// steady state: the check exists to refuse a drill it cannot vouch for.
func steadyCheck(samples []record.Sample, st *scenarios.SteadyState) reports.SteadyState {
	out := reports.SteadyState{WindowS: st.Window.D().Seconds(), Requests: len(samples), Availability: 1}
	ok := 0
	lat := make([]time.Duration, len(samples))
	for i, s := range samples {
		if s.OK() {
			ok++
		}
		lat[i] = s.Latency()
	}
	if n := len(samples); n > 0 {
		out.Availability = float64(ok) / float64(n)
	}
	p99 := analysis.DurationQuantiles(lat, 0.99)[0]
	out.P99MS = float64(p99.Microseconds()) / 1000
	var held, broke []string
	if n := len(samples); n < st.MinRequests {
		broke = append(broke, fmt.Sprintf("only %d requests over %s, fewer than min_requests %d", n, st.Window, st.MinRequests))
	}
	if m := st.MinAvailability; m > 0 {
		s := fmt.Sprintf("availability %.1f%% over %s", 100*out.Availability, st.Window)
		if out.Availability < m {
			broke = append(broke, fmt.Sprintf("%s < %.4g%%", s, 100*m))
		} else {
			held = append(held, fmt.Sprintf("%s >= %.4g%%", s, 100*m))
		}
	}
	if m := st.MaxP99.D(); m > 0 {
		s := fmt.Sprintf("p99 %s over %s", p99.Round(time.Millisecond), st.Window)
		if p99 > m {
			broke = append(broke, fmt.Sprintf("%s > %s", s, m))
		} else {
			held = append(held, fmt.Sprintf("%s <= %s", s, m))
		}
	}
	out.Passed = len(broke) == 0
	if out.Passed {
		out.Message = fmt.Sprintf("steady state: %s (%d requests)", strings.Join(held, ", "), len(samples))
	} else {
		out.Message = "not in steady state: " + strings.Join(broke, "; ")
	}
	return out
}

// steadyGate waits until the first perturbation, then checks the steady
// state over the window that ends there. When it does not hold, traffic
// stops, nothing else starts and the drill ends ABORTED; it returns false.
// Requests still in flight at that instant are not counted.
func (r *rehearsal) steadyGate(ctx context.Context, gen *traffic.Generator) bool {
	st := r.sc.SteadyState
	if st == nil {
		return true
	}
	first, what, _ := r.sc.FirstPerturbation() // validation made sure there is one
	wait := time.NewTimer(time.Until(r.t0.Add(first)))
	defer wait.Stop()
	select {
	case <-ctx.Done():
		return true // interrupted: act winds down as usual
	case <-wait.C:
	}
	samples := r.rec.Select(record.Filter{Source: record.Client, From: first - st.Window.D(), To: first})
	chk := steadyCheck(samples, st)
	chk.At, chk.Before = time.Now().UTC(), what
	if !chk.Passed {
		chk.Message += fmt.Sprintf(", before %s at +%s: no fault was injected", what, first)
		if r.sc.Rollout != nil {
			chk.Message += ", the rollout did not start"
		}
	}
	r.res.SteadyState = &chk
	r.events.Add(record.Event{Kind: EvSteadyState, Message: chk.Message, Fields: map[string]any{
		"passed": chk.Passed, "requests": chk.Requests, "availability": chk.Availability, "p99_ms": chk.P99MS, "window_s": chk.WindowS}})
	if chk.Passed {
		return true
	}
	r.abortReason = chk.Message // result.go: verdict ABORTED, exit 1
	gen.Stop()
	return false
}

// notSteady ends act for a drill refused by steadyGate: every fault is
// recorded as skipped, the rollout as never started, and traffic drains.
func (r *rehearsal) notSteady(gen *traffic.Generator) error {
	for _, f := range r.sc.Faults {
		o := faults.Outcome{Fault: f, Skipped: "not in steady state before the first perturbation"}
		r.faults = append(r.faults, o)
		r.events.Add(record.Event{Kind: record.EvFaultSkipped, Target: f.Target(), Message: f.Name + ": " + o.Skipped,
			Fields: map[string]any{"fault": f.Name, "kind": f.Kind}})
	}
	r.stats = gen.Wait()
	r.events.Add(record.Event{Kind: record.EvTrafficStopped,
		Message: fmt.Sprintf("%d requests sent, %d errors", r.stats.Sent, r.stats.Errors)})
	return nil
}
