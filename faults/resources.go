package faults

import (
	"context"
	"fmt"

	"github.com/firedrill/firedrill/scenarios"
)

// Resource faults (cpu_throttle, memory_limit): an instance's container
// limits changed live by the engine; the revert puts them back.

// ResourceLimitable is an instance whose CPU (cpus > 0) and memory
// (bytes > 0) limits can be changed while it runs.
type ResourceLimitable interface {
	LimitResources(ctx context.Context, cpus float64, memory int64) (revert func(context.Context) error, err error)
}

func resourceLimit(f *scenarios.Fault, env Env) Injector {
	return InjectorFunc(func(ctx context.Context) (func(context.Context) error, error) {
		in, err := target(f, env)
		if err != nil {
			return nil, err
		}
		rl, ok := in.(ResourceLimitable)
		if !ok {
			return nil, unsupported(f, in)
		}
		var cpus float64
		var memory int64
		switch f.Kind {
		case scenarios.FaultCPUThrottle:
			cpus = f.CPUs
		case scenarios.FaultMemoryLimit:
			memory = f.MemoryMB << 20
		}
		revert, err := rl.LimitResources(ctx, cpus, memory)
		if err != nil {
			return nil, fmt.Errorf("limit %s: %w", in.Name(), err)
		}
		return revert, nil
	})
}

func describeResource(f *scenarios.Fault) string {
	if f.Kind == scenarios.FaultCPUThrottle {
		return fmt.Sprintf("%s: %s limited to %g CPUs for %s", f.Name, f.Target(), f.CPUs, f.Duration)
	}
	return fmt.Sprintf("%s: %s limited to %d MB of memory for %s", f.Name, f.Target(), f.MemoryMB, f.Duration)
}
