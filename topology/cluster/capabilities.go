package cluster

import (
	"context"
	"fmt"

	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/router"
)

// The optional capabilities of topology (topology/capabilities.go), which
// every runtime has through its data plane.

// RetireInstances takes the n oldest instances of a version out of the
// router, drains and stops them.
func (c *Cluster) RetireInstances(ctx context.Context, name, version string, n int) error {
	s := c.service(name)
	if s == nil {
		return fmt.Errorf("retire instances: no service %q in the topology", name)
	}
	if n <= 0 {
		return nil
	}
	ins := c.instances(s, version)
	if n > len(ins) {
		return fmt.Errorf("retire %d instance(s) of %s version %s: it has %d", n, name, version, len(ins))
	}
	if err := c.discard(ctx, s, ins[:n], ReasonRetired); err != nil {
		return fmt.Errorf("retire %d instance(s) of %s version %s: %w", n, name, version, err)
	}
	return nil
}

// SetCohorts routes the service's requests by the hash of a header or cookie.
func (c *Cluster) SetCohorts(ctx context.Context, name string, co topology.Cohorts) error {
	if c.service(name) == nil {
		return fmt.Errorf("set cohorts: no service %q in the topology", name)
	}
	return c.dp.SetCohorts(ctx, name, router.Cohorts{Header: co.Header, Cookie: co.Cookie, Order: co.Order})
}

// SetMirror copies percent of the service's live requests to version.
func (c *Cluster) SetMirror(ctx context.Context, name, version string, percent int) error {
	if c.service(name) == nil {
		return fmt.Errorf("mirror: no service %q in the topology", name)
	}
	return c.dp.SetMirror(ctx, name, version, percent)
}

// StartSynthetic has the service's router send requests of its own to
// version, on the scenario's traffic paths when paths is empty.
func (c *Cluster) StartSynthetic(ctx context.Context, name, version string, rate float64, paths []string) (func(), error) {
	if c.service(name) == nil {
		return nil, fmt.Errorf("synthetic traffic: no service %q in the topology", name)
	}
	if len(paths) == 0 {
		paths = c.sc.Traffic.Paths
	}
	return c.dp.StartSynthetic(ctx, name, version, rate, paths)
}

// SetFlag flips a feature flag on every instance of a version (PostFlags).
func (c *Cluster) SetFlag(ctx context.Context, name, version, flag string, on bool) error {
	s := c.service(name)
	if s == nil {
		return fmt.Errorf("set flag: no service %q in the topology", name)
	}
	var targets []FlagTarget
	for _, in := range c.instances(s, version) {
		targets = append(targets, FlagTarget{Name: in.Name(), Addr: in.HostAddr()})
	}
	return PostFlags(ctx, name, version, flag, on, targets)
}
