package faults

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology/router"
)

// recRouters records the HTTP faults added and removed (the routers' own
// tests and the e2e tests drive real ones).
type recRouters struct{ calls []string }

func (r *recRouters) AddHTTPFault(_ context.Context, service string, f router.HTTPFault) error {
	r.calls = append(r.calls, "add "+service+" "+f.ID)
	return nil
}

func (r *recRouters) RemoveHTTPFault(_ context.Context, service, id string) error {
	r.calls = append(r.calls, "remove "+service+" "+id)
	return nil
}

func TestHTTPFaultSpec(t *testing.T) {
	svc, spec := HTTPFaultSpec(&scenarios.Fault{Name: "ab", Kind: scenarios.FaultHTTPAbort, Edge: "checkout -> payments",
		Percent: 25, MatchPath: "/pay", MatchHeader: " X-Tenant :  blue "})
	assert.Equal(t, "payments", svc, "an edge's fault sits in its dependency's router")
	assert.Equal(t, router.HTTPFault{ID: "ab", Caller: "checkout", Abort: 503, Percent: 25, PathPrefix: "/pay",
		Header: "X-Tenant", HeaderValue: "blue"}, spec)

	svc, spec = HTTPFaultSpec(&scenarios.Fault{Name: "sl", Kind: scenarios.FaultHTTPDelay, Service: "payments",
		Delay: scenarios.Duration(200 * time.Millisecond), MatchHeader: "X-Canary"})
	assert.Equal(t, "payments", svc)
	assert.Equal(t, router.HTTPFault{ID: "sl", Delay: 200 * time.Millisecond, Header: "X-Canary"}, spec)
}

func TestHTTPFaultInjectsAndReverts(t *testing.T) {
	rr := &recRouters{}
	f := &scenarios.Fault{Name: "ab", Kind: scenarios.FaultHTTPAbort, Edge: "a -> b", Status: 500, Percent: 10}
	inj, err := NewRegistry(Env{Routers: rr}).New(f)
	require.NoError(t, err)
	revert, err := inj.Inject(context.Background())
	require.NoError(t, err)
	require.NoError(t, revert(context.Background()))
	assert.Equal(t, []string{"add b ab", "remove b ab"}, rr.calls)
	assert.Equal(t, "ab: abort with 500, 10% of requests on a -> b", Describe(f))

	_, err = New(f, Env{})
	require.ErrorContains(t, err, "cannot apply HTTP faults")
}
