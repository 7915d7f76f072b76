package faults

import (
	"context"
	"errors"
	"fmt"

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
			return noRevert, nil
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
		return noRevert, nil
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
		return noRevert, nil
	})
}
