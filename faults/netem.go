package faults

import (
	"context"
	"fmt"
	"time"

	"github.com/firedrill/firedrill/scenarios"
)

// NetemCapable is an instance whose packets can be delayed, dropped or
// corrupted (the docker runtime, through a NET_ADMIN-only helper).
type NetemCapable interface {
	SetNetem(ctx context.Context, delay, jitter time.Duration, lossPercent, corruptPercent float64) (revert func(context.Context) error, err error)
}

func netem(f *scenarios.Fault, env Env) Injector {
	return InjectorFunc(func(ctx context.Context) (func(context.Context) error, error) {
		in, err := target(f, env)
		if err != nil {
			return nil, err
		}
		nc, ok := in.(NetemCapable)
		if !ok {
			return nil, unsupported(f, in)
		}
		revert, err := nc.SetNetem(ctx, f.Latency.D(), f.Jitter.D(), f.LossPercent, f.CorruptPercent)
		if err != nil {
			return nil, fmt.Errorf("netem on %s: %w", in.Name(), err)
		}
		return revert, nil
	})
}
