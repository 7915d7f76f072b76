package verdict

import (
	"fmt"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// clientWindow summarises the clients' requests in e's [from, to) window
// (the whole run when neither is set) and names the window.
func clientWindow(ev *Evidence, e *scenarios.Expectation) (analysis.Summary, string) {
	from, to := e.From.D(), e.To.D()
	s := analysis.Summarize(ev.Samples.Select(record.Filter{Source: record.Client, From: from, To: to}))
	window := "whole run"
	if from > 0 || to > 0 {
		window = fmt.Sprintf("[%s, %s)", from, orEnd(to))
	}
	return s, window
}

func orEnd(d time.Duration) string {
	if d == 0 {
		return "end"
	}
	return d.String()
}

// judged are the samples an SLO or RTO expectation reads: the clients', or
// the router's of e.Service, in [from, to).
func judged(ev *Evidence, e *scenarios.Expectation, from, to time.Duration) ([]record.Sample, string) {
	if e.Service != "" {
		return ev.Samples.Select(record.Filter{Source: record.Hop, Service: e.Service, From: from, To: to}), e.Service + "'s router"
	}
	return ev.Samples.Select(record.Filter{Source: record.Client, From: from, To: to}), "clients"
}
