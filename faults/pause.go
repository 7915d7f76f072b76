package faults

import (
	"context"
	"fmt"

	"github.com/firedrill/firedrill/scenarios"
)

// pause freezes an instance (SIGSTOP, docker pause); the revert thaws it.
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
