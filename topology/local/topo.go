package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/router"
	"github.com/firedrill/firedrill/topology/toxi"
)

// drainTimeout bounds how long Retire waits for in-flight requests.
const drainTimeout = 5 * time.Second

// topo is a running topology.
type topo struct {
	sc   *scenarios.Scenario
	opts topology.Options

	// ctx lives as long as the topology (routers serve until it ends).
	ctx    context.Context
	cancel context.CancelFunc

	logDir    string
	tmpLogDir bool // logDir is ours to remove (no RunDir given)
	toxiLog   *os.File
	toxi      *toxi.Server
	client    *toxiclient.Client

	mu       sync.Mutex
	closed   bool
	services map[string]*service
	order    []*service // dependencies first

	downOnce sync.Once
	downErr  error
}

var _ topology.Topology = (*topo)(nil)

// service is one service: its router, its edge proxies, its instances.
type service struct {
	spec   *scenarios.Service
	router *router.Router
	url    string
	deps   map[string]string // dependency -> host:port of this service's edge proxy to it
	insts  []*instance       // guarded by topo.mu, in start order
}

func newTopo(ctx context.Context, sc *scenarios.Scenario, opts topology.Options) *topo {
	tctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	return &topo{sc: sc, opts: opts, ctx: tctx, cancel: cancel, services: map[string]*service{}}
}

func (t *topo) event(kind string, in *instance, msg string, fields map[string]any) {
	if t.opts.Events == nil {
		return
	}
	if fields == nil {
		fields = map[string]any{}
	}
	fields["version"] = in.version
	fields["addr"] = in.addr
	t.opts.Events.Add(record.Event{Kind: kind, Service: in.service, Target: in.name, Message: msg, Fields: fields})
}

func (t *topo) up(ctx context.Context) error {
	// Up's work ends when the caller gives up or Down starts.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(t.ctx, cancel)
	defer stop()

	order, err := dependencyOrder(t.sc)
	if err != nil {
		return err
	}
	if err := t.prepareLogs(); err != nil {
		return err
	}
	srv, err := toxi.Start(ctx, t.toxiLog)
	if err != nil {
		return &InfraError{Err: fmt.Errorf("start the embedded Toxiproxy: %w", err)}
	}
	if err := t.keep(func() { t.toxi = srv }); err != nil {
		_ = srv.Close()
		return err
	}
	t.client = toxiclient.NewClient(srv.URL())

	total := 0
	for _, s := range order {
		total += replicas(s.Replicas)
	}
	var healthy atomic.Int32
	progress := func(in *instance) {
		if t.opts.Progress != nil {
			t.opts.Progress(in.service, in.name, int(healthy.Add(1)), total)
		}
	}
	for i, spec := range order {
		s, err := t.startService(ctx, i, spec)
		if err != nil {
			return err
		}
		d := topology.Deployment{Version: spec.Version, Replicas: replicas(spec.Replicas)}
		if err := t.startInstances(ctx, s, d, progress); err != nil {
			return err
		}
		if err := s.router.SetWeights(map[string]int{spec.Version: 100}); err != nil {
			return &InfraError{Service: spec.Name, Err: err}
		}
	}
	return nil
}

// prepareLogs creates RunDir/logs (or a temporary directory) and the
// Toxiproxy log.
func (t *topo) prepareLogs() error {
	var dir string
	tmp := t.opts.RunDir == ""
	if tmp {
		d, err := os.MkdirTemp("", "firedrill-logs-")
		if err != nil {
			return &InfraError{Err: fmt.Errorf("create a log directory: %w", err)}
		}
		dir = d
	} else {
		dir = filepath.Join(t.opts.RunDir, "logs")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return &InfraError{Err: fmt.Errorf("create %s: %w; check that the output directory is writable", dir, err)}
		}
	}
	path := filepath.Join(t.opts.RunDir, "toxiproxy.log")
	if tmp {
		path = filepath.Join(dir, "toxiproxy.log")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		if tmp {
			_ = os.RemoveAll(dir)
		}
		return &InfraError{Err: fmt.Errorf("create the toxiproxy log: %w", err)}
	}
	if err := t.keep(func() { t.logDir, t.tmpLogDir, t.toxiLog = dir, tmp, f }); err != nil {
		_ = f.Close()
		if tmp {
			_ = os.RemoveAll(dir)
		}
		return err
	}
	return nil
}

// keep records a resource for Down under t.mu, unless Down already ran: then
// the caller must release the resource itself.
func (t *topo) keep(assign func()) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return fmt.Errorf("the topology is going down: %w", context.Canceled)
	}
	assign()
	return nil
}

// startService starts a service's router and its edge proxies; its
// dependencies are up already.
func (t *topo) startService(ctx context.Context, i int, spec *scenarios.Service) (*service, error) {
	h := spec.Health
	if spec.Fixture != "" && h.HTTP == "" && !h.TCP {
		h.HTTP = "/healthz" // fixtures serve it; commands default to a TCP check
	}
	s := &service{spec: spec, deps: map[string]string{}}
	s.router = router.New(router.Config{
		Service:  spec.Name,
		Health:   h,
		Recorder: t.opts.Recorder,
		Events:   t.opts.Events,
		Seed:     t.sc.Seed*1_000_003 + int64(i), // distinct per service, fixed by the seed
		Ejection: router.Ejection{ConsecutiveErrors: h.EjectAfter, BaseTime: h.EjectFor.D(), MaxPercent: h.EjectMaxPercent},
	})
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		_ = s.router.Close()
		return nil, fmt.Errorf("start service %s: the topology is going down: %w", spec.Name, context.Canceled)
	}
	t.services[spec.Name] = s
	t.order = append(t.order, s)
	t.mu.Unlock()

	addr, err := s.router.Start(t.ctx, "127.0.0.1:0")
	if err != nil {
		return nil, &InfraError{Service: spec.Name, Err: fmt.Errorf("start its router: %w", err)}
	}
	s.url = "http://" + addr
	for _, d := range spec.DependsOn {
		if addr, ok := t.databaseAddr(spec.Name, d); ok { // export.go
			s.deps[d] = addr
			continue
		}
		t.mu.Lock()
		ds := t.services[d]
		t.mu.Unlock()
		if ds == nil {
			return nil, fmt.Errorf("service %s depends on %s, which is not in the scenario; add it or fix depends_on", spec.Name, d)
		}
		name := proxyName(scenarios.Edge{From: spec.Name, To: d})
		p, err := t.client.CreateProxy(name, "127.0.0.1:0", ds.router.Addr())
		if err != nil {
			return nil, &InfraError{Service: spec.Name, Err: fmt.Errorf("create Toxiproxy proxy %s for edge %s -> %s: %w", name, spec.Name, d, err)}
		}
		s.deps[d] = p.Listen
	}
	return s, nil
}

// startInstances starts d.Replicas instances of d.Version, registers them
// with the router and waits until all are healthy. On error the new
// instances are stopped and forgotten.
func (t *topo) startInstances(ctx context.Context, s *service, d topology.Deployment, healthy func(*instance)) error {
	n := replicas(d.Replicas)
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return fmt.Errorf("service %s: the topology is down: %w", s.spec.Name, context.Canceled)
	}
	first := topology.NextIndex(s.insts, d.Version)
	var news []*instance
	var err error
	for k := range n {
		var in *instance
		in, err = t.newInstance(s, d, first+k)
		if err != nil {
			break
		}
		news = append(news, in)
	}
	s.insts = append(s.insts, news...)
	t.mu.Unlock()

	if err == nil {
		err = t.launch(ctx, s, news, healthy)
	}
	if err != nil {
		_ = t.discard(ctx, s, news, reasonFailed) // the start error says more
		return err
	}
	return nil
}

// launch spawns the instances, registers them and waits until they are
// healthy.
func (t *topo) launch(ctx context.Context, s *service, ins []*instance, healthy func(*instance)) error {
	for _, in := range ins {
		if err := in.Start(ctx); err != nil {
			return err
		}
		s.router.Add(router.Backend{Name: in.name, Version: in.version, Addr: in.addr})
	}
	// One instance failing fails the lot at once, not after the others'
	// start timeouts.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(ins))
	var wg sync.WaitGroup
	for i, in := range ins {
		wg.Go(func() {
			errs[i] = t.waitHealthy(ctx, s, in)
			if errs[i] != nil {
				cancel()
			} else if healthy != nil {
				healthy(in)
			}
		})
	}
	wg.Wait()
	return firstError(errs)
}

// firstError prefers an instance's own failure over the cancellations it
// caused.
func firstError(errs []error) error {
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if errors.Is(err, ErrInfra) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// waitHealthy waits until the router finds in healthy, failing fast when
// its process exits first.
func (t *topo) waitHealthy(ctx context.Context, s *service, in *instance) error {
	timeout := s.spec.StartTimeout.D()
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p := in.current()
	if p == nil {
		return in.exitError(nil, errors.New("was never started"))
	}
	go func() {
		select {
		case <-p.done:
			cancel()
		case <-wctx.Done():
		}
	}()
	err := s.router.WaitHealthy(wctx, in.name)
	switch {
	case err == nil:
		return nil
	case p.exited():
		return in.exitError(p, nil)
	case ctx.Err() != nil:
		return fmt.Errorf("service %s: instance %s: start interrupted: %w", s.spec.Name, in.name, ctx.Err())
	case t.ctx.Err() != nil:
		// Down closed the router before Up's context saw the cancel.
		return fmt.Errorf("service %s: instance %s: start interrupted by Down: %w", s.spec.Name, in.name, context.Canceled)
	default:
		return in.exitError(nil, fmt.Errorf("not healthy within %s (start_timeout): %w", timeout, err))
	}
}

// discard takes instances out of their router and the service and stops
// them for good.
// The drain ends early when ctx ends; stopping the processes does not.
func (t *topo) discard(ctx context.Context, s *service, ins []*instance, reason string) error {
	t.mu.Lock()
	s.insts = slices.DeleteFunc(s.insts, func(in *instance) bool { return slices.Contains(ins, in) })
	t.mu.Unlock()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout+stopGrace+5*time.Second)
	defer cancel()
	errs := make([]error, len(ins))
	var wg sync.WaitGroup
	for i, in := range ins {
		wg.Go(func() {
			dctx, dcancel := context.WithTimeout(ctx, drainTimeout)
			// A drain that times out cuts the remaining requests: that is
			// what retiring under load means, so it is not an error.
			_ = s.router.Remove(dctx, in.name)
			dcancel()
			errs[i] = in.stop(stopCtx, reason, true)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
