package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
)

// The topology.Topology methods of topo, and Down.

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

func (t *topo) ToxiproxyURL() string { return t.toxi.URL() }

func (t *topo) ProxyName(e scenarios.Edge) string { return proxyName(e) }

func (t *topo) SetWeights(ctx context.Context, name string, w map[string]int) error {
	s := t.service(name)
	if s == nil {
		return fmt.Errorf("set weights: no service %q in the topology", name)
	}
	return s.router.SetWeights(w)
}

func (t *topo) Weights(name string) map[string]int {
	if s := t.service(name); s != nil {
		return s.router.Weights()
	}
	return nil
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
	if err := t.discard(ctx, s, ins, reasonRetired); err != nil {
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

// down stops routers, then instances, then Toxiproxy. Concurrent callers
// wait for the first one's result.
func (t *topo) down(ctx context.Context) error {
	t.downOnce.Do(func() {
		ctx, cancel := context.WithTimeout(ctx, downTimeout)
		defer cancel()
		t.mu.Lock()
		t.closed = true
		svcs := slices.Clone(t.order)
		var all []*instance
		for _, s := range svcs {
			all = append(all, s.insts...)
		}
		srv, toxiLog, logDir, tmpLogDir := t.toxi, t.toxiLog, t.logDir, t.tmpLogDir
		t.mu.Unlock()
		t.cancel() // ends an Up still running

		// Routers first, so no new traffic reaches instances being stopped.
		errs := make([]error, len(svcs))
		var rwg sync.WaitGroup
		for i, s := range svcs {
			rwg.Go(func() { errs[i] = bounded(ctx, "router "+s.spec.Name, s.router.Close) })
		}
		rwg.Wait()
		stopErrs := make([]error, len(all))
		var wg sync.WaitGroup
		for i, in := range all {
			wg.Go(func() { stopErrs[i] = in.stop(ctx, reasonDown, true) })
		}
		wg.Wait()
		errs = append(errs, stopErrs...)
		if srv != nil {
			if err := bounded(ctx, "toxiproxy", srv.Close); err != nil {
				errs = append(errs, err)
			}
		}
		if toxiLog != nil {
			_ = toxiLog.Close()
		}
		if tmpLogDir {
			_ = os.RemoveAll(logDir)
		}
		if err := errors.Join(errs...); err != nil {
			t.downErr = fmt.Errorf("local runtime: down: %w; look for leftover processes of run %s", err, t.opts.RunID)
		}
	})
	return t.downErr
}

// bounded runs a close function, giving up waiting when ctx ends, so that a
// stuck component cannot hang Down (and with it a signal handler).
func bounded(ctx context.Context, what string, close func() error) error {
	done := make(chan error, 1)
	go func() { done <- close() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("close %s: did not finish: %w", what, ctx.Err())
	}
}
