package scenarios

import (
	"slices"
	"strings"
)

// httpFault checks an HTTP fault (http_abort, http_delay) and reports
// whether f is one; for any other kind it only refuses the HTTP keys.
func (c *checker) httpFault(f *Fault, p string) bool {
	if !slices.Contains(HTTPFaultKinds, f.Kind) {
		return false
	}
	c.httpFaultTarget(f, p)
	switch {
	case f.Kind == FaultHTTPDelay && f.Delay <= 0:
		c.at(p+".delay", "an http_delay fault needs delay greater than 0; write e.g. delay: 200ms")
	case f.Kind == FaultHTTPAbort && f.Status != 0 && (f.Status < 200 || f.Status > 599):
		c.at(p+".status", "%d is not a final HTTP status; write one from 200 to 599, e.g. status: 503 (the default)", f.Status)
	}
	if f.Percent < 0 || f.Percent > 100 {
		c.at(p+".percent", "%v is not a percentage of requests; write a value above 0 and at most 100, e.g. percent: 10", f.Percent)
	}
	if f.MatchPath != "" && !strings.HasPrefix(f.MatchPath, "/") {
		c.at(p+".match_path", "%q is not a path; write the prefix from its leading slash, e.g. match_path: /pay", f.MatchPath)
	}
	if f.MatchHeader != "" {
		name, _, _ := strings.Cut(f.MatchHeader, ":")
		name = strings.TrimSpace(name)
		if name == "" || strings.ContainsAny(name, " \t\"(),/;<=>?@[\\]{}") {
			c.at(p+".match_header", "%q does not start with a header name; write \"Name\" or \"Name: value\", e.g. match_header: \"X-Tenant: blue\"", f.MatchHeader)
		}
	}
	return true
}

// httpFaultTarget checks that an HTTP fault names one target: an edge (the
// dependency's router, for requests from the caller) or a service.
func (c *checker) httpFaultTarget(f *Fault, p string) {
	switch {
	case f.Edge != "" && f.Service != "":
		c.at(p+".service", "%s acts on an edge or on a service, not both; remove service to hit only requests from the edge's caller, or edge to hit every request", f.Kind)
	case f.Edge != "":
		c.faultEdge(f, p, c.s.Edges())
		if _, to := f.EdgeEnds(); c.s.Database(to) != nil {
			c.at(p+".edge", "%s is a database edge: a router applies %s to HTTP requests; use delay_replication or a latency toxic", f.Edge, f.Kind)
		}
	case f.Service != "":
		c.serviceRef(p+".service", f.Service, "service: payments, the service whose router applies the fault")
	default:
		c.at(p+".edge", "is missing; %s needs edge: A -> B (requests from A to B) or service: B (every request to B)", f.Kind)
	}
}
