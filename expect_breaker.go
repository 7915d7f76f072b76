package firedrill

import (
	"fmt"
	"strings"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// Breakers and retries are judged from the outside: the caller's router
// records what its callers got from it, and the dependency's router sits
// behind the edge's Toxiproxy proxy, so it records exactly the attempts
// that reached the dependency (and none that an open breaker refused).

// edgeView is what a breaker or retries expectation reads.
type edgeView struct {
	calls    []analysis.Call
	offered  []time.Duration
	arrivals []time.Duration
	window   analysis.Window
	during   string // "" when the window is from/to or the whole run
}

func (r *runner) edgeView(e *scenarios.Expectation) (edgeView, error) {
	var v edgeView
	if e.During != "" {
		w, err := r.faultWindow(e.During)
		if err != nil {
			return v, err
		}
		v.window, v.during = w, e.During
	} else {
		v.window = analysis.Window{From: e.From.D(), To: e.To.D()}
		if v.window.To == 0 {
			v.window.To = r.stats.End.Sub(r.t0) + time.Minute // past any sample
		}
	}
	for _, s := range r.rec.Select(record.Filter{Source: record.Hop, Service: e.Service}) {
		v.calls = append(v.calls, analysis.Call{At: time.Duration(s.At), Latency: s.Latency(), OK: s.OK()})
		v.offered = append(v.offered, time.Duration(s.At))
	}
	for _, s := range r.rec.Select(record.Filter{Source: record.Hop, Service: e.Dependency}) {
		v.arrivals = append(v.arrivals, time.Duration(s.At))
	}
	if len(v.calls) == 0 {
		return v, fmt.Errorf("%s's router saw no requests: nothing to judge", e.Service)
	}
	return v, nil
}

// faultWindow is when the named fault held, from traffic start.
func (r *runner) faultWindow(name string) (analysis.Window, error) {
	for _, f := range r.faults {
		if f.Fault.Name != name {
			continue
		}
		if f.InjectedAt.IsZero() {
			return analysis.Window{}, fmt.Errorf("fault %s was not injected (%s): there is no window to judge", name, orText(f.Skipped, errText(f.Err)))
		}
		w := analysis.Window{From: f.InjectedAt.Sub(r.t0), To: r.stats.End.Sub(r.t0)}
		if !f.RevertedAt.IsZero() {
			w.To = f.RevertedAt.Sub(r.t0)
		}
		return w, nil
	}
	return analysis.Window{}, fmt.Errorf("fault %s did not run (the run ended before it)", name)
}

func (v edgeView) windowText() string {
	w := fmt.Sprintf("[+%s, +%s)", v.window.From.Round(time.Millisecond), v.window.To.Round(time.Millisecond))
	if v.during != "" {
		return v.during + " " + w
	}
	return w
}

func (r *runner) checkBreaker(e *scenarios.Expectation, x *reports.Expectation) {
	edge := e.Service + " -> " + e.Dependency
	v, err := r.edgeView(e)
	if err != nil {
		x.Observed, x.Detail = "no data", err.Error()
		return
	}
	ff := e.FastFail.D()
	if e.Trips != nil && !*e.Trips {
		r.checkBreakerStaysClosed(e, x, v)
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
		r.res.Breakers = append(r.res.Breakers, br)
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
	t := r.t0.Add(rep.TripAt).UTC()
	br.FirstOpenedAt = &t
	if rep.Reclosed {
		c := r.t0.Add(rep.RecloseAt).UTC()
		br.LastClosedAt = &c
	}
	br.Detail = rep.Detail
	r.res.Breakers = append(r.res.Breakers, br)
}

// checkBreakerStaysClosed: under noise the scenario calls harmless, a well
// tuned breaker refuses nothing.
func (r *runner) checkBreakerStaysClosed(e *scenarios.Expectation, x *reports.Expectation, v edgeView) {
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
	setNum(x, float64(n), 0, "<=", "")
	x.Detail = fmt.Sprintf("window %s: %d calls, %d failed, %d of them within fast_fail %s", v.windowText(), calls, failed, n, e.FastFail)
	if n > 0 {
		x.Detail += fmt.Sprintf("; the breaker on %s -> %s opened under noise it should tolerate: raise its failure threshold", e.Service, e.Dependency)
	}
	r.res.Breakers = append(r.res.Breakers, reports.Breaker{Service: e.Service, Target: e.Dependency, Passed: &x.Passed, Detail: x.Detail})
}

func (r *runner) checkRetries(e *scenarios.Expectation, x *reports.Expectation) {
	v, err := r.edgeView(e)
	if err != nil {
		x.Observed, x.Detail = "no data", err.Error()
		return
	}
	attempts := make([]analysis.Attempt, len(v.arrivals))
	for i, a := range v.arrivals {
		attempts[i] = analysis.Attempt{At: a}
	}
	rep := analysis.VerifyRetries(analysis.RetryInput{Offered: v.offered, Attempts: attempts, OutageFrom: v.window.From, OutageTo: v.window.To})
	var findings []analysis.Finding
	if e.MaxAttemptsPerRequest > 0 {
		// Router samples carry no request id, so attempts are counted, not
		// joined: the mean per caller request is a lower bound of the
		// maximum (up to edge effects of requests straddling the window).
		findings = append(findings, analysis.Finding{Check: "attempts per request (mean)", OK: rep.Amplification <= float64(e.MaxAttemptsPerRequest),
			Observed: fmt.Sprintf("%.2f", rep.Amplification), Threshold: fmt.Sprintf("<= %d", e.MaxAttemptsPerRequest)})
	}
	findings = append(findings, rep.Check(analysis.RetryExpect{MaxAmplification: e.MaxAmplification, MaxPeakToMean: e.MaxPeakToMean, MaxHerdRatio: e.MaxHerdRatio})...)
	x.Passed, x.Threshold = allOK(findings), thresholds(findings)
	var obs []string
	for _, f := range findings {
		obs = append(obs, f.Check+" "+f.Observed)
	}
	x.Observed = strings.Join(obs, ", ")
	x.Detail = failedFirst(findings) + fmt.Sprintf("window %s: %d requests to %s, %d attempts reached %s (%.1f/s against %.1f/s offered; attempts are counted, not joined by request id, so the mean per request bounds the maximum from below); arrivals' peak-to-mean %.2f in 100ms bins; after recovery the busiest 100ms bin ran at %.2fx the offered rate",
		v.windowText(), countWithin(v.offered, v.window), e.Service, countWithin(v.arrivals, v.window), e.Dependency,
		rep.DependencyRate, rep.OfferedRate, rep.PeakToMean, rep.HerdRatio)
	if !x.Passed && e.MaxAmplification > 0 && rep.Amplification > e.MaxAmplification {
		x.Detail += fmt.Sprintf(". Every failing request was retried against %s while it was down: a breaker (or a retry budget) would stop the retry storm", e.Dependency)
	}
}

func countWithin(ts []time.Duration, w analysis.Window) int {
	n := 0
	for _, t := range ts {
		if t >= w.From && t < w.To {
			n++
		}
	}
	return n
}

func allOK(fs []analysis.Finding) bool {
	for _, f := range fs {
		if !f.OK {
			return false
		}
	}
	return len(fs) > 0
}

func thresholds(fs []analysis.Finding) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, f.Check+" "+f.Threshold)
	}
	return strings.Join(parts, ", ")
}

// failedFirst names the failed checks, observed against threshold.
func failedFirst(fs []analysis.Finding) string {
	var parts []string
	for _, f := range fs {
		if !f.OK {
			parts = append(parts, fmt.Sprintf("FAILED %s: %s, want %s", f.Check, f.Observed, f.Threshold))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "; ") + ". "
}
