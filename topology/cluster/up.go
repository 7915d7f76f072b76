package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/router"
)

// up brings the topology up: the launcher's preparations, routers and edge
// proxies, then the instances level by level.
func (c *Cluster) up(parent context.Context) error {
	defer close(c.upDone)
	// Up's work ends when the caller gives up or Down starts.
	ctx, cancel := c.bind(parent)
	defer cancel()

	specs, err := DependencyOrder(c.sc)
	if err != nil {
		return err
	}
	c.mu.Lock()
	for i, spec := range specs {
		s := newService(spec, i)
		c.services[spec.Name] = s
		c.order = append(c.order, s)
	}
	c.mu.Unlock()
	dp, err := c.launcher.Prepare(ctx, c.Services())
	if err != nil {
		return err
	}
	c.dp = dp
	if err := c.wire(ctx); err != nil {
		return err
	}
	return c.startAll(ctx)
}

// wire starts every service's router and creates its edge proxies, so that
// every service knows its dependencies' addresses before any instance.
func (c *Cluster) wire(ctx context.Context) error {
	for _, s := range c.Services() {
		url, err := c.dp.AddRouter(ctx, s)
		if err != nil {
			return fmt.Errorf("service %s: start its router: %w", s.Name(), err)
		}
		c.mu.Lock()
		s.url = url
		c.mu.Unlock()
		for _, d := range s.Spec.DependsOn {
			addr, err := c.dependency(ctx, s, d)
			if err != nil {
				return err
			}
			s.Deps[d] = addr
		}
	}
	return nil
}

// dependency is where s's instances reach d: a database's proxy (the
// harness's), or the edge proxy s -> d.
func (c *Cluster) dependency(ctx context.Context, s *Service, d string) (string, error) {
	if c.sc.Database(d) != nil {
		if c.opts.DatabaseAddr != nil {
			if addr, ok := c.opts.DatabaseAddr(s.Name(), d); ok {
				return addr, nil
			}
		}
		return "", fmt.Errorf("service %s depends on database %s, but the harness gave no address for it", s.Name(), d)
	}
	e := scenarios.Edge{From: s.Name(), To: d}
	name := ProxyName(e)
	addr, err := c.dp.AddEdge(ctx, e, name)
	if err != nil {
		return "", fmt.Errorf("service %s: create Toxiproxy proxy %s for edge %s -> %s: %w", s.Name(), name, e.From, e.To, err)
	}
	return addr, nil
}

// startAll starts every service's instances, each as soon as the services
// it depends on are ready (not level by level: a service waits for its own
// dependencies only). A service gets all its traffic on its version once
// its instances are healthy. The first failure stops the other starts.
func (c *Cluster) startAll(ctx context.Context) error {
	order := c.Services()
	total := 0
	for _, s := range order {
		total += Replicas(s.Spec.Replicas)
	}
	var healthy atomic.Int32
	progress := func(in Instance) {
		if c.opts.Progress != nil {
			c.opts.Progress(in.Service(), in.Name(), int(healthy.Add(1)), total)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(map[string]chan struct{}, len(order))
	for _, s := range order {
		ready[s.Name()] = make(chan struct{})
	}
	errs := make([]error, len(order))
	var wg sync.WaitGroup
	for i, s := range order {
		wg.Go(func() {
			if errs[i] = c.waitDeps(ctx, s, ready); errs[i] == nil {
				errs[i] = c.startService(ctx, s, progress)
			}
			if errs[i] != nil {
				cancel()
				return
			}
			close(ready[s.Name()])
		})
	}
	wg.Wait()
	return firstError(errs)
}

// waitDeps waits until every service s depends on is ready (databases are
// up before the topology).
func (c *Cluster) waitDeps(ctx context.Context, s *Service, ready map[string]chan struct{}) error {
	for _, d := range s.Spec.DependsOn {
		ch, ok := ready[d]
		if !ok {
			continue
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("service %s: not started, %s did not start: %w", s.Name(), d, ctx.Err())
		}
	}
	return nil
}

// startService starts s's instances and routes all its traffic to them.
func (c *Cluster) startService(ctx context.Context, s *Service, progress func(Instance)) error {
	v := s.Spec.Version
	if err := c.startInstances(ctx, s, topology.Deployment{Version: v, Replicas: Replicas(s.Spec.Replicas)}, progress); err != nil {
		return err
	}
	if err := c.SetWeights(ctx, s.Name(), map[string]int{v: 100}); err != nil {
		return fmt.Errorf("service %s: %w", s.Name(), err)
	}
	return nil
}

// startInstances starts d.Replicas instances of d.Version, puts them behind
// the router and waits until all are healthy. On error the new instances
// are stopped and forgotten.
func (c *Cluster) startInstances(ctx context.Context, s *Service, d topology.Deployment, healthy func(Instance)) error {
	n := Replicas(d.Replicas)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return fmt.Errorf("service %s: the topology is down: %w", s.Name(), context.Canceled)
	}
	first := nextIndex(s.insts, d.Version)
	var news []Instance
	var err error
	for k := range n {
		var in Instance
		if in, err = c.launcher.Instance(s, d, first+k); err != nil {
			break
		}
		news = append(news, in)
	}
	s.insts = append(s.insts, news...)
	c.launching.Add(1)
	c.mu.Unlock()
	defer c.launching.Done()

	if err == nil {
		ctx, cancel := c.bind(ctx)
		err = c.launchAll(ctx, s, news, healthy)
		cancel()
	}
	if err != nil {
		_ = c.discard(ctx, s, news, ReasonFailed) // the start error says more
		return err
	}
	return nil
}

// launchAll launches instances together; one failing fails the lot at once,
// not after the others' start timeouts.
func (c *Cluster) launchAll(ctx context.Context, s *Service, ins []Instance, healthy func(Instance)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(ins))
	var wg sync.WaitGroup
	for i, in := range ins {
		wg.Go(func() {
			errs[i] = c.launch(ctx, s, in)
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

// errStartTimeout is the cause of a start that ran out of start_timeout.
var errStartTimeout = errors.New("start_timeout")

// launch starts one instance, puts it behind its router and waits until
// the router finds it healthy, failing fast when it exits first.
func (c *Cluster) launch(ctx context.Context, s *Service, in Instance) error {
	timeout := s.Spec.StartTimeout.D()
	if timeout <= 0 {
		timeout = c.cfg.StartTimeout
	}
	lctx, cancel := context.WithTimeoutCause(ctx, timeout, errStartTimeout)
	defer cancel()
	exited := in.Exited() // before Launch: it may exit before Launch returns
	if err := in.Launch(lctx); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return notReady(s, in, err)
		}
		return err
	}
	if err := c.dp.AddBackend(lctx, s.Name(), router.Backend{Name: in.Name(), Version: in.Version(), Addr: in.Addr()}); err != nil {
		return in.Failed(lctx, fmt.Errorf("put it behind its router: %w", err))
	}
	wctx, wcancel := context.WithCancel(lctx)
	defer wcancel()
	go func() {
		select {
		case <-exited:
			wcancel()
		case <-wctx.Done():
		}
	}()
	err := c.dp.WaitHealthy(wctx, s.Name(), in.Name())
	switch {
	case err == nil:
		return nil
	case isClosed(exited):
		return in.Failed(lctx, nil)
	case context.Cause(lctx) == errStartTimeout:
		return in.Failed(lctx, fmt.Errorf("not healthy within %s (start_timeout): %w", timeout, err))
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return notReady(s, in, err)
	case ctx.Err() != nil:
		return fmt.Errorf("service %s: instance %s: start interrupted: %w", s.Name(), in.Name(), ctx.Err())
	}
	return in.Failed(lctx, err)
}

// NotReadyError is an instance that was not ready when its caller's
// deadline passed (a rollout's ready_timeout), with its last health answer.
type NotReadyError struct {
	Service, Instance string
	// LastHealth is the last health check's answer, or what the instance
	// was still doing.
	LastHealth string
	Err        error
}

func (e *NotReadyError) Error() string {
	return fmt.Sprintf("service %s: instance %s not ready in time (last health check: %s): %v", e.Service, e.Instance, e.LastHealth, e.Err)
}

func (e *NotReadyError) Unwrap() error { return e.Err }

// NotReadyInstance names the instance and its last health answer (the
// rollout controller reads it through an interface of its own).
func (e *NotReadyError) NotReadyInstance() (instance, lastHealth string) {
	return e.Instance, e.LastHealth
}

func notReady(s *Service, in Instance, err error) error {
	last := "still starting: no health check ran yet"
	if err != nil {
		// The runtime's own start-up checks (docker: a container's wait
		// strategies) were still running: say what they last said.
		first, _, _ := strings.Cut(err.Error(), "\n")
		last = "still starting: " + first
	}
	if nh, ok := errors.AsType[*router.NotHealthyError](err); ok {
		last = nh.LastCheck
		if last == "" {
			last = "no check finished yet"
		}
	}
	return &NotReadyError{Service: s.Name(), Instance: in.Name(), LastHealth: last, Err: err}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// firstError prefers a real failure over the cancellations it caused.
func firstError(errs []error) error {
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if !errors.Is(err, context.Canceled) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// discard takes instances out of their router and the service and stops
// them for good. The drain ends early when ctx ends; stopping does not.
func (c *Cluster) discard(ctx context.Context, s *Service, ins []Instance, reason string) error {
	c.mu.Lock()
	s.insts = slices.DeleteFunc(s.insts, func(in Instance) bool { return slices.Contains(ins, in) })
	c.mu.Unlock()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DrainTimeout+StopGrace+30*time.Second)
	defer cancel()
	errs := make([]error, len(ins))
	var wg sync.WaitGroup
	for i, in := range ins {
		wg.Go(func() {
			if c.dp != nil {
				// A drain cut short cuts the remaining requests: that is
				// what retiring under load means, so it is not an error.
				_ = c.dp.RemoveBackend(ctx, s.Name(), in.Name(), DrainTimeout)
			}
			errs[i] = in.Remove(stopCtx, reason)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
