package faults

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
)

// Container fault kinds (the docker runtime's instances support them).
const (
	// KindPartition cuts instances off the run network for the duration,
	// then reconnects them under the same names.
	KindPartition = "partition"
	// KindStop stops an instance gracefully (SIGTERM, then SIGKILL); the
	// revert starts it again unless restart_after is "never".
	KindStop = "stop"
	// KindStart starts a stopped or killed instance; nothing to revert.
	KindStart = "start"
	// KindRestart restarts an instance gracefully; nothing to revert.
	KindRestart = "restart"
)

// Partitionable is an instance that can be cut off from its network and
// reconnected with the same aliases.
type Partitionable interface {
	Partition(ctx context.Context) error
	Reconnect(ctx context.Context) error
}

// Stoppable is an instance that can be stopped gracefully and stay down
// until Start.
type Stoppable interface {
	Stop(ctx context.Context) error
}

// Factory builds the injector of one fault kind.
type Factory func(f *scenarios.Fault, env Env) (Injector, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Factory{}
)

// Register makes New build faults of kind with fn (a later registration of
// the same kind replaces the earlier one). It lets a runtime add the faults
// only it supports without New knowing about it.
func Register(kind string, fn Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registry[kind] = fn
}

func registered(kind string) Factory {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return registry[kind]
}

func init() {
	Register(KindPartition, func(f *scenarios.Fault, env Env) (Injector, error) { return partition(f, env), nil })
	Register(KindStop, func(f *scenarios.Fault, env Env) (Injector, error) { return stop(f, env), nil })
	Register(KindStart, func(f *scenarios.Fault, env Env) (Injector, error) { return start(f, env), nil })
	Register(KindRestart, func(f *scenarios.Fault, env Env) (Injector, error) { return restart(f, env), nil })
}

// targets are the instances a container fault acts on: the one at
// f.Instance, or every instance of the version when f.Instance is -1 (a
// group partition).
func targets(f *scenarios.Fault, env Env) ([]topology.Instance, error) {
	if f.Instance != -1 {
		in, err := target(f, env)
		if err != nil {
			return nil, err
		}
		return []topology.Instance{in}, nil
	}
	version := f.Version
	if version == "" && env.DefaultVersion != nil {
		version = env.DefaultVersion(f.Service)
	}
	insts := env.Instances(f.Service, version)
	if len(insts) == 0 {
		return nil, fmt.Errorf("fault %q: %s has no instances of version %q now", f.Name, f.Service, version)
	}
	return insts, nil
}

func unsupported(f *scenarios.Fault, in topology.Instance) error {
	return fmt.Errorf("fault %q: instance %s cannot take a %s fault on this runtime; use runtime: docker", f.Name, in.Name(), f.Kind)
}

// partition disconnects the target instances from the run network; the
// revert reconnects them. A failure half-way reconnects those already cut.
func partition(f *scenarios.Fault, env Env) Injector {
	return InjectorFunc(func(ctx context.Context) (func(context.Context) error, error) {
		insts, err := targets(f, env)
		if err != nil {
			return nil, err
		}
		ps := make([]Partitionable, 0, len(insts))
		for _, in := range insts {
			p, ok := in.(Partitionable)
			if !ok {
				return nil, unsupported(f, in)
			}
			ps = append(ps, p)
		}
		var cut []Partitionable
		revert := func(ctx context.Context) error {
			var errs []error
			for i, p := range cut {
				if err := p.Reconnect(ctx); err != nil {
					errs = append(errs, fmt.Errorf("reconnect %s: %w", insts[i].Name(), err))
				}
			}
			return errors.Join(errs...)
		}
		for i, p := range ps {
			if err := p.Partition(ctx); err != nil {
				return nil, errors.Join(fmt.Errorf("partition %s: %w", insts[i].Name(), err), revert(ctx))
			}
			cut = append(cut, p)
		}
		return revert, nil
	})
}

// stop stops an instance gracefully; the revert starts it again unless
// restart_after is "never".
func stop(f *scenarios.Fault, env Env) Injector {
	return InjectorFunc(func(ctx context.Context) (func(context.Context) error, error) {
		in, err := target(f, env)
		if err != nil {
			return nil, err
		}
		s, ok := in.(Stoppable)
		if !ok {
			return nil, unsupported(f, in)
		}
		if err := s.Stop(ctx); err != nil {
			return nil, fmt.Errorf("stop %s: %w", in.Name(), err)
		}
		if f.RestartAfter < 0 {
			return func(context.Context) error { return nil }, nil
		}
		return func(ctx context.Context) error {
			if err := in.Start(ctx); err != nil {
				return fmt.Errorf("start %s again: %w", in.Name(), err)
			}
			return nil
		}, nil
	})
}

func start(f *scenarios.Fault, env Env) Injector {
	return InjectorFunc(func(ctx context.Context) (func(context.Context) error, error) {
		in, err := target(f, env)
		if err != nil {
			return nil, err
		}
		if err := in.Start(ctx); err != nil {
			return nil, fmt.Errorf("start %s: %w", in.Name(), err)
		}
		return func(context.Context) error { return nil }, nil
	})
}

func restart(f *scenarios.Fault, env Env) Injector {
	return InjectorFunc(func(ctx context.Context) (func(context.Context) error, error) {
		in, err := target(f, env)
		if err != nil {
			return nil, err
		}
		if err := in.Restart(ctx); err != nil {
			return nil, fmt.Errorf("restart %s: %w", in.Name(), err)
		}
		return func(context.Context) error { return nil }, nil
	})
}
