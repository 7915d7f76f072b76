package verdict

import (
	"fmt"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// breaker: the caller's circuit breaker on e.Service -> e.Dependency opens
// within its limits while the fault holds and recloses after it (or, with
// trips: false, never opens under the noise).
func breaker(ev *Evidence, e *scenarios.Expectation, x *reports.Expectation, out *Findings) {
	edge := e.Service + " -> " + e.Dependency
	v, err := newEdgeView(ev, e)
	if err != nil {
		x.Observed, x.Detail = "no data", err.Error()
		return
	}
	ff := e.FastFail.D()
	if e.Trips != nil && !*e.Trips {
		breakerStaysClosed(e, x, v, out)
		return
	}
	rep := analysis.VerifyBreaker(analysis.BreakerInput{Calls: v.calls, Arrivals: v.arrivals,
		FaultFrom: v.window.From, FaultTo: v.window.To, FastFail: ff})
	findings := rep.Check(analysis.BreakerExpect{MaxCallsBeforeTrip: e.MaxCallsBeforeTrip, MaxFastFailP99: e.MaxFastFailLatency.D(),
		MaxArrivalsWhileOpen: e.MaxCallsWhileOpen, MustReclose: e.ReclosesWithin > 0, MaxRecloseDelay: e.ReclosesWithin.D()})
	x.Passed, x.Threshold = allOK(findings), thresholds(findings)
	br := reports.Breaker{Service: e.Service, Target: e.Dependency, Opens: rep.Opens, FinalState: "closed", Passed: &x.Passed}
	if !rep.Tripped {
		x.Observed = "never opened"
		failed := 0
		var slow []time.Duration
		for _, c := range v.calls {
			if c.At >= v.window.From && c.At < v.window.To && !c.OK {
				failed++
				slow = append(slow, c.Latency)
			}
		}
		q := analysis.DurationQuantiles(slow, 0.5)
		x.Detail = fmt.Sprintf("during %s, %d of %s's answers failed, none within fast_fail %s (median failure %s): every call waited for the failing %s, so no breaker refused anything. Enable and tune the breaker on %s (httpsvc: BREAKER=true, BREAKER_FAILURES, BREAKER_OPEN)",
			v.windowText(), failed, e.Service, ff, q[0].Round(time.Millisecond), e.Dependency, edge)
		br.Detail = x.Detail
		out.Breakers = append(out.Breakers, br)
		return
	}
	x.Observed = fmt.Sprintf("opened after %d calls, fast-fail p99 %s, %d calls while open, ",
		rep.CallsBeforeTrip, rep.FastFailP99.Round(100*time.Microsecond), rep.ArrivalsWhileOpen)
	if rep.Reclosed {
		x.Observed += fmt.Sprintf("reclosed %s after recovery", rep.RecloseDelay.Round(time.Millisecond))
	} else {
		x.Observed += "never reclosed"
		br.FinalState = "open"
	}
	x.Detail = failedFirst(findings) + fmt.Sprintf("window %s: %d calls by %s's callers, %d attempts reached %s; %s",
		v.windowText(), countWithin(v.offered, v.window), e.Service, countWithin(v.arrivals, v.window), e.Dependency, rep.Detail)
	if !rep.Reclosed && e.ReclosesWithin > 0 {
		x.Detail += fmt.Sprintf(". A breaker that stays open after %s recovered keeps failing callers for nothing: check its open timeout (httpsvc: BREAKER_OPEN) and half-open probes", e.Dependency)
	}
	t := ev.T0.Add(rep.TripAt).UTC()
	br.FirstOpenedAt = &t
	if rep.Reclosed {
		c := ev.T0.Add(rep.RecloseAt).UTC()
		br.LastClosedAt = &c
	}
	br.Detail = rep.Detail
	out.Breakers = append(out.Breakers, br)
}

// breakerStaysClosed: under noise the scenario calls harmless, a well
// tuned breaker refuses nothing.
func breakerStaysClosed(e *scenarios.Expectation, x *reports.Expectation, v edgeView, out *Findings) {
	n := analysis.FastFailsIn(v.calls, v.window, e.FastFail.D())
	calls, failed := 0, 0
	for _, c := range v.calls {
		if c.At >= v.window.From && c.At < v.window.To {
			calls++
			if !c.OK {
				failed++
			}
		}
	}
	x.Threshold, x.Observed, x.Passed = "0 fast-fails (never opens)", fmt.Sprintf("%d fast-fails", n), n == 0
	setNum(x, float64(n), "<=", 0, "")
	x.Detail = fmt.Sprintf("window %s: %d calls, %d failed, %d of them within fast_fail %s", v.windowText(), calls, failed, n, e.FastFail)
	if n > 0 {
		x.Detail += fmt.Sprintf("; the breaker on %s -> %s opened under noise it should tolerate: raise its failure threshold", e.Service, e.Dependency)
	}
	out.Breakers = append(out.Breakers, reports.Breaker{Service: e.Service, Target: e.Dependency, Passed: &x.Passed, Detail: x.Detail})
}
