package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/cluster"
)

// run is one run on the Docker daemon, the docker runtime's
// cluster.Launcher: its network, reaper, data plane container and the
// instances' containers.
type run struct {
	sc   *scenarios.Scenario
	opts topology.Options
	cfg  Config
	life context.Context // the topology's; Down ends it

	c       *client.Client
	image   string // the firedrill image
	netName string
	netID   string
	logDir  string
	specs   map[string]ContainerSpec // by service

	reaper *heartbeat
	dpCtr  testcontainers.Container
	dp     *dpClient
	bg     sync.WaitGroup // poll loop, event watcher, reaper watch

	// cutOff: a create was cut off client-side by an interrupt and may
	// still complete in the daemon; Close sweeps again for it.
	cutOff atomic.Bool

	mu     sync.Mutex
	byName map[string]*instance // by container name, for Docker events
}

var _ cluster.Launcher = (*run)(nil)

func newRun(life context.Context, sc *scenarios.Scenario, opts topology.Options, cfg Config) *run {
	return &run{sc: sc, opts: opts, cfg: cfg, life: life, netName: "firedrill-" + opts.RunID,
		specs: map[string]ContainerSpec{}, byName: map[string]*instance{}}
}

func (t *run) event(e record.Event) {
	if t.opts.Events != nil {
		t.opts.Events.Add(e)
	}
}

// noteCut records that a create failed because ctx ended.
func (t *run) noteCut(ctx context.Context, err error) {
	if err != nil && ctx.Err() != nil {
		t.cutOff.Store(true)
	}
}

// Prepare checks that every image is present, builds the firedrill image if
// needed, then creates the run's network, its reaper and its data plane
// (together), and starts following the containers' events.
func (t *run) Prepare(ctx context.Context, services []*cluster.Service) (cluster.DataPlane, error) {
	if t.opts.RunID == "" {
		return nil, errors.New("no run id; set topology.Options.RunID")
	}
	var err error
	if t.c, err = Client(ctx); err != nil {
		return nil, err
	}
	if err := t.containerSpecs(ctx, services); err != nil {
		return nil, err // a missing image: nothing was created
	}
	start := time.Now()
	t.image, err = FiredrillImage(ctx, ImageSource{Image: t.cfg.Image, Binary: t.opts.Binary, ModuleDir: t.cfg.ModuleDir,
		Progress: t.cfg.Progress,
		Status:   func(line string) { t.event(record.Event{Kind: EvImageBuild, Message: line}) },
	})
	if err != nil {
		return nil, fmt.Errorf("the firedrill image: %w", err)
	}
	t.event(record.Event{Kind: EvImageReady, Target: t.image, Message: fmt.Sprintf("%s ready in %s", t.image, time.Since(start).Round(time.Millisecond))})
	if err := t.prepareLogs(); err != nil {
		return nil, err
	}
	if err := t.createNetwork(ctx); err != nil {
		return nil, err
	}
	// The reaper and the data plane start together (each sets only its own
	// fields).
	var reaperErr, dpErr error
	var wg sync.WaitGroup
	wg.Go(func() { reaperErr = t.startReaper(ctx) })
	wg.Go(func() { dpErr = t.startDataplane(ctx, services) })
	wg.Wait()
	if err := errors.Join(reaperErr, dpErr); err != nil {
		return nil, err
	}
	t.watchEvents()
	return t.dp, nil
}

// containerSpecs resolves each service's ContainerSpec and fails with a
// *MissingImageError when an image is not on the daemon.
func (t *run) containerSpecs(ctx context.Context, services []*cluster.Service) error {
	for _, s := range services {
		spec := s.Spec
		var cs ContainerSpec
		if t.cfg.Spec != nil {
			cs = t.cfg.Spec(spec)
		}
		switch {
		case spec.Image != "":
			if err := checkImages(ctx, t.c, []string{spec.Image}); err != nil {
				return err
			}
			if cs.Port == 0 {
				cs.Port = t.exposedPort(ctx, spec.Image)
			}
		case spec.Fixture != "":
			cs.Port = DefaultPort
		default:
			return fmt.Errorf("service %s has neither fixture nor image; the docker runtime cannot run a host command: give it an image, or use runtime: local", spec.Name)
		}
		t.specs[spec.Name] = cs
	}
	return nil
}

// exposedPort is an image's only EXPOSEd TCP port, or DefaultPort.
func (t *run) exposedPort(ctx context.Context, image string) int {
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
func (t *run) prepareLogs() error {
	if t.opts.RunDir == "" {
		return nil
	}
	t.logDir = filepath.Join(t.opts.RunDir, "logs")
	if err := os.MkdirAll(t.logDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w; check that the output directory is writable", t.logDir, err)
	}
	return nil
}

func (t *run) createNetwork(ctx context.Context) error {
	labels := RunLabels(t.opts.RunID, t.sc.Name, "network")
	res, err := t.c.NetworkCreate(ctx, t.netName, client.NetworkCreateOptions{Driver: "bridge", Labels: labels})
	t.noteCut(ctx, err)
	if err != nil {
		return fmt.Errorf("create network %s: %w", t.netName, err)
	}
	t.netID = res.ID
	return nil
}

// startReaper starts the reaper container and holds its heartbeat.
func (t *run) startReaper(ctx context.Context) error {
	if t.cfg.NoReaper {
		return nil
	}
	sock := dockerSocket(ctx, t.c)
	if sock == "" {
		t.event(record.Event{Kind: EvReaperLost, Message: fmt.Sprintf("no reaper: the Docker daemon at %s is not a unix socket; a killed harness leaves its containers until `firedrill clean`", t.c.DaemonHost())})
		return nil
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
		stop := context.AfterFunc(t.life, func() { _ = t.reaper.conn.SetReadDeadline(time.Now()) })
		defer stop()
		_, _ = io.Copy(io.Discard, t.reaper.conn)
		if t.life.Err() == nil {
			t.event(record.Event{Kind: EvReaperLost, Message: "the reaper container went away: a killed harness would leave its containers until `firedrill clean`"})
		}
	})
	return nil
}

// startDataplane starts the data plane container and its poll loop.
func (t *run) startDataplane(ctx context.Context, services []*cluster.Service) error {
	publish := []int{controlPort, toxiproxyPort}
	for _, s := range services {
		publish = append(publish, routerPort(s))
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
	urls, ports := map[string]string{}, map[string]int{}
	for _, s := range services {
		a, err := hostAddr(ctx, ctr, routerPort(s))
		if err != nil {
			return err
		}
		urls[s.Name()], ports[s.Name()] = "http://"+a, routerPort(s)
	}
	t.dp = newDPClient("http://"+ctl, t.opts.Recorder, t.opts.Events)
	t.dp.wire(t.sc, "http://"+tx, urls, ports)
	t.bg.Go(func() { t.dp.pollLoop(t.life) })
	return nil
}

// routerPort is where a service's router listens inside the data plane.
func routerPort(s *cluster.Service) int { return routerBasePort + s.Index }

// Close removes what the run created, after the instances: the data plane
// (its log saved), the reaper, whatever a failed Up created half-way, and
// the network, all found by the run's label.
func (t *run) Close(ctx context.Context) error {
	if t.c == nil {
		return nil // Prepare failed before it reached Docker: nothing was created
	}
	t.bg.Wait() // the topology's life is over: its loops end
	if t.dpCtr != nil {
		t.saveLog(ctx, "dataplane", t.dpCtr.GetContainerID())
	}
	err := t.sweep(ctx)
	t.reaper.close()
	_ = t.c.Close()
	return err
}

// Instance makes (does not start) one instance: its container's name,
// alias, command and environment.
func (t *run) Instance(s *cluster.Service, d topology.Deployment, index int) (cluster.Instance, error) {
	name := fmt.Sprintf("%s-%s-%d", s.Name(), d.Version, index)
	alias := dnsName(name)
	if alias == "" {
		alias = "i" + strconv.Itoa(index)
	}
	dbs := map[string]bool{}
	for _, dep := range s.Spec.DependsOn {
		dbs[dep] = t.sc.Database(dep) != nil
	}
	cs := t.specs[s.Name()]
	ls, err := launch(s.Spec, cs, d, t.opts.RunID, name, t.image, s.Deps, dbs)
	if err != nil {
		return nil, fmt.Errorf("service %s: instance %s: %w", s.Name(), name, err)
	}
	if _, own := ls.Env[cluster.SeedEnv]; s.Spec.Fixture != "" && !own { // the run's seed, as on the local runtime
		ls.Env[cluster.SeedEnv] = strconv.FormatInt(cluster.InstanceSeed(t.sc.Seed, name), 10)
	}
	in := &instance{
		t: t, svc: s, cs: cs, service: s.Name(), version: d.Version, index: index, name: name,
		alias: alias, addr: fmt.Sprintf("%s:%d", alias, ls.Port), ls: ls,
		op: cluster.NewOpLock(), died: make(chan struct{}),
	}
	t.mu.Lock()
	t.byName[containerName(t.opts.RunID, alias)] = in
	t.mu.Unlock()
	return in, nil
}
