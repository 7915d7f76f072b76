package local

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"sync"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/cluster"
	"github.com/firedrill/firedrill/topology/router"
	"github.com/firedrill/firedrill/topology/toxi"
)

// dataplane is the local runtime's data plane: every router runs in the
// harness on 127.0.0.1, the edge proxies in the embedded Toxiproxy.
type dataplane struct {
	sc     *scenarios.Scenario
	opts   topology.Options
	life   context.Context // routers serve until it ends
	toxi   *toxi.Server
	client *toxiclient.Client
	dir    *router.Directory // the routers, for the edge proxies' in-memory dials

	mu      sync.Mutex
	routers map[string]*router.Router
}

var _ cluster.DataPlane = (*dataplane)(nil)

func newDataplane(life context.Context, sc *scenarios.Scenario, opts topology.Options, srv *toxi.Server, dir *router.Directory) *dataplane {
	return &dataplane{sc: sc, opts: opts, life: life, toxi: srv, client: toxiclient.NewClient(srv.URL()), dir: dir, routers: map[string]*router.Router{}}
}

func (d *dataplane) router(service string) (*router.Router, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.routers[service]
	if r == nil {
		return nil, fmt.Errorf("no router for service %q", service)
	}
	return r, nil
}

func (d *dataplane) AddRouter(_ context.Context, s *cluster.Service) (string, error) {
	h := s.Health
	r := router.New(router.Config{
		Service:  s.Name(),
		Health:   h,
		Recorder: d.opts.Recorder,
		Events:   d.opts.Events,
		Seed:     cluster.RouterSeed(d.sc.Seed, s.Index), // distinct per service, fixed by the run's seed
		Ejection: router.Ejection{ConsecutiveErrors: h.EjectAfter, BaseTime: h.EjectFor.D(), MaxPercent: h.EjectMaxPercent},
	})
	d.mu.Lock()
	d.routers[s.Name()] = r // before it starts: Close closes it whatever happens next
	d.mu.Unlock()
	addr, err := r.Start(d.life, "127.0.0.1:0")
	if err != nil {
		return "", &InfraError{Err: err}
	}
	d.dir.Add(r)
	return "http://" + addr, nil
}

func (d *dataplane) AddEdge(_ context.Context, e scenarios.Edge, name string) (string, error) {
	to, err := d.router(e.To)
	if err != nil {
		return "", err
	}
	p, err := d.client.CreateProxy(name, "127.0.0.1:0", to.Addr())
	if err != nil {
		return "", &InfraError{Err: err}
	}
	return p.Listen, nil
}

// generatorAddr is the address the routers see for in-memory connections
// of this process's traffic generator (they read none of it).
var generatorAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}

// DialRouter connects to a service's router in memory (cluster.MemoryDialer).
func (d *dataplane) DialRouter(ctx context.Context, service string) (net.Conn, error) {
	r, err := d.router(service)
	if err != nil {
		return nil, err
	}
	return r.DialMemory(ctx, generatorAddr)
}

func (d *dataplane) ToxiproxyURL() string { return d.toxi.URL() }

func (d *dataplane) AddBackend(_ context.Context, service string, b router.Backend) error {
	r, err := d.router(service)
	if err != nil {
		return err
	}
	r.Add(b)
	return nil
}

func (d *dataplane) RemoveBackend(ctx context.Context, service, instance string, drain time.Duration) error {
	r, err := d.router(service)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, drain)
	defer cancel()
	return r.Remove(ctx, instance)
}

func (d *dataplane) WaitHealthy(ctx context.Context, service, instance string) error {
	r, err := d.router(service)
	if err != nil {
		return err
	}
	return r.WaitHealthy(ctx, instance)
}

func (d *dataplane) SetWeights(_ context.Context, service string, w map[string]int) error {
	r, err := d.router(service)
	if err != nil {
		return err
	}
	return r.SetWeights(w)
}

func (d *dataplane) Weights(_ context.Context, service string) (map[string]int, error) {
	r, err := d.router(service)
	if err != nil {
		return nil, err
	}
	return r.Weights(), nil
}

func (d *dataplane) SetCohorts(_ context.Context, service string, c router.Cohorts) error {
	r, err := d.router(service)
	if err != nil {
		return err
	}
	return r.SetCohorts(c)
}

func (d *dataplane) SetMirror(_ context.Context, service, version string, percent int) error {
	r, err := d.router(service)
	if err != nil {
		return err
	}
	return r.SetMirror(version, percent)
}

func (d *dataplane) StartSynthetic(_ context.Context, service, version string, rate float64, paths []string) (func(), error) {
	r, err := d.router(service)
	if err != nil {
		return nil, err
	}
	return r.StartSynthetic(version, rate, paths)
}

// Close closes every router together.
func (d *dataplane) Close(ctx context.Context) error {
	d.mu.Lock()
	rs := maps.Clone(d.routers)
	d.mu.Unlock()
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for name, r := range rs {
		wg.Go(func() {
			if err := bounded(ctx, "router "+name, r.Close); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
