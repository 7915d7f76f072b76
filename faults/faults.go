// Package faults turns a scenario's faults into injectors, each returning its
// own revert, and runs them on schedule with a guaranteed revert: a toxic, a
// disabled proxy, a paused or killed instance is never left behind.
//
// A run builds one Registry (NewRegistry) bound to its topology; each fault
// kind's factory lives in a file of its own (toxic.go, down.go, kill.go,
// pause.go, container.go), and a run adds the kinds only it can build
// (databases: stateful/faults.go) with Registry.Add.
package faults

import (
	"context"
	"fmt"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
)

// Injector injects one fault and returns how to revert it.
type Injector interface {
	Inject(ctx context.Context) (revert func(context.Context) error, err error)
}

// InjectorFunc adapts a function to Injector.
type InjectorFunc func(ctx context.Context) (func(context.Context) error, error)

func (f InjectorFunc) Inject(ctx context.Context) (func(context.Context) error, error) { return f(ctx) }

// Env is what the built-in injectors act on.
type Env struct {
	// Toxiproxy drives the edge proxies (embedded server or container alike).
	Toxiproxy *toxiclient.Client
	ProxyName func(e scenarios.Edge) string
	// Instances lists a service's instances of a version ("" for all).
	Instances func(service, version string) []topology.Instance
	// DefaultVersion of a service (its version before any rollout).
	DefaultVersion func(service string) string
	// Routers apply HTTP faults (nil: the runtime cannot; http.go).
	Routers HTTPFaults
}

// Factory builds the injector of one fault.
type Factory func(f *scenarios.Fault) (Injector, error)

// Registry builds injectors by fault kind. One is built per run, before its
// faults start; it is not safe to Add while New is called.
type Registry struct{ kinds map[string]Factory }

// NewRegistry returns the built-in kinds acting on env.
func NewRegistry(env Env) *Registry {
	r := &Registry{kinds: map[string]Factory{}}
	for _, kind := range scenarios.ToxicKinds {
		r.Add(kind, func(f *scenarios.Fault) (Injector, error) { return toxic(f, env) })
	}
	r.Add(scenarios.FaultDown, func(f *scenarios.Fault) (Injector, error) { return down(f, env) })
	r.Add(scenarios.FaultKill, func(f *scenarios.Fault) (Injector, error) { return kill(f, env), nil })
	r.Add(scenarios.FaultPause, func(f *scenarios.Fault) (Injector, error) { return pause(f, env), nil })
	r.Add(KindPartition, func(f *scenarios.Fault) (Injector, error) { return partition(f, env), nil })
	r.Add(KindStop, func(f *scenarios.Fault) (Injector, error) { return stop(f, env), nil })
	r.Add(KindStart, func(f *scenarios.Fault) (Injector, error) { return start(f, env), nil })
	r.Add(KindRestart, func(f *scenarios.Fault) (Injector, error) { return restart(f, env), nil })
	for _, kind := range scenarios.HTTPFaultKinds {
		r.Add(kind, func(f *scenarios.Fault) (Injector, error) { return httpFault(f, env) })
	}
	r.Add(scenarios.FaultCPUThrottle, func(f *scenarios.Fault) (Injector, error) { return resourceLimit(f, env), nil })
	r.Add(scenarios.FaultMemoryLimit, func(f *scenarios.Fault) (Injector, error) { return resourceLimit(f, env), nil })
	r.Add(scenarios.FaultNetem, func(f *scenarios.Fault) (Injector, error) { return netem(f, env), nil })
	return r
}

// Add makes the registry build faults of kind with fn (replacing any
// earlier factory of that kind).
func (r *Registry) Add(kind string, fn Factory) { r.kinds[kind] = fn }

// New returns the injector for f.
func (r *Registry) New(f *scenarios.Fault) (Injector, error) {
	if fn := r.kinds[f.Kind]; fn != nil {
		return fn(f)
	}
	return nil, fmt.Errorf("fault %q: kind %q is not supported by this runtime", f.Name, f.Kind)
}

// New returns the injector for f among the built-in kinds acting on env.
func New(f *scenarios.Fault, env Env) (Injector, error) { return NewRegistry(env).New(f) }

// noRevert is the revert of a fault that leaves nothing to undo.
func noRevert(context.Context) error { return nil }

// target is the instance a fault acts on: f.Instance of its version (the
// service's own version when the fault names none).
func target(f *scenarios.Fault, env Env) (topology.Instance, error) {
	version := f.Version
	if version == "" && env.DefaultVersion != nil {
		version = env.DefaultVersion(f.Service)
	}
	insts := env.Instances(f.Service, version)
	if f.Instance < 0 || f.Instance >= len(insts) {
		return nil, fmt.Errorf("fault %q: %s has %d instance(s) of version %q now; instance %d does not exist",
			f.Name, f.Service, len(insts), version, f.Instance)
	}
	return insts[f.Instance], nil
}

// HoldFor is how long a fault stays in before its revert: the duration, or
// restart_after for a kill that sets it.
func HoldFor(f *scenarios.Fault) time.Duration {
	if f.Kind == scenarios.FaultKill && f.RestartAfter > 0 {
		return f.RestartAfter.D()
	}
	return f.Duration.D()
}
