// Package cluster is the control plane of a run's topology, the same for
// every runtime: the services in dependency order, a router in front of
// each and a Toxiproxy proxy on each dependency edge, the instances of each
// version, deploy, retire, scale, routing, and the order of start and stop.
//
// A runtime implements only two small interfaces: a Launcher, which starts
// and stops one instance (a process, a container) and prepares what the run
// needs around them; and a DataPlane, which holds the run's routers and
// edge proxies (in the harness, in a container). NewRuntime turns them into
// a topology.Runtime. The local and docker runtimes are the two today; a
// third (Kubernetes) needs only those two interfaces.
package cluster

import (
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
)

// Lifecycle figures shared by the runtimes.
const (
	// StopGrace is how long a stopped instance gets between SIGTERM and
	// SIGKILL.
	StopGrace = 3 * time.Second
	// DrainTimeout bounds how long retiring an instance waits for its
	// in-flight requests.
	DrainTimeout = 5 * time.Second
)

// EvInstanceExited is the event of an instance that exited on its own (not
// by Kill, Restart, Retire or Down); the runtimes emit it.
const EvInstanceExited = "instance_exited"

// Reasons an instance was stopped, in instance_stopped events.
const (
	ReasonKilled  = "killed"
	ReasonStopped = "stopped"
	ReasonRestart = "restart"
	ReasonRetired = "retired"
	ReasonDown    = "down"
	ReasonFailed  = "failed" // a Deploy whose instances did not become healthy
)

// Service is one service of a run as the control plane knows it. Launchers
// read it; only the cluster writes it.
type Service struct {
	Spec *scenarios.Service
	// Index is the service's place in dependency order (its router's seed
	// and, on docker, its router's port derive from it).
	Index int
	// Health is the router's health check: the scenario's, with HTTP
	// /healthz for a fixture that sets none (commands and images: TCP).
	Health scenarios.Health
	// Deps maps each dependency to the address its instances dial: its edge
	// proxy, or a database's proxy. It is complete before any instance of
	// the run is made.
	Deps map[string]string

	url     string         // the router as the harness reaches it
	insts   []Instance     // guarded by Cluster.mu, in start order
	weights map[string]int // last weights set, guarded by Cluster.mu
}

// Name is the service's name.
func (s *Service) Name() string { return s.Spec.Name }

func newService(spec *scenarios.Service, index int) *Service {
	h := spec.Health
	if spec.Fixture != "" && h.HTTP == "" && !h.TCP {
		h.HTTP = "/healthz" // fixtures serve it
	}
	return &Service{Spec: spec, Index: index, Health: h, Deps: map[string]string{}}
}

// Cluster is a running topology: it implements topology.Topology and the
// optional capabilities (capabilities.go) over its runtime's Launcher and
// DataPlane.
type Cluster struct {
	cfg      Config
	sc       *scenarios.Scenario
	opts     topology.Options
	launcher Launcher
	dp       DataPlane // set by up once the launcher prepared it

	// life lasts as long as the topology; Down ends it, and with it any
	// start still running and the launcher's background work.
	life   context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	closed    bool
	services  map[string]*Service
	order     []*Service     // dependencies first
	launching sync.WaitGroup // starts in flight; Down waits for them

	upDone   chan struct{} // closed when up returns; Down waits for it
	downOnce sync.Once
	downErr  error
}

var (
	_ topology.Topology         = (*Cluster)(nil)
	_ topology.InstanceScaling  = (*Cluster)(nil)
	_ topology.CohortRouting    = (*Cluster)(nil)
	_ topology.Mirroring        = (*Cluster)(nil)
	_ topology.SyntheticTraffic = (*Cluster)(nil)
	_ topology.FeatureFlags     = (*Cluster)(nil)
)

func newCluster(ctx context.Context, cfg Config, sc *scenarios.Scenario, opts topology.Options, nl NewLauncher) *Cluster {
	life, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c := &Cluster{cfg: cfg, sc: sc, opts: opts, life: life, cancel: cancel,
		services: map[string]*Service{}, upDone: make(chan struct{})}
	c.launcher = nl(life, sc, opts)
	return c
}

// Launcher is the runtime's launcher of this run (tests reach the runtime's
// own state through it).
func (c *Cluster) Launcher() Launcher { return c.launcher }

// bind returns ctx, ended also when Down starts.
func (c *Cluster) bind(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(c.life, cancel)
	return ctx, func() { stop(); cancel() }
}

func (c *Cluster) service(name string) *Service {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.services[name]
}

// instances returns the instances of a service's version ("" for all), in
// start order.
func (c *Cluster) instances(s *Service, version string) []Instance {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Instance
	for _, in := range s.insts {
		if version == "" || in.Version() == version {
			out = append(out, in)
		}
	}
	return out
}

// Services returns the services in dependency order.
func (c *Cluster) Services() []*Service {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.order)
}

// nextIndex is the index the next instance of version gets: one past the
// highest in use, so that names stay unique after retirements. c.mu held.
func nextIndex(ins []Instance, version string) int {
	next := 0
	for _, in := range ins {
		if in.Version() == version {
			next = max(next, in.Index()+1)
		}
	}
	return next
}

// EntryURL is the base URL of the traffic entry service's router.
func (c *Cluster) EntryURL() string { return c.RouterURL(c.sc.EntryService()) }

// EntryDial is a dial reaching the entry service's router in memory when
// the data plane runs in this process (MemoryDialer), else nil.
func (c *Cluster) EntryDial() func(ctx context.Context) (net.Conn, error) {
	md, ok := c.dp.(MemoryDialer)
	if !ok {
		return nil
	}
	entry := c.sc.EntryService()
	return func(ctx context.Context) (net.Conn, error) { return md.DialRouter(ctx, entry) }
}

// RouterURL is the base URL of a service's router ("" for no such service).
func (c *Cluster) RouterURL(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.services[name]; s != nil {
		return s.url
	}
	return ""
}

// ToxiproxyURL is the Toxiproxy API endpoint driving the edge proxies.
func (c *Cluster) ToxiproxyURL() string {
	if c.dp == nil {
		return ""
	}
	return c.dp.ToxiproxyURL()
}

// ProxyName is the Toxiproxy proxy name of a dependency edge.
func (c *Cluster) ProxyName(e scenarios.Edge) string { return ProxyName(e) }

// SetWeights routes a service's traffic by version.
func (c *Cluster) SetWeights(ctx context.Context, name string, w map[string]int) error {
	s := c.service(name)
	if s == nil {
		return fmt.Errorf("set weights: no service %q in the topology", name)
	}
	if err := c.dp.SetWeights(ctx, name, w); err != nil {
		return err
	}
	c.mu.Lock()
	s.weights = maps.Clone(w)
	c.mu.Unlock()
	return nil
}

// Weights returns the weights last set on a service (the router's own
// split by instances before any was set).
func (c *Cluster) Weights(name string) map[string]int {
	s := c.service(name)
	if s == nil {
		return nil
	}
	c.mu.Lock()
	w := maps.Clone(s.weights)
	c.mu.Unlock()
	if w != nil || c.dp == nil {
		return w
	}
	ctx, cancel := context.WithTimeout(c.life, 5*time.Second)
	defer cancel()
	w, _ = c.dp.Weights(ctx, name)
	return w
}

// Deploy starts the instances of a new version of a service (weight 0) and
// returns once they are healthy; on error they are gone again.
func (c *Cluster) Deploy(ctx context.Context, name string, d topology.Deployment) error {
	s := c.service(name)
	if s == nil {
		return fmt.Errorf("deploy: no service %q in the topology", name)
	}
	if d.Version == "" {
		return fmt.Errorf("deploy %s: no version given; name the version to deploy", name)
	}
	return c.startInstances(ctx, s, d, nil)
}

// Retire takes every instance of a version out of its router, drains and
// stops it.
func (c *Cluster) Retire(ctx context.Context, name, version string) error {
	s := c.service(name)
	if s == nil {
		return fmt.Errorf("retire: no service %q in the topology", name)
	}
	ins := c.instances(s, version)
	if len(ins) == 0 {
		return fmt.Errorf("retire %s: no instances of version %q", name, version)
	}
	if err := c.discard(ctx, s, ins, ReasonRetired); err != nil {
		return fmt.Errorf("retire %s version %s: %w", name, version, err)
	}
	return nil
}

// Instances returns the instances of a service's version ("" for all); each
// is the runtime's own type.
func (c *Cluster) Instances(name, version string) []topology.Instance {
	s := c.service(name)
	if s == nil {
		return nil
	}
	ins := c.instances(s, version)
	out := make([]topology.Instance, len(ins))
	for i, in := range ins {
		out[i] = in
	}
	return out
}
