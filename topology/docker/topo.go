package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/router"
)

// topo is a running topology.
type topo struct {
	sc   *scenarios.Scenario
	opts topology.Options
	cfg  Config

	// ctx lives as long as the topology; Down cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	c       *client.Client
	image   string // the firedrill image
	netName string
	netID   string
	logDir  string

	reaper  *heartbeat
	dpCtr   testcontainers.Container
	dp      *dpClient
	toxiURL string
	toxi    *toxiclient.Client
	bg      sync.WaitGroup // poll loop, event watcher

	mu       sync.Mutex
	closed   bool
	creating sync.WaitGroup // container creations in flight; Down waits for them
	services map[string]*service
	order    []*service           // dependencies first
	byName   map[string]*instance // by container name, for Docker events

	upDone chan struct{} // closed when up returns; Down waits for it
	// upInterrupted: Up's context ended before it returned (read after upDone).
	upInterrupted bool
	downOnce      sync.Once
	downErr       error
}

var _ topology.Topology = (*topo)(nil)

// service is one service: its router (in the data plane), its edge proxies
// and its instances.
type service struct {
	spec    *scenarios.Service
	cs      ContainerSpec
	health  scenarios.Health
	port    int               // router port inside the data plane
	url     string            // http://127.0.0.1:<published router port>
	deps    map[string]string // dependency -> dataplane:<edge proxy port>
	insts   []*instance       // guarded by topo.mu, in start order
	weights map[string]int    // last weights set, guarded by topo.mu
}

func newTopo(ctx context.Context, sc *scenarios.Scenario, opts topology.Options, cfg Config) *topo {
	tctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	return &topo{sc: sc, opts: opts, cfg: cfg, ctx: tctx, cancel: cancel,
		services: map[string]*service{}, byName: map[string]*instance{}, upDone: make(chan struct{}),
		netName: "firedrill-" + opts.RunID}
}

func (t *topo) event(e record.Event) {
	if t.opts.Events != nil {
		t.opts.Events.Add(e)
	}
}

// beginCreate registers a container creation, unless Down started.
func (t *topo) beginCreate() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return fmt.Errorf("the topology is going down: %w", context.Canceled)
	}
	t.creating.Add(1)
	return nil
}

func (t *topo) up(parent context.Context) error {
	defer func() {
		// Interrupted: a container create may have been cut off client-side
		// and still complete in the daemon; Down sweeps again for it.
		t.upInterrupted = parent.Err() != nil || t.ctx.Err() != nil
		close(t.upDone)
	}()
	// Up's work ends when the caller gives up or Down starts.
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	stop := context.AfterFunc(t.ctx, cancel)
	defer stop()

	order, err := dependencyOrder(t.sc)
	if err != nil {
		return err
	}
	if t.c, err = Client(ctx); err != nil {
		return err
	}
	specs, err := t.containerSpecs(ctx, order)
	if err != nil {
		return err // a missing image: nothing was created
	}
	start := time.Now()
	t.image, err = FiredrillImage(ctx, ImageSource{Image: t.cfg.Image, Binary: t.opts.Binary, ModuleDir: t.cfg.ModuleDir,
		Progress: t.cfg.Progress,
		Status:   func(line string) { t.event(record.Event{Kind: EvImageBuild, Message: line}) },
	})
	if err != nil {
		return fmt.Errorf("the firedrill image: %w", err)
	}
	t.event(record.Event{Kind: EvImageReady, Target: t.image, Message: fmt.Sprintf("%s ready in %s", t.image, time.Since(start).Round(time.Millisecond))})
	if err := t.prepareLogs(); err != nil {
		return err
	}
	if err := t.createNetwork(ctx); err != nil {
		return err
	}
	t.mu.Lock()
	for i, spec := range order {
		s := &service{spec: spec, cs: specs[spec.Name], health: serviceHealth(spec), port: routerBasePort + i, deps: map[string]string{}}
		t.services[spec.Name] = s
		t.order = append(t.order, s)
	}
	t.mu.Unlock()
	// The reaper and the data plane start together (each sets only its own
	// fields).
	var reaperErr, dpErr error
	var wg sync.WaitGroup
	wg.Go(func() { reaperErr = t.startReaper(ctx) })
	wg.Go(func() { dpErr = t.startDataplane(ctx) })
	wg.Wait()
	if err := errors.Join(reaperErr, dpErr); err != nil {
		return err
	}
	if err := t.createRouters(ctx); err != nil {
		return err
	}
	t.watchEvents()

	total := 0
	for _, s := range t.order {
		total += replicas(s.spec.Replicas)
	}
	var healthy int
	var hmu sync.Mutex
	progress := func(in *instance) {
		if t.opts.Progress != nil {
			hmu.Lock()
			healthy++
			done := healthy
			hmu.Unlock()
			t.opts.Progress(in.service, in.name, done, total)
		}
	}
	// Dependencies first, as on the local runtime; a level's services start
	// together.
	for _, level := range levels(t.order) {
		errs := make([]error, len(level))
		var wg sync.WaitGroup
		for i, s := range level {
			wg.Go(func() {
				d := topology.Deployment{Version: s.spec.Version, Replicas: replicas(s.spec.Replicas)}
				errs[i] = t.startInstances(ctx, s, d, progress)
			})
		}
		wg.Wait()
		if err := firstError(errs); err != nil {
			return err
		}
	}
	return nil
}

// containerSpecs resolves each service's ContainerSpec and fails with a
// *MissingImageError when an image is not on the daemon.
func (t *topo) containerSpecs(ctx context.Context, order []*scenarios.Service) (map[string]ContainerSpec, error) {
	out := map[string]ContainerSpec{}
	for _, spec := range order {
		var cs ContainerSpec
		if t.cfg.Spec != nil {
			cs = t.cfg.Spec(spec)
		}
		switch {
		case spec.Image != "":
			if err := checkImages(ctx, t.c, []string{spec.Image}); err != nil {
				return nil, err
			}
			if cs.Port == 0 {
				cs.Port = t.exposedPort(ctx, spec.Image)
			}
		case spec.Fixture != "":
			cs.Port = DefaultPort
		default:
			return nil, fmt.Errorf("service %s has neither fixture nor image; the docker runtime cannot run a host command: give it an image, or use runtime: local", spec.Name)
		}
		out[spec.Name] = cs
	}
	return out, nil
}

// exposedPort is an image's only EXPOSEd TCP port, or DefaultPort.
func (t *topo) exposedPort(ctx context.Context, image string) int {
	img, err := t.c.ImageInspect(ctx, image)
	if err != nil || img.Config == nil {
		return DefaultPort
	}
	var ports []int
	for p := range img.Config.ExposedPorts {
		num, proto, _ := strings.Cut(p, "/")
		if n, err := strconv.Atoi(num); err == nil && (proto == "" || proto == "tcp") {
			ports = append(ports, n)
		}
	}
	if len(ports) == 1 {
		return ports[0]
	}
	return DefaultPort
}

// prepareLogs creates RunDir/logs, where container logs are saved on Down.
func (t *topo) prepareLogs() error {
	if t.opts.RunDir == "" {
		return nil
	}
	t.logDir = filepath.Join(t.opts.RunDir, "logs")
	if err := os.MkdirAll(t.logDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w; check that the output directory is writable", t.logDir, err)
	}
	return nil
}

func (t *topo) createNetwork(ctx context.Context) error {
	if err := t.beginCreate(); err != nil {
		return err
	}
	defer t.creating.Done()
	labels := RunLabels(t.opts.RunID, t.sc.Name, "network")
	res, err := t.c.NetworkCreate(ctx, t.netName, client.NetworkCreateOptions{Driver: "bridge", Labels: labels})
	if err != nil {
		return fmt.Errorf("create network %s: %w", t.netName, err)
	}
	t.netID = res.ID
	return nil
}

// startReaper starts the reaper container and holds its heartbeat.
func (t *topo) startReaper(ctx context.Context) error {
	if t.cfg.NoReaper {
		return nil
	}
	sock := dockerSocket(ctx, t.c)
	if sock == "" {
		t.event(record.Event{Kind: EvReaperLost, Message: fmt.Sprintf("no reaper: the Docker daemon at %s is not a unix socket; a killed harness leaves its containers until `firedrill clean`", t.c.DaemonHost())})
		return nil
	}
	if err := t.beginCreate(); err != nil {
		return err
	}
	grace := t.cfg.ReaperGrace
	if grace <= 0 {
		grace = 5 * time.Second
	}
	ctr, err := t.runContainer(ctx, containerReq{
		name: "reaper", image: t.image, role: RoleReaper,
		cmd:     []string{"reaper", "--run", t.opts.RunID, "--listen", fmt.Sprintf("0.0.0.0:%d", reaperPort), "--grace", grace.String()},
		publish: []int{reaperPort},
		binds:   []string{sock + ":/var/run/docker.sock"},
		// Gone once it has removed the run (it cannot remove itself).
		autoRemove: true,
	})
	t.creating.Done()
	if err != nil {
		return fmt.Errorf("start the reaper: %w", err)
	}
	addr, err := hostAddr(ctx, ctr, reaperPort)
	if err != nil {
		return fmt.Errorf("start the reaper: %w", err)
	}
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	t.reaper, err = holdReaper(hctx, addr, t.opts.RunID)
	if err != nil {
		return fmt.Errorf("start the reaper: %w%s", err, logTail(ctx, t.c, ctr.GetContainerID(), 10))
	}
	t.bg.Go(func() {
		// The reaper never writes after OK: a read returns when it is gone,
		// or when Down starts (the deadline; the connection stays open).
		stop := context.AfterFunc(t.ctx, func() { _ = t.reaper.conn.SetReadDeadline(time.Now()) })
		defer stop()
		_, _ = io.Copy(io.Discard, t.reaper.conn)
		if t.ctx.Err() == nil {
			t.event(record.Event{Kind: EvReaperLost, Message: "the reaper container went away: a killed harness would leave its containers until `firedrill clean`"})
		}
	})
	return nil
}

// startDataplane starts the data plane container and its poll loop.
func (t *topo) startDataplane(ctx context.Context) error {
	publish := []int{controlPort, toxiproxyPort}
	for _, s := range t.order {
		publish = append(publish, s.port)
	}
	if err := t.beginCreate(); err != nil {
		return err
	}
	ctr, err := t.runContainer(ctx, containerReq{
		name: "dataplane", image: t.image, role: RoleDataplane, aliases: []string{dataplaneAlias},
		cmd: []string{"dataplane", "--control", fmt.Sprintf("0.0.0.0:%d", controlPort),
			"--toxiproxy", fmt.Sprintf("0.0.0.0:%d", toxiproxyPort)},
		publish: publish,
		wait: wait.ForAll(
			wait.ForHTTP("/healthz").WithPort(strconv.Itoa(controlPort)+"/tcp").WithForcedIPv4LocalHost().WithPollInterval(50*time.Millisecond),
			wait.ForHTTP("/version").WithPort(strconv.Itoa(toxiproxyPort)+"/tcp").WithForcedIPv4LocalHost().WithPollInterval(50*time.Millisecond),
		).WithDeadline(60 * time.Second),
	})
	t.creating.Done()
	if ctr != nil {
		t.dpCtr = ctr
	}
	if err != nil {
		id := ""
		if ctr != nil {
			id = ctr.GetContainerID()
		}
		return fmt.Errorf("start the data plane: %w%s", err, logTail(ctx, t.c, id, 20))
	}
	ctl, err := hostAddr(ctx, ctr, controlPort)
	if err != nil {
		return err
	}
	tx, err := hostAddr(ctx, ctr, toxiproxyPort)
	if err != nil {
		return err
	}
	for _, s := range t.order {
		a, err := hostAddr(ctx, ctr, s.port)
		if err != nil {
			return err
		}
		s.url = "http://" + a
	}
	t.toxiURL = "http://" + tx
	t.toxi = toxiclient.NewClient(t.toxiURL)
	t.dp = newDPClient("http://"+ctl, t.opts.Recorder, t.opts.Events)
	t.bg.Go(func() { t.dp.pollLoop(t.ctx) })
	return nil
}

// createRouters creates every service's router and edge proxies.
func (t *topo) createRouters(ctx context.Context) error {
	j := 0
	for i, s := range t.order {
		seed := t.sc.Seed*1_000_003 + int64(i) // distinct per service, fixed by the seed
		if _, err := t.dp.createRouter(ctx, s.spec.Name, fmt.Sprintf("0.0.0.0:%d", s.port), s.health, seed); err != nil {
			return fmt.Errorf("service %s: create its router: %w", s.spec.Name, err)
		}
		for _, d := range s.spec.DependsOn {
			if t.sc.Database(d) != nil {
				// The harness's proxy to the database's primary, on an
				// address of this machine that containers reach.
				addr, ok := "", false
				if t.opts.DatabaseAddr != nil {
					addr, ok = t.opts.DatabaseAddr(s.spec.Name, d)
				}
				if !ok {
					return fmt.Errorf("service %s depends on database %s, but the harness gave no address for it", s.spec.Name, d)
				}
				s.deps[d] = addr
				continue
			}
			ds := t.services[d]
			name := proxyName(scenarios.Edge{From: s.spec.Name, To: d})
			port := proxyBasePort + j
			j++
			if _, err := t.toxi.CreateProxy(name, fmt.Sprintf("0.0.0.0:%d", port), fmt.Sprintf("127.0.0.1:%d", ds.port)); err != nil {
				return fmt.Errorf("create Toxiproxy proxy %s for edge %s -> %s: %w", name, s.spec.Name, d, err)
			}
			s.deps[d] = fmt.Sprintf("%s:%d", dataplaneAlias, port)
		}
	}
	return nil
}

// startInstances starts d.Replicas instances of d.Version, registers them
// with the router and waits until all are healthy. On error the new
// instances are removed and forgotten.
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
	firstOfService := len(s.insts) == len(news)
	t.mu.Unlock()

	if err == nil {
		errs := make([]error, len(news))
		var wg sync.WaitGroup
		for i, in := range news {
			wg.Go(func() {
				errs[i] = t.launch(ctx, s, in)
				if errs[i] == nil && healthy != nil {
					healthy(in)
				}
			})
		}
		wg.Wait()
		err = firstError(errs)
	}
	if err == nil && firstOfService {
		if err = t.SetWeights(ctx, s.spec.Name, map[string]int{d.Version: 100}); err != nil {
			err = fmt.Errorf("service %s: %w", s.spec.Name, err)
		}
	}
	if err != nil {
		_ = t.discard(s, news, reasonFailed)
		return err
	}
	return nil
}

// launch creates an instance's container, waits for its start-up, adds it
// to its router and waits until the router finds it healthy.
func (t *topo) launch(ctx context.Context, s *service, in *instance) error {
	timeout := startTimeout(s.spec)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Taken before the container exists: it may die before create returns.
	died := in.diedChan()
	if err := in.create(ctx); err != nil {
		return err
	}
	if err := t.dp.addBackend(ctx, s.spec.Name, router.Backend{Name: in.name, Version: in.version, Addr: in.addr}); err != nil {
		return in.startError(ctx, err)
	}
	// Fail fast when the container exits before it is healthy.
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	go func() {
		select {
		case <-died:
			wcancel()
		case <-wctx.Done():
		}
	}()
	err := t.dp.waitHealthy(wctx, s.spec.Name, in.name)
	switch {
	case err == nil:
		return nil
	case isClosed(died):
		return in.startError(ctx, errors.New("the container exited before it became healthy; fix its command or image"))
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return in.startError(ctx, fmt.Errorf("not healthy within %s (start_timeout): %w", timeout, err))
	case ctx.Err() != nil:
		return fmt.Errorf("service %s: instance %s: start interrupted: %w", s.spec.Name, in.name, ctx.Err())
	}
	return in.startError(ctx, err)
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

// discard takes instances out of their router and the service and removes
// their containers.
func (t *topo) discard(s *service, ins []*instance, reason string) error {
	t.mu.Lock()
	s.insts = slices.DeleteFunc(s.insts, func(in *instance) bool { return slices.Contains(ins, in) })
	t.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout+stopGrace+30*time.Second)
	defer cancel()
	errs := make([]error, len(ins))
	var wg sync.WaitGroup
	for i, in := range ins {
		wg.Go(func() {
			if t.dp != nil {
				// A drain cut short cuts the remaining requests: that is
				// what retiring under load means, so it is not an error.
				_, _ = t.dp.removeBackend(ctx, s.spec.Name, in.name, drainTimeout)
			}
			errs[i] = in.remove(ctx, reason)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// newInstance prepares (does not start) one instance; t.mu must be held.
func (t *topo) newInstance(s *service, d topology.Deployment, index int) (*instance, error) {
	name := fmt.Sprintf("%s-%s-%d", s.spec.Name, d.Version, index)
	alias := dnsName(name)
	if alias == "" {
		alias = "i" + strconv.Itoa(index)
	}
	dbs := map[string]bool{}
	for _, dep := range s.spec.DependsOn {
		dbs[dep] = t.sc.Database(dep) != nil
	}
	ls, err := launch(s.spec, s.cs, d, t.opts.RunID, name, t.image, s.deps, dbs)
	if err != nil {
		return nil, fmt.Errorf("service %s: instance %s: %w", s.spec.Name, name, err)
	}
	in := &instance{
		t: t, svc: s, service: s.spec.Name, version: d.Version, index: index, name: name,
		alias: alias, addr: fmt.Sprintf("%s:%d", alias, ls.Port), ls: ls,
		op: topology.NewOpLock(), died: make(chan struct{}),
	}
	t.byName[containerName(t.opts.RunID, alias)] = in
	return in, nil
}
