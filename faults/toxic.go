package faults

import (
	"context"
	"errors"
	"fmt"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/firedrill/firedrill/scenarios"
)

// Toxiproxy toxics on a dependency edge: latency, bandwidth, slow_close,
// timeout, reset_peer, slicer, limit_data (scenarios.ToxicKinds).

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

// edgeProxy is the name of the Toxiproxy proxy on f's edge.
func edgeProxy(f *scenarios.Fault, env Env) (string, error) {
	from, to := f.EdgeEnds()
	if from == "" || to == "" {
		return "", fmt.Errorf("fault %q: edge %q is not of the form \"A -> B\"", f.Name, f.Edge)
	}
	return env.ProxyName(scenarios.Edge{From: from, To: to}), nil
}

// toxic adds one toxic per stream of the fault's direction; the revert
// removes them.
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
