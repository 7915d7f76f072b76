package faults

import (
	"context"
	"fmt"

	"github.com/firedrill/firedrill/scenarios"
)

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
			return noRevert, nil
		}
		return func(ctx context.Context) error {
			if err := inst.Start(ctx); err != nil {
				return fmt.Errorf("restart %s: %w", inst.Name(), err)
			}
			return nil
		}, nil
	})
}
