package docker

import (
	"context"
	"fmt"
	"time"

	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/router"
)

// The optional capabilities of topology (capabilities.go) the docker
// runtime has, as the local runtime: the routers' ones are calls to the
// data plane; feature flags go to each instance's published port.
var (
	_ topology.InstanceScaling  = (*topo)(nil)
	_ topology.CohortRouting    = (*topo)(nil)
	_ topology.Mirroring        = (*topo)(nil)
	_ topology.SyntheticTraffic = (*topo)(nil)
	_ topology.FeatureFlags     = (*topo)(nil)
)

// RetireInstances takes the n oldest instances of a version out of the
// router, drains and removes them.
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
	if err := t.discard(s, ins, reasonRetired); err != nil {
		return fmt.Errorf("retire %d instance(s) of %s version %s: %w", n, name, version, err)
	}
	return nil
}

// SetCohorts routes the service's requests by the hash of a header or cookie.
func (t *topo) SetCohorts(ctx context.Context, name string, c topology.Cohorts) error {
	if t.service(name) == nil {
		return fmt.Errorf("set cohorts: no service %q in the topology", name)
	}
	return t.dp.setCohorts(ctx, name, router.Cohorts{Header: c.Header, Cookie: c.Cookie, Order: c.Order})
}

// SetMirror copies percent of the service's live requests to version.
func (t *topo) SetMirror(ctx context.Context, name, version string, percent int) error {
	if t.service(name) == nil {
		return fmt.Errorf("mirror: no service %q in the topology", name)
	}
	return t.dp.setMirror(ctx, name, version, percent)
}

// StartSynthetic has the service's router send requests of its own to
// version, on the scenario's traffic paths when paths is empty.
func (t *topo) StartSynthetic(ctx context.Context, name, version string, rate float64, paths []string) (func(), error) {
	if t.service(name) == nil {
		return nil, fmt.Errorf("synthetic traffic: no service %q in the topology", name)
	}
	if len(paths) == 0 {
		paths = t.sc.Traffic.Paths
	}
	id, err := t.dp.startSynthetic(ctx, name, version, rate, paths)
	if err != nil {
		return nil, err
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = t.dp.stopSynthetic(sctx, id) // the data plane going down stops it too
	}, nil
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
		targets = append(targets, topology.FlagTarget{Name: in.name, Addr: in.HostAddr()})
	}
	return topology.PostFlags(ctx, name, version, flag, on, targets)
}
