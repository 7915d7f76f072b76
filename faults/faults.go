// Package faults turns a scenario's faults into injectors, each returning its
// own revert, and runs them on schedule with a guaranteed revert: a toxic, a
// disabled proxy, a paused or killed instance is never left behind.
package faults

import (
	"context"
	"errors"
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

// Env is what injectors act on.
type Env struct {
	// Toxiproxy drives the edge proxies (embedded server or container alike).
	Toxiproxy *toxiclient.Client
	ProxyName func(e scenarios.Edge) string
	// Instances lists a service's instances of a version ("" for all).
	Instances func(service, version string) []topology.Instance
	// DefaultVersion of a service (its version before any rollout).
	DefaultVersion func(service string) string
}

// New returns the injector for f.
func New(f *scenarios.Fault, env Env) (Injector, error) {
	if fn := registered(f.Kind); fn != nil {
		return fn(f, env)
	}
	switch f.Kind {
	case scenarios.FaultLatency, scenarios.FaultBandwidth, scenarios.FaultSlowClose, scenarios.FaultTimeout,
		scenarios.FaultResetPeer, scenarios.FaultSlicer, scenarios.FaultLimitData:
		return toxic(f, env)
	case scenarios.FaultDown:
		return down(f, env)
	case scenarios.FaultKill:
		return kill(f, env), nil
	case scenarios.FaultPause:
		return pause(f, env), nil
	}
	return nil, fmt.Errorf("fault %q: kind %q is not supported by this runtime", f.Name, f.Kind)
}

// ToxicAttributes maps a fault's fields to Toxiproxy's attributes (which use
// milliseconds, except slicer's delay in microseconds).
func ToxicAttributes(f *scenarios.Fault) toxiclient.Attributes {
	ms := func(d scenarios.Duration) int64 { return d.D().Milliseconds() }
	switch f.Kind {
	case scenarios.FaultLatency:
		return toxiclient.Attributes{"latency": ms(f.Latency), "jitter": ms(f.Jitter)}
	case scenarios.FaultBandwidth:
		return toxiclient.Attributes{"rate": f.RateKBps}
	case scenarios.FaultSlowClose:
		return toxiclient.Attributes{"delay": ms(f.Delay)}
	case scenarios.FaultTimeout, scenarios.FaultResetPeer:
		return toxiclient.Attributes{"timeout": ms(f.Timeout)}
	case scenarios.FaultSlicer:
		return toxiclient.Attributes{"average_size": f.AverageSize, "size_variation": f.SizeVariation,
			"delay": f.Delay.D().Microseconds()}
	case scenarios.FaultLimitData:
		return toxiclient.Attributes{"bytes": f.Bytes}
	}
	return nil
}

func streams(direction string) []string {
	switch direction {
	case "upstream":
		return []string{"upstream"}
	case "both":
		return []string{"upstream", "downstream"}
	}
	return []string{"downstream"}
}

func edgeProxy(f *scenarios.Fault, env Env) (string, error) {
	from, to := f.EdgeEnds()
	if from == "" || to == "" {
		return "", fmt.Errorf("fault %q: edge %q is not of the form \"A -> B\"", f.Name, f.Edge)
	}
	return env.ProxyName(scenarios.Edge{From: from, To: to}), nil
}

func toxic(f *scenarios.Fault, env Env) (Injector, error) {
	proxy, err := edgeProxy(f, env)
	if err != nil {
		return nil, err
	}
	toxicity := float32(f.Toxicity)
	if f.Toxicity == 0 {
		toxicity = 1
	}
	attrs := ToxicAttributes(f)
	return InjectorFunc(func(ctx context.Context) (func(context.Context) error, error) {
		var added []string
		revert := func(context.Context) error {
			var errs []error
			for _, name := range added {
				if err := env.Toxiproxy.RemoveToxic(&toxiclient.ToxicOptions{ProxyName: proxy, ToxicName: name}); err != nil {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		}
		for _, stream := range streams(f.Direction) {
			name := f.Name + "_" + stream
			_, err := env.Toxiproxy.AddToxic(&toxiclient.ToxicOptions{ProxyName: proxy, ToxicName: name,
				ToxicType: f.Kind, Stream: stream, Toxicity: toxicity, Attributes: attrs})
			if err != nil {
				// Undo the half that went in before reporting.
				return nil, errors.Join(fmt.Errorf("add %s toxic on %s: %w", f.Kind, f.Edge, err), revert(ctx))
			}
			added = append(added, name)
		}
		return revert, nil
	}), nil
}

func down(f *scenarios.Fault, env Env) (Injector, error) {
	name, err := edgeProxy(f, env)
	if err != nil {
		return nil, err
	}
	return InjectorFunc(func(ctx context.Context) (func(context.Context) error, error) {
		p, err := env.Toxiproxy.Proxy(name)
		if err != nil {
			return nil, fmt.Errorf("find proxy of %s: %w", f.Edge, err)
		}
		if err := p.Disable(); err != nil {
			return nil, fmt.Errorf("disable %s: %w", f.Edge, err)
		}
		return func(context.Context) error {
			if err := p.Enable(); err != nil {
				return fmt.Errorf("re-enable %s: %w", f.Edge, err)
			}
			return nil
		}, nil
	}), nil
}

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

// kill SIGKILLs an instance; the revert restarts it, unless restart_after is
// "never". The fault's duration is how long it stays down.
func kill(f *scenarios.Fault, env Env) Injector {
	return InjectorFunc(func(ctx context.Context) (func(context.Context) error, error) {
		inst, err := target(f, env)
		if err != nil {
			return nil, err
		}
		if err := inst.Kill(ctx); err != nil {
			return nil, fmt.Errorf("kill %s: %w", inst.Name(), err)
		}
		if f.RestartAfter < 0 {
			return func(context.Context) error { return nil }, nil
		}
		return func(ctx context.Context) error {
			if err := inst.Start(ctx); err != nil {
				return fmt.Errorf("restart %s: %w", inst.Name(), err)
			}
			return nil
		}, nil
	})
}

func pause(f *scenarios.Fault, env Env) Injector {
	return InjectorFunc(func(ctx context.Context) (func(context.Context) error, error) {
		inst, err := target(f, env)
		if err != nil {
			return nil, err
		}
		if err := inst.Pause(ctx); err != nil {
			return nil, fmt.Errorf("pause %s: %w", inst.Name(), err)
		}
		return func(ctx context.Context) error {
			if err := inst.Resume(ctx); err != nil {
				return fmt.Errorf("resume %s: %w", inst.Name(), err)
			}
			return nil
		}, nil
	})
}

// HoldFor is how long a fault stays in before its revert: the duration, or
// restart_after for a kill that sets it.
func HoldFor(f *scenarios.Fault) time.Duration {
	if f.Kind == scenarios.FaultKill && f.RestartAfter > 0 {
		return f.RestartAfter.D()
	}
	return f.Duration.D()
}
