package faults

import (
	"context"
	"fmt"

	"github.com/firedrill/firedrill/scenarios"
)

// down disables an edge's proxy (callers get connection refused); the
// revert enables it again.
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
