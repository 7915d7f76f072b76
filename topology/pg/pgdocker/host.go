package pgdocker

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/firedrill/firedrill/topology/docker"
	"github.com/firedrill/firedrill/topology/pg"
	"github.com/firedrill/firedrill/topology/proc"
)

// RoleDatabase is the firedrill.role label of the servers' containers and
// of their network.
const RoleDatabase = "database"

// LabelDatabase names the database (the cluster) a container serves.
const LabelDatabase = "firedrill.database"

// pgPort is where PostgreSQL listens inside its container.
const pgPort = 5432

// Options describe a Host.
type Options struct {
	// RunID labels every container and the network (firedrill.run), as the
	// docker runtime labels its own: its reaper and `firedrill clean` find
	// them by it. Required.
	RunID string
	// Scenario is the firedrill.scenario label.
	Scenario string
	// Image is a ready image tag; "" builds (or reuses) one with EnsureImage.
	Image string
	// Progress hears about the image (may be nil).
	Progress func(string)
}

// Host runs PostgreSQL servers as containers on a private bridge network
// of its own, firedrill-<run id>-pg. Each server's port is published on
// 127.0.0.1 (for the harness); the cluster's proxies listen on the
// network's gateway address, which the containers of this network, and
// those of the docker runtime's run network, reach (it is an address of
// this machine). Close removes every container and the network.
type Host struct {
	opts    Options
	c       *client.Client
	image   string
	netName string
	netID   string
	gateway string

	// ctx ends the exit waits and log followers on Close.
	ctx    context.Context
	cancel context.CancelFunc
	bg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	once     sync.Once
	closeErr error
}

var _ pg.Host = (*Host)(nil)

// New builds or reuses the image and creates the network. Close it when
// done, also when the clusters failed.
func New(ctx context.Context, opts Options) (*Host, error) {
	if opts.RunID == "" {
		return nil, errors.New("pgdocker: Options.RunID is required: it labels the containers for cleanup")
	}
	image := opts.Image
	if image == "" {
		var err error
		if image, err = EnsureImage(ctx, opts.Progress); err != nil {
			return nil, err
		}
	}
	c, err := docker.Client(ctx)
	if err != nil {
		return nil, err
	}
	// Databases start before the topology and its reaper: what a harness
	// SIGKILLed in that window left (labelled with a pid that no longer
	// runs) is swept here, as `firedrill clean` would, like the local
	// clusters' directories are by the next pg.Start.
	_, _ = docker.RemoveLeftovers(ctx)
	hctx, cancel := context.WithCancel(context.Background())
	h := &Host{opts: opts, c: c, image: image, netName: "firedrill-" + opts.RunID + "-pg", ctx: hctx, cancel: cancel}
	if err := h.createNetwork(ctx); err != nil {
		return nil, errors.Join(err, h.Close(context.WithoutCancel(ctx)))
	}
	return h, nil
}

func (h *Host) labels(extra map[string]string) map[string]string {
	l := docker.RunLabels(h.opts.RunID, h.opts.Scenario, RoleDatabase)
	for k, v := range extra {
		l[k] = v
	}
	return l
}

func (h *Host) createNetwork(ctx context.Context) error {
	res, err := h.c.NetworkCreate(ctx, h.netName, client.NetworkCreateOptions{Driver: "bridge", Labels: h.labels(nil)})
	if err != nil {
		return fmt.Errorf("create network %s: %w", h.netName, err)
	}
	h.netID = res.ID
	ins, err := h.c.NetworkInspect(ctx, res.ID, client.NetworkInspectOptions{})
	if err != nil {
		return fmt.Errorf("inspect network %s: %w", h.netName, err)
	}
	for _, cfg := range ins.Network.IPAM.Config {
		if cfg.Gateway.Is4() {
			h.gateway = cfg.Gateway.String()
			return nil
		}
	}
	return fmt.Errorf("network %s has no IPv4 gateway for the proxies to listen on", h.netName)
}

// ProxyIP is the network's gateway address.
func (h *Host) ProxyIP() string { return h.gateway }

// Network is the name of the servers' network.
func (h *Host) Network() string { return h.netName }

// Image is the image the servers run.
func (h *Host) Image() string { return h.image }

// Settings: the server listens on its container's interfaces (its port is
// published on 127.0.0.1 only).
func (h *Host) Settings() map[string]string {
	return map[string]string{"listen_addresses": "*"}
}

// NewServer creates the node's container (not started): its entry makes
// the data directory on the first start.
func (h *Host) NewServer(ctx context.Context, spec pg.ServerSpec) (pg.Server, error) {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("pgdocker: the host is closed: %w", context.Canceled)
	}
	port, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	s := &server{h: h, spec: spec, port: port, name: "firedrill-" + h.opts.RunID + "-" + spec.Name}
	env := []string{"FIREDRILL_RUN_ID=" + h.opts.RunID}
	if spec.Upstream != "" {
		env = append(env, "FIREDRILL_PG_UPSTREAM="+spec.Upstream)
	} else {
		env = append(env, "FIREDRILL_PG_CONF="+strings.Join(spec.Conf, "\n"))
	}
	p := network.MustParsePort(strconv.Itoa(pgPort) + "/tcp")
	res, err := h.c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: s.name,
		Config: &container.Config{
			Image: h.image, User: "postgres", Env: env,
			Cmd:          []string{"-c", "cluster_name=" + spec.Name},
			ExposedPorts: network.PortSet{p: struct{}{}},
			Labels:       h.labels(map[string]string{LabelDatabase: spec.Cluster, docker.LabelInstance: spec.Name}),
			// Fast shutdown, as SIGINT to a local postmaster.
			StopSignal: "SIGINT",
		},
		HostConfig: &container.HostConfig{
			NetworkMode: container.NetworkMode(h.netName),
			// A fixed host port: the same after docker kill and start.
			PortBindings: network.PortMap{p: {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: strconv.Itoa(port)}}},
		},
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			h.netName: {Aliases: []string{spec.Name}},
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("create container %s: %w", s.name, err)
	}
	s.id = res.ID
	return s, nil
}

// Close removes every server container of the run and the network. It is
// idempotent.
func (h *Host) Close(ctx context.Context) error {
	h.once.Do(func() {
		h.mu.Lock()
		h.closed = true
		h.mu.Unlock()
		h.closeErr = h.removeAll(ctx)
		h.cancel()
		h.bg.Wait()
		_ = h.c.Close()
	})
	return h.closeErr
}

// removeAll removes the containers labelled with the run and the database
// role (also those a cut-off create left behind), then the network.
func (h *Host) removeAll(ctx context.Context) error {
	f := client.Filters{}.Add("label", docker.LabelRun+"="+h.opts.RunID).Add("label", docker.LabelRole+"="+RoleDatabase)
	list, err := h.c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return fmt.Errorf("list the database containers of run %s: %w; run `firedrill clean`", h.opts.RunID, err)
	}
	var errs []error
	for _, ct := range list.Items {
		if err := docker.RemoveContainer(ctx, h.c, ct.ID); err != nil {
			errs = append(errs, err)
		}
	}
	if h.netID != "" {
		if _, err := h.c.NetworkRemove(ctx, h.netID, client.NetworkRemoveOptions{}); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove network %s: %w", h.netName, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w; run `firedrill clean`", err)
	}
	return nil
}

// server is one node's container.
type server struct {
	h    *Host
	spec pg.ServerSpec
	name string
	id   string
	port int
}

func (s *server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Fields go into the node's start event.
func (s *server) Fields() map[string]any {
	return map[string]any{"container": s.name, "image": s.h.image}
}

// Create: the container exists; its entry creates the data directory on
// the first start.
func (s *server) Create(context.Context) error { return nil }

func (s *server) Start(ctx context.Context) (*pg.Proc, error) {
	// Wait before starting, so that no exit can slip between.
	wctx, wcancel := context.WithCancel(s.h.ctx)
	wait := s.h.c.ContainerWait(wctx, s.id, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	since := time.Now()
	if _, err := s.h.c.ContainerStart(ctx, s.id, client.ContainerStartOptions{}); err != nil {
		wcancel()
		return nil, fmt.Errorf("start container %s: %w", s.name, err)
	}
	pid := 0
	if ins, err := s.h.c.ContainerInspect(ctx, s.id, client.ContainerInspectOptions{}); err == nil && ins.Container.State != nil {
		pid = ins.Container.State.Pid
	}
	p := pg.NewProc(pid)
	s.h.bg.Go(func() {
		defer wcancel()
		select {
		case r := <-wait.Result:
			state := "exit status " + strconv.FormatInt(r.StatusCode, 10)
			if r.StatusCode == 137 {
				state = "signal: killed"
			}
			if r.Error != nil && r.Error.Message != "" {
				state += " (" + r.Error.Message + ")"
			}
			p.Exit(state)
		case err := <-wait.Error:
			p.Exit("container gone: " + err.Error())
		}
	})
	s.h.bg.Go(func() { s.follow(since) })
	return p, nil
}

// follow copies the container's output since its start to the node's log
// until the container stops.
func (s *server) follow(since time.Time) {
	rc, err := s.h.c.ContainerLogs(s.h.ctx, s.id, client.ContainerLogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: true,
		Since: fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond()),
	})
	if err != nil {
		return
	}
	defer rc.Close()
	_, _ = stdcopy.StdCopy(s.spec.Log, s.spec.Log, rc)
}

func (s *server) Kill(ctx context.Context, p *pg.Proc) error {
	// Docker kills a paused container without thawing it first: a frozen
	// primary dies without serving another write (a fence), as locally.
	if _, err := s.h.c.ContainerKill(ctx, s.id, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil && !isNotRunning(err) {
		return fmt.Errorf("kill container %s: %w", s.name, err)
	}
	select {
	case <-p.Done():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("container %s not stopped after SIGKILL: %w", s.name, ctx.Err())
	}
}

func isNotRunning(err error) bool {
	return errdefs.IsNotFound(err) || errdefs.IsConflict(err) && strings.Contains(err.Error(), "is not running")
}

func (s *server) Interrupt(ctx context.Context, _ *pg.Proc) error {
	_, err := s.h.c.ContainerKill(ctx, s.id, client.ContainerKillOptions{Signal: "SIGINT"})
	if err != nil && !isNotRunning(err) {
		return fmt.Errorf("interrupt container %s: %w", s.name, err)
	}
	return nil
}

func (s *server) Pause(ctx context.Context, _ *pg.Proc) error {
	if _, err := s.h.c.ContainerPause(ctx, s.id, client.ContainerPauseOptions{}); err != nil {
		return fmt.Errorf("pause container %s: %w", s.name, err)
	}
	return nil
}

func (s *server) Resume(ctx context.Context, _ *pg.Proc) error {
	if _, err := s.h.c.ContainerUnpause(ctx, s.id, client.ContainerUnpauseOptions{}); err != nil {
		return fmt.Errorf("resume container %s: %w", s.name, err)
	}
	return nil
}

// Destroy removes the container, and the data directory in it.
func (s *server) Destroy(ctx context.Context) error { return docker.RemoveContainer(ctx, s.h.c, s.id) }
