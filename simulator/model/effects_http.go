package model

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/firedrill/firedrill/scenarios"
)

// httpEffects models http_abort and http_delay (issue 18). The router of
// the target service applies them before it picks a backend: on `edge: A
// -> B` to B's requests from A (the place of A -> B's Toxiproxy proxy),
// on `service: B` to every request B receives, which is one such edge per
// caller of B, plus the traffic itself when B is the entry. Each becomes
// one Effect, so that a request crossing two of them fails when either
// fails. The notes say what the model leaves out.
func httpEffects(sc *scenarios.Scenario, t *Topology, sub map[string]bool, f *scenarios.Fault) (out []Effect, notes []string) {
	if f.MatchHeader != "" {
		// The traffic's headers are not in the file, and a caller forwards
		// only X-Request-Id and X-Firedrill-Caller: whether a request
		// carries the header cannot be known here.
		return nil, []string{fmt.Sprintf("fault %s: %s with match_header %q is not modelled: whether the traffic's requests carry that header cannot be known from the scenario (no effect in simulation)", f.Name, f.Kind, f.MatchHeader)}
	}
	if f.Kind == scenarios.FaultHTTPAbort && abortStatus(f) < 500 {
		return nil, []string{fmt.Sprintf("fault %s: http_abort with status %d: the httpsvc caller takes an answer below 500 as success and clients count only 5xx as failed: no effect in simulation", f.Name, abortStatus(f))}
	}
	match := pathShare(sc, f.MatchPath)
	if match == 0 {
		return nil, []string{fmt.Sprintf("fault %s: match_path %q matches none of the traffic's paths %v: no effect", f.Name, f.MatchPath, trafficPaths(sc))}
	}
	hit := f.Percent / 100
	if hit <= 0 || hit > 1 {
		hit = 1
	}
	entryTree := subtree(sc, sc.Traffic.Entry)
	var callers []string // "" is the traffic
	if f.Edge != "" {
		from, _ := f.EdgeEnds()
		callers = []string{from}
	} else {
		callers = callersOf(sc, f.Service, entryTree)
	}
	for _, caller := range callers {
		e := Effect{Name: f.Name, Kind: f.Kind, At: f.At.D(), Step: f.Step, Dur: f.Duration.D()}
		note := ""
		switch {
		case caller == "" && sc.Traffic.Entry == t.Service:
			e.Scope = ScopeService
			note = fmt.Sprintf("fault %s: the entry router's own answers carry no version live (the canary judge sees them in neither version); the model counts them against both versions' requests", f.Name)
		case caller == "":
			e.Scope = ScopeEntry
		case sub[caller]:
			e.Scope = ScopeService
		case entryTree[caller]:
			e.Scope = ScopeEntry
		default:
			continue
		}
		retries, timeout := 0, t.Timeout // the traffic neither retries nor has a dependency timeout
		if caller != "" {
			b, _ := behaviour(sc.Service(caller), nil)
			retries, timeout = b.Retries, depTimeout(sc.Service(caller))
		}
		httpEffect(&e, f, hit, match, retries, timeout, t.Timeout)
		out = append(out, e)
		if note != "" {
			notes = append(notes, note)
		}
	}
	if len(out) == 0 {
		notes = append(notes, fmt.Sprintf("fault %s: %s gets no request of the traffic: no effect", f.Name, target(f)))
	}
	return out, notes
}

// httpEffect sets what one caller's requests suffer. Each attempt of a
// matching request is hit with probability hit, independently (the router
// draws per request); a retry has the same path, so only the matching
// share `match` can fail: error probability match * hit^(1+retries) for
// an abort or a delay past the caller's timeout. A shorter delay slows
// the share match*hit of the requests by the whole delay (a mixture).
func httpEffect(e *Effect, f *scenarios.Fault, hit, match float64, retries int, callerTimeout, trafficTimeout time.Duration) {
	fails := math.Pow(hit, float64(1+retries)) * match
	if f.Kind == scenarios.FaultHTTPAbort {
		e.ErrProb = fails
		return
	}
	d := f.Delay.D()
	if (callerTimeout > 0 && d >= callerTimeout) || (trafficTimeout > 0 && d >= trafficTimeout) {
		e.ErrProb = fails
		return
	}
	e.LatAdd, e.LatShare = d, hit*match
}

func abortStatus(f *scenarios.Fault) int {
	if f.Status == 0 {
		return 503
	}
	return f.Status
}

func target(f *scenarios.Fault) string {
	if f.Edge != "" {
		return "edge " + f.Edge
	}
	return "service " + f.Service
}

func trafficPaths(sc *scenarios.Scenario) []string {
	if len(sc.Traffic.Paths) == 0 {
		return []string{"/"}
	}
	return sc.Traffic.Paths
}

// pathShare is the share of the traffic's requests whose path starts with
// prefix: the traffic takes its paths in turn, and the fixture forwards
// each request's path to its dependencies unchanged.
func pathShare(sc *scenarios.Scenario, prefix string) float64 {
	if prefix == "" {
		return 1
	}
	ps := trafficPaths(sc)
	n := 0
	for _, p := range ps {
		if path, _, _ := strings.Cut(p, "?"); strings.HasPrefix(path, prefix) {
			n++
		}
	}
	return float64(n) / float64(len(ps))
}

// callersOf lists the services of the entry's tree that call svc, and ""
// (the traffic) when svc is the entry.
func callersOf(sc *scenarios.Scenario, svc string, entryTree map[string]bool) []string {
	var out []string
	if sc.Traffic.Entry == svc {
		out = append(out, "")
	}
	for _, s := range sc.Services {
		if s != nil && entryTree[s.Name] && slices.Contains(s.DependsOn, svc) {
			out = append(out, s.Name)
		}
	}
	return out
}
