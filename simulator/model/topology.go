// Package model is the virtual-time world of `firedrill simulate`: a
// statistical model of a scenario's topology (each version's error rate and
// latency, the traffic and its split, instance counts, start-up, faults as
// effects) that implements the simulator's Clock, Fleet, Router and
// Observer, so that the very controller, strategies, judges and triggers of
// a live run drive it; and Monte-Carlo trials over it.
//
// The model keeps per-second counts per version (sufficient statistics:
// requests are split by a binomial draw on the weights, errors are a
// binomial draw on the version's error rate), and draws a window's p99 as
// the order statistic it is (a Beta draw pushed through the latency
// distribution), so a look costs O(1) whatever the traffic rate.
package model

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firedrill/firedrill/scenarios"
)

// Behaviour is how one version of a service answers: the httpsvc fixture's
// settings (ERROR_RATE, LATENCY_MEDIAN, LATENCY_P99, FLAGS, FLAG_ERROR_RATE).
type Behaviour struct {
	ErrorRate float64
	Median    time.Duration
	P99       time.Duration // <= Median: constant latency
	// BadFlag is flag "bad" on: FlagErrorRate applies until it is turned off.
	BadFlag       bool
	FlagErrorRate float64
	Retries       int // extra attempts per dependency call
}

// errorRate is the version's own error rate with its "bad" flag on or off.
func (b Behaviour) errorRate(flagOff bool) float64 {
	if b.BadFlag && !flagOff {
		return b.FlagErrorRate
	}
	return b.ErrorRate
}

// sigma is the log-normal's shape: ln(p99/median)/z99 (as the fixture).
func (b Behaviour) sigma() float64 {
	if b.P99 <= b.Median || b.Median <= 0 {
		return 0
	}
	return math.Log(float64(b.P99)/float64(b.Median)) / z99
}

const z99 = 2.3263478740408408

// Effect is a fault as the model sees it: from At (after traffic start, or
// after step Step started) for Dur (< 0: for ever), requests fail or slow.
type Effect struct {
	Name string
	Kind string
	At   time.Duration
	Step int
	Dur  time.Duration
	// Scope says whose requests it touches: the rolled-out service's
	// (every version, or only Version), or only the entry's (a part of the
	// topology the rolled-out service does not call).
	Scope   Scope
	Version string
	// ErrProb is the share of touched requests that fail.
	ErrProb float64
	// LatAdd is latency added to touched requests; to the share LatShare
	// of them only, when it is in (0, 1) (a mixture: http_delay's percent).
	LatAdd   time.Duration
	LatShare float64
	// Instance faults: one instance of a version of Target stops answering;
	// until health checks notice (Detect) its share of requests fails, then
	// only when no instance is left. Target == the rolled-out service makes
	// the share per version (and raises instance_unhealthy).
	Instance bool
	Target   string
	Detect   time.Duration
	// Replicas of Target (for a service other than the rolled-out one).
	Replicas int
}

// Scope of an effect.
type Scope int

const (
	ScopeService Scope = iota // the rolled-out service's requests (its subtree)
	ScopeEntry                // the entry's requests only
)

// Topology is what the model takes from a scenario.
type Topology struct {
	Scenario *scenarios.Scenario
	Service  string // the rolled-out service
	From, To string
	// Rate reaches Service per second (traffic.rate times the call paths
	// from the entry); EntryRate is traffic.rate.
	Rate, EntryRate float64
	Duration        time.Duration
	Timeout         time.Duration
	Old, New        Behaviour
	FromReplicas    int
	// ReadyAfter is an instance's start-up until its router sees it ready
	// (one health interval: the first check that passes).
	ReadyAfter time.Duration
	// DepsLatency is the median time Service's dependencies add; DepsErr the
	// failure probability of its dependency subtree; RestErr the failure
	// probability of the entry's requests outside Service (0 when Service is
	// the entry).
	DepsLatency time.Duration
	DepsErr     float64
	RestErr     float64
	Paths       int // call paths from the entry to Service
	Effects     []Effect
	// HealthEvents: some effect raises instance_unhealthy on Service (the
	// controller then needs an event log).
	HealthEvents bool
	// Warnings name what the model leaves out.
	Warnings []string
}

// Build derives the model of sc. sc must have a rollout (validated: Load).
func Build(sc *scenarios.Scenario) (*Topology, error) {
	ro := sc.Rollout
	if ro == nil {
		return nil, fmt.Errorf("scenario %s has no rollout: simulate runs a rollout plan; add a rollout section", sc.Name)
	}
	svc := sc.Service(ro.Service)
	if svc == nil {
		return nil, fmt.Errorf("rollout service %q is not in services: fix rollout.service", ro.Service)
	}
	t := &Topology{Scenario: sc, Service: ro.Service, From: svc.Version, To: ro.To,
		EntryRate: sc.Traffic.Rate, Duration: sc.Traffic.Duration.D(), Timeout: sc.Traffic.Timeout.D(),
		FromReplicas: svc.Replicas, ReadyAfter: svc.Health.Interval.D()}
	t.Paths = callPaths(sc, sc.Traffic.Entry, ro.Service)
	if t.Paths == 0 {
		t.Warnings = append(t.Warnings, fmt.Sprintf("%s is not reachable from the entry %s: it gets no traffic", ro.Service, sc.Traffic.Entry))
	}
	t.Rate = sc.Traffic.Rate * float64(t.Paths)
	var warn []string
	t.Old, warn = behaviour(svc, nil)
	t.Warnings = append(t.Warnings, warn...)
	t.New, warn = behaviour(svc, ro)
	t.Warnings = append(t.Warnings, warn...)
	sub := subtree(sc, ro.Service)
	for name := range sub {
		if name == ro.Service {
			continue
		}
		b, _ := behaviour(sc.Service(name), nil)
		t.DepsErr = 1 - (1-t.DepsErr)*(1-b.ErrorRate)
		t.DepsLatency += b.Median
	}
	if sc.Traffic.Entry != ro.Service {
		for _, s := range sc.Services {
			if s == nil || sub[s.Name] || !subtree(sc, sc.Traffic.Entry)[s.Name] {
				continue
			}
			b, _ := behaviour(s, nil)
			t.RestErr = 1 - (1-t.RestErr)*(1-b.ErrorRate)
		}
	}
	t.Warnings = append(t.Warnings, unmodelled(sc)...)
	for _, f := range sc.Faults {
		if f == nil {
			continue
		}
		if slices.Contains(scenarios.HTTPFaultKinds, f.Kind) {
			es, notes := httpEffects(sc, t, sub, f)
			t.Effects = append(t.Effects, es...)
			t.Warnings = append(t.Warnings, notes...)
			continue
		}
		e, ok, why := effect(sc, t, sub, f)
		if !ok {
			t.Warnings = append(t.Warnings, why)
			continue
		}
		t.HealthEvents = t.HealthEvents || (e.Instance && e.Target == t.Service && sc.Rollout.HealthTrigger())
		t.Effects = append(t.Effects, e)
	}
	return t, nil
}

// behaviour reads a service's fixture settings, with the rollout's env and
// args over them when ro is set.
func behaviour(svc *scenarios.Service, ro *scenarios.Rollout) (Behaviour, []string) {
	env := map[string]string{}
	var args []string
	if svc != nil {
		for k, v := range svc.Env {
			env[k] = v
		}
		args = append(args, svc.Args...)
	}
	if ro != nil {
		for k, v := range ro.Env {
			env[k] = v
		}
		args = append(args, ro.Args...)
	}
	get := func(flag, name string) string {
		v := ""
		for _, a := range args { // the flag wins, as in the fixture; the last one counts
			if s, ok := strings.CutPrefix(a, "--"+flag+"="); ok {
				v = s
			}
		}
		if v == "" {
			v = env[name]
		}
		return v
	}
	var warn []string
	b := Behaviour{FlagErrorRate: 1}
	if svc != nil && svc.Fixture != "httpsvc" {
		warn = append(warn, fmt.Sprintf("service %s is not the httpsvc fixture: modelled as error-free with no latency", svc.Name))
		return b, warn
	}
	num := func(flag, name string, p *float64) {
		if s := get(flag, name); s != "" {
			if x, err := strconv.ParseFloat(s, 64); err == nil {
				*p = x
			}
		}
	}
	dur := func(flag, name string, p *time.Duration) {
		if s := get(flag, name); s != "" {
			if d, err := time.ParseDuration(s); err == nil {
				*p = d
			}
		}
	}
	num("error-rate", "ERROR_RATE", &b.ErrorRate)
	num("flag-error-rate", "FLAG_ERROR_RATE", &b.FlagErrorRate)
	dur("latency-median", "LATENCY_MEDIAN", &b.Median)
	dur("latency-p99", "LATENCY_P99", &b.P99)
	if s := get("retries", "RETRIES"); s != "" {
		b.Retries, _ = strconv.Atoi(s)
	}
	for _, kv := range strings.Split(get("flags", "FLAGS"), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if k == "bad" && (v == "on" || v == "true" || v == "1") {
			b.BadFlag = true
		}
	}
	return b, warn
}

// subtree is the set of services reachable from root (root included).
func subtree(sc *scenarios.Scenario, root string) map[string]bool {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(s string) {
		if seen[s] {
			return
		}
		seen[s] = true
		if svc := sc.Service(s); svc != nil {
			for _, d := range svc.DependsOn {
				walk(d)
			}
		}
	}
	walk(root)
	return seen
}

// callPaths counts the call paths from service from to service to: the
// fixture calls each dependency once per request.
func callPaths(sc *scenarios.Scenario, from, to string) int {
	if from == to {
		return 1
	}
	svc := sc.Service(from)
	if svc == nil {
		return 0
	}
	n := 0
	for _, d := range svc.DependsOn {
		n += callPaths(sc, d, to)
	}
	return n
}

// unmodelled names what a live run of sc would do that the model leaves
// out, so that nobody reads a simulated figure as covering it.
func unmodelled(sc *scenarios.Scenario) []string {
	var out []string
	ro := sc.Rollout
	for i, st := range ro.Steps {
		if st != nil && st.LagGate != nil {
			out = append(out, fmt.Sprintf("step %d's lag_gate is not modelled (databases are not simulated): the step never waits", i+1))
		}
	}
	envs := []map[string]string{ro.Env}
	for _, svc := range sc.Services {
		if svc != nil {
			envs = append(envs, svc.Env)
		}
	}
	for _, env := range envs {
		for k := range env {
			switch k {
			case "REJECT_CALLERS":
				out = append(out, "REJECT_CALLERS (version skew) is not modelled: calls across versions succeed")
			case "BREAKER":
				out = append(out, "circuit breakers are not modelled: a failing dependency fails every call")
			case "DB":
				out = append(out, "database calls are not modelled")
			}
		}
	}
	if len(sc.Databases) > 0 {
		out = append(out, "databases are not simulated")
	}
	slices.Sort(out)
	return slices.Compact(out)
}
