package simulator

import (
	"fmt"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/record"
)

// How the controller classes a request: Controller.IsError says which
// answers are errors (nil: 5xx and no answer, record.Sample.OK); client
// errors (4xx) that are not errors are counted apart, and the judge
// compares their share between the versions (a new version answering
// 404 where the old one answered 200 is a regression).

// stats is the window's figures with the controller's classification.
func (r *run) stats(s []record.Sample) WindowStats {
	if r.IsError == nil {
		ws := stats(s)
		ws.ClientErrors = count4xx(s, func(x record.Sample) bool { return !x.OK() })
		return ws
	}
	ws := stats(s)
	ws.Errors = 0
	for _, x := range s {
		if r.IsError(x) {
			ws.Errors++
		}
	}
	ws.ClientErrors = count4xx(s, r.IsError)
	return ws
}

func count4xx(s []record.Sample, isError func(record.Sample) bool) int {
	n := 0
	for _, x := range s {
		if x.Err == record.ErrNone && x.Status >= 400 && x.Status < 500 && !isError(x) {
			n++
		}
	}
	return n
}

// clientErrorShare compares the new version's share of 4xx answers (those
// not counted as errors) with the baseline's over [from, now): a one-sided
// test that the increase exceeds the analysis's error margin at its alpha.
// It returns the reason to fail, or "".
func (r *run) clientErrorShare(w watchSpec, can WindowStats, from, now time.Time, fields map[string]any) string {
	a := w.a
	minReq := max(a.MinRequests, 1)
	if w.baseline == "" || can.Requests < minReq || can.ClientErrors == 0 {
		return "" // no 4xx on the new version: nothing can have risen
	}
	if fields == nil { // events are not kept (simulation): nowhere to put the evidence
		fields = map[string]any{}
	}
	base := r.windowStats(Query{Service: r.ro.Service, Version: w.baseline, From: from, To: now}, false)
	if base.Requests < minReq {
		return ""
	}
	fields["baseline_4xx"], fields["baseline_requests"] = base.ClientErrors, base.Requests
	t, err := analysis.ErrorRateTest(base.Requests, base.ClientErrors, can.Requests, can.ClientErrors, a.ErrorMargin, alphaOr(a.Alpha))
	if err != nil {
		fields["4xx_test_error"] = err.Error()
		return ""
	}
	fields["4xx_p_value"] = roundSig(t.PValue)
	if t.PValue > alphaOr(a.Alpha) {
		return ""
	}
	return fmt.Sprintf("4xx share %.1f%% vs %.1f%% on %s (%d/%d vs %d/%d; %s p %.3g)",
		100*t.CanaryRate, 100*t.BaselineRate, w.baseline, can.ClientErrors, can.Requests, base.ClientErrors, base.Requests, t.Method, t.PValue)
}

func alphaOr(a float64) float64 {
	if a <= 0 || a >= 0.5 {
		return 0.05
	}
	return a
}
