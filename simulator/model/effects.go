package model

import (
	"fmt"
	"math"
	"time"

	"github.com/firedrill/firedrill/scenarios"
)

// effect turns a fault into what it does to requests; ok false (with why)
// for a fault the model leaves out.
func effect(sc *scenarios.Scenario, t *Topology, sub map[string]bool, f *scenarios.Fault) (e Effect, ok bool, why string) {
	e = Effect{Name: f.Name, Kind: f.Kind, At: f.At.D(), Step: f.Step, Dur: f.Duration.D()}
	entryTree := subtree(sc, sc.Traffic.Entry)
	scope := func(caller string) (Scope, bool) {
		switch {
		case sub[caller]:
			return ScopeService, true
		case entryTree[caller]:
			return ScopeEntry, true
		}
		return 0, false
	}
	switch f.Kind {
	case scenarios.FaultDown, scenarios.FaultTimeout, scenarios.FaultResetPeer, scenarios.FaultLatency:
		from, _ := f.EdgeEnds()
		s, reached := scope(from)
		if !reached {
			return e, false, fmt.Sprintf("fault %s: edge %s is off every path of the traffic: no effect", f.Name, f.Edge)
		}
		e.Scope = s
		tox := f.Toxicity
		if tox <= 0 || tox > 1 {
			tox = 1
		}
		caller, _ := behaviour(sc.Service(from), nil)
		if f.Kind == scenarios.FaultLatency {
			lat := f.Latency.D()
			if lat >= depTimeout(sc.Service(from)) || (t.Timeout > 0 && lat >= t.Timeout) {
				e.ErrProb = math.Pow(tox, float64(1+caller.Retries)) // the call times out
			} else {
				e.LatAdd = time.Duration(tox * float64(lat))
			}
			return e, true, ""
		}
		// Every attempt through the edge fails with probability toxicity;
		// the caller's retries try again.
		e.ErrProb = math.Pow(tox, float64(1+caller.Retries))
		return e, true, ""
	case scenarios.FaultKill, scenarios.FaultPause, scenarios.FaultStop, scenarios.FaultRestart, scenarios.FaultPartition:
		return instanceEffect(sc, t, f, e, scope)
	}
	return e, false, fmt.Sprintf("fault %s: kind %s is not modelled (no effect in simulation)", f.Name, f.Kind)
}

// instanceEffect: one instance stops answering for a while.
func instanceEffect(sc *scenarios.Scenario, t *Topology, f *scenarios.Fault, e Effect, scope func(string) (Scope, bool)) (Effect, bool, string) {
	svc := sc.Service(f.Service)
	s, reached := scope(f.Service)
	if svc == nil || !reached {
		return e, false, fmt.Sprintf("fault %s: service %s is off every path of the traffic: no effect", f.Name, f.Service)
	}
	e.Scope, e.Instance, e.Target, e.Replicas = s, true, f.Service, svc.Replicas
	e.Version = f.Version
	if e.Version == "" {
		e.Version = svc.Version
	}
	e.Detect = time.Duration(svc.Health.UnhealthyAfter) * svc.Health.Interval.D()
	switch f.Kind {
	case scenarios.FaultKill:
		switch d := f.RestartAfter; {
		case d == scenarios.Never:
			e.Dur = -1
		default:
			e.Dur = d.D() + t.ReadyAfter // down, then starting until ready
		}
	case scenarios.FaultRestart:
		e.Dur = t.ReadyAfter
	}
	return e, true, ""
}

// depTimeout is a caller's per-attempt dependency timeout (DEP_TIMEOUT,
// default 1s as in the fixture).
func depTimeout(svc *scenarios.Service) time.Duration {
	d := time.Second
	if svc == nil {
		return d
	}
	if s, ok := svc.Env["DEP_TIMEOUT"]; ok {
		if x, err := time.ParseDuration(s); err == nil {
			d = x
		}
	}
	return d
}
