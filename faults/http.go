package faults

import (
	"context"
	"fmt"
	"net/textproto"
	"strings"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology/router"
)

// HTTP faults (http_abort, http_delay), applied by the router of the
// target service: no extra hop. On an edge A -> B the fault sits in B's
// router and matches requests whose caller is A.

// HTTPFaults is a topology whose routers apply HTTP faults (both runtimes
// have it through their data plane).
type HTTPFaults interface {
	AddHTTPFault(ctx context.Context, service string, f router.HTTPFault) error
	RemoveHTTPFault(ctx context.Context, service, id string) error
}

// DefaultAbortStatus is http_abort's status when the fault names none.
const DefaultAbortStatus = 503

// HTTPFaultSpec maps a scenario fault to the router's fault and the
// service whose router applies it.
func HTTPFaultSpec(f *scenarios.Fault) (service string, spec router.HTTPFault) {
	spec = router.HTTPFault{ID: f.Name, Percent: f.Percent, PathPrefix: f.MatchPath}
	service = f.Service
	if f.Edge != "" {
		spec.Caller, service = f.EdgeEnds()
	}
	if name, value, ok := strings.Cut(f.MatchHeader, ":"); ok {
		spec.Header, spec.HeaderValue = textproto.TrimString(name), textproto.TrimString(value)
	} else {
		spec.Header = textproto.TrimString(f.MatchHeader)
	}
	switch f.Kind {
	case scenarios.FaultHTTPAbort:
		spec.Abort = f.Status
		if spec.Abort == 0 {
			spec.Abort = DefaultAbortStatus
		}
	case scenarios.FaultHTTPDelay:
		spec.Delay = f.Delay.D()
	}
	return service, spec
}

// httpFault adds the fault to its router; the revert removes it.
func httpFault(f *scenarios.Fault, env Env) (Injector, error) {
	if env.Routers == nil {
		return nil, fmt.Errorf("fault %q: this runtime's routers cannot apply HTTP faults", f.Name)
	}
	service, spec := HTTPFaultSpec(f)
	return InjectorFunc(func(ctx context.Context) (func(context.Context) error, error) {
		if err := env.Routers.AddHTTPFault(ctx, service, spec); err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return env.Routers.RemoveHTTPFault(ctx, service, spec.ID) }, nil
	}), nil
}

// describeHTTP says what an HTTP fault does, for the timeline.
func describeHTTP(f *scenarios.Fault) string {
	service, spec := HTTPFaultSpec(f)
	what := fmt.Sprintf("+%s delay", f.Delay)
	if f.Kind == scenarios.FaultHTTPAbort {
		what = fmt.Sprintf("abort with %d", spec.Abort)
	}
	share := "every request"
	if spec.Percent > 0 && spec.Percent < 100 {
		share = fmt.Sprintf("%g%% of requests", spec.Percent)
	}
	on := "to " + service
	if spec.Caller != "" {
		on = "on " + spec.Caller + " -> " + service
	}
	if spec.PathPrefix != "" {
		on += " under " + spec.PathPrefix
	}
	if spec.Header != "" {
		on += " with header " + f.MatchHeader
	}
	return fmt.Sprintf("%s: %s, %s %s", f.Name, what, share, on)
}
