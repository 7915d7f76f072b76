package local

import (
	"context"
	"fmt"

	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/router"
)

// The optional capabilities of topology (capabilities.go) the local runtime has.
var (
	_ topology.InstanceScaling  = (*topo)(nil)
	_ topology.CohortRouting    = (*topo)(nil)
	_ topology.Mirroring        = (*topo)(nil)
	_ topology.SyntheticTraffic = (*topo)(nil)
	_ topology.FeatureFlags     = (*topo)(nil)
)

// RetireInstances takes the n oldest instances of a version out of the
// router, drains and stops them.
func (t *topo) RetireInstances(ctx context.Context, name, version string, n int) error {
	s := t.service(name)
	if s == nil {
		return fmt.Errorf("retire instances: no service %q in the topology", name)
	}
	if n <= 0 {
		return nil
	}
	ins, err := topology.Oldest(t.instances(s, version), n, name, version)
	if err != nil {
		return err
	}
	if err := t.discard(ctx, s, ins, reasonRetired); err != nil {
		return fmt.Errorf("retire %d instance(s) of %s version %s: %w", n, name, version, err)
	}
	return nil
}

// SetCohorts routes the service's requests by the hash of a header or cookie.
func (t *topo) SetCohorts(_ context.Context, name string, c topology.Cohorts) error {
	s := t.service(name)
	if s == nil {
		return fmt.Errorf("set cohorts: no service %q in the topology", name)
	}
	return s.router.SetCohorts(router.Cohorts{Header: c.Header, Cookie: c.Cookie, Order: c.Order})
}

// SetMirror copies percent of the service's live requests to version.
func (t *topo) SetMirror(_ context.Context, name, version string, percent int) error {
	s := t.service(name)
	if s == nil {
		return fmt.Errorf("mirror: no service %q in the topology", name)
	}
	return s.router.SetMirror(version, percent)
}

// StartSynthetic sends the service's router's own requests to version,
// on the scenario's traffic paths when paths is empty.
func (t *topo) StartSynthetic(_ context.Context, name, version string, rate float64, paths []string) (func(), error) {
	s := t.service(name)
	if s == nil {
		return nil, fmt.Errorf("synthetic traffic: no service %q in the topology", name)
	}
	if len(paths) == 0 {
		paths = t.sc.Traffic.Paths
	}
	return s.router.StartSynthetic(version, rate, paths)
}

// SetFlag flips a feature flag on every instance of a version
// (topology.PostFlags).
func (t *topo) SetFlag(ctx context.Context, name, version, flag string, on bool) error {
	s := t.service(name)
	if s == nil {
		return fmt.Errorf("set flag: no service %q in the topology", name)
	}
	var targets []topology.FlagTarget
	for _, in := range t.instances(s, version) {
		targets = append(targets, topology.FlagTarget{Name: in.name, Addr: in.addr})
	}
	return topology.PostFlags(ctx, name, version, flag, on, targets)
}
