package docker

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/router"
)

// The topology.Topology methods of topo.

func (t *topo) service(name string) *service {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.services[name]
}

func (t *topo) EntryURL() string { return t.RouterURL(t.sc.EntryService()) }

func (t *topo) RouterURL(name string) string {
	if s := t.service(name); s != nil {
		return s.url
	}
	return ""
}

func (t *topo) ToxiproxyURL() string { return t.toxiURL }

func (t *topo) ProxyName(e scenarios.Edge) string { return proxyName(e) }

func (t *topo) SetWeights(ctx context.Context, name string, w map[string]int) error {
	s := t.service(name)
	if s == nil {
		return fmt.Errorf("set weights: no service %q in the topology", name)
	}
	if err := t.dp.setWeights(ctx, name, w); err != nil {
		return err
	}
	t.mu.Lock()
	s.weights = maps.Clone(w)
	t.mu.Unlock()
	return nil
}

func (t *topo) Weights(name string) map[string]int {
	s := t.service(name)
	if s == nil {
		return nil
	}
	t.mu.Lock()
	w := maps.Clone(s.weights)
	t.mu.Unlock()
	if w != nil {
		return w
	}
	ctx, cancel := context.WithTimeout(t.ctx, 5*time.Second)
	defer cancel()
	w, _ = t.dp.weights(ctx, name)
	return w
}

func (t *topo) Deploy(ctx context.Context, name string, d topology.Deployment) error {
	s := t.service(name)
	if s == nil {
		return fmt.Errorf("deploy: no service %q in the topology", name)
	}
	if d.Version == "" {
		return fmt.Errorf("deploy %s: no version given; name the version to deploy", name)
	}
	return t.startInstances(ctx, s, d, nil)
}

func (t *topo) Retire(ctx context.Context, name, version string) error {
	s := t.service(name)
	if s == nil {
		return fmt.Errorf("retire: no service %q in the topology", name)
	}
	ins := t.instances(s, version)
	if len(ins) == 0 {
		return fmt.Errorf("retire %s: no instances of version %q", name, version)
	}
	if err := t.discard(s, ins, reasonRetired); err != nil {
		return fmt.Errorf("retire %s version %s: %w", name, version, err)
	}
	return nil
}

func (t *topo) instances(s *service, version string) []*instance {
	t.mu.Lock()
	defer t.mu.Unlock()
	return topology.OfVersion(s.insts, version)
}

func (t *topo) Instances(name, version string) []topology.Instance {
	s := t.service(name)
	if s == nil {
		return nil
	}
	return topology.AsInstances(t.instances(s, version))
}

// Backends is the router's view of a service's instances (for tests and
// debugging).
func (t *topo) Backends(ctx context.Context, service string) ([]router.BackendStatus, error) {
	return t.dp.backends(ctx, service)
}

// NetworkName is the run's private network.
func (t *topo) NetworkName() string { return t.netName }
