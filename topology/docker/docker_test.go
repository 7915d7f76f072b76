package docker

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/moby/moby/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/faults"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/cluster"
)

func TestEnsureImageIsCachedByContent(t *testing.T) {
	requireDocker(t)
	ctx := context.Background()
	var lines []string
	tag, err := EnsureImage(ctx, staticBin, func(l string) { lines = append(lines, l) })
	require.NoError(t, err)
	assert.Equal(t, fdImage, tag)
	want, err := ImageTag(staticBin)
	require.NoError(t, err)
	assert.Equal(t, want, tag)
	assert.Equal(t, []string{"image " + tag + " is up to date"}, lines, "a second call builds nothing")

	c, err := Client(ctx)
	require.NoError(t, err)
	defer c.Close()
	img, err := c.ImageInspect(ctx, tag)
	require.NoError(t, err)
	assert.Equal(t, "1", img.Config.Labels[LabelImage])
	assert.Equal(t, []string{"/firedrill"}, img.Config.Entrypoint)
}

// A missing image fails Up before anything is created, with the exact text
// users see (exit 3 through firedrill.Run).
func TestMissingImageFailsBeforeAnythingStarts(t *testing.T) {
	requireDocker(t)
	sc := twoTier("missing")
	sc.Services[1] = &scenarios.Service{Name: "back", Image: "firedrill-test-missing:nope", Version: "v1"}
	runID := newRunID()
	rt := NewWithConfig(Config{Image: fdImage})
	_, err := rt.Up(context.Background(), sc, topology.Options{RunID: runID})
	require.Error(t, err)
	var missing *MissingImageError
	require.True(t, errors.As(err, &missing), "%v", err)
	assert.Contains(t, err.Error(), "image firedrill-test-missing:nope is not present locally and cannot be pulled here: build it or `docker load` it")
	require.NoError(t, rt.Down(context.Background()))
	requireNothingLeft(t, LabelRun+"="+runID)
}

func TestTopologyOnDocker(t *testing.T) {
	tp, events, rec := upTopology(t, twoTier("topo"))
	c := httpClient(t, 10*time.Second)
	ctx := context.Background()
	require.Equal(t, tp.RouterURL("front"), tp.EntryURL())
	assert.Equal(t, map[string]int{"v1": 100}, tp.Weights("back"))
	assert.Equal(t, 200, status(c, tp.EntryURL()+"/"))

	// The edge proxy is driven through the stock Toxiproxy client.
	cl := toxiclient.NewClient(tp.ToxiproxyURL())
	p, err := cl.Proxy(tp.ProxyName(scenarios.Edge{From: "front", To: "back"}))
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(p.Listen, ":20000"), p.Listen)
	back := instancesOf(tp, "back")[0]
	assert.Contains(t, instancesOf(tp, "front")[0].ls.Cmd, "back=dataplane:20000", "front knows only its proxy")
	assert.Equal(t, "back-v1-0:8080", back.Addr())
	assert.Equal(t, 200, status(c, "http://"+back.HostAddr()+"/healthz"), "the instance port is published on loopback")

	// Hop samples come back from the data plane with their names.
	require.Eventually(t, func() bool {
		return len(rec.Select(record.Filter{Source: record.Hop, Service: "back", Version: "v1"})) > 0
	}, 5*time.Second, 50*time.Millisecond)

	// Deploy a second version (weight 0), shift traffic, retire it.
	require.NoError(t, tp.Deploy(ctx, "back", topology.Deployment{Version: "v2", Replicas: 1}))
	require.Len(t, tp.Instances("back", "v2"), 1)
	require.NoError(t, tp.SetWeights(ctx, "back", map[string]int{"v1": 0, "v2": 100}))
	require.Equal(t, 200, status(c, tp.RouterURL("back")+"/"))
	require.Eventually(t, func() bool {
		return len(rec.Select(record.Filter{Source: record.Hop, Service: "back", Version: "v2"})) > 0
	}, 5*time.Second, 50*time.Millisecond, "v2 served and its hop samples arrived")
	require.NoError(t, tp.SetWeights(ctx, "back", map[string]int{"v1": 100}))
	stop, err := tp.StartSynthetic(ctx, "back", "v2", 20, []string{"/"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return len(rec.Select(record.Filter{Source: record.Shadow, Service: "back", Version: "v2"})) > 0
	}, 10*time.Second, 50*time.Millisecond, "synthetic traffic to v2 comes back as shadow samples")
	stop()
	require.NoError(t, tp.SetFlag(ctx, "back", "v2", "new-checkout", true), "through the published port")
	require.NoError(t, tp.RetireInstances(ctx, "back", "v2", 1))
	assert.Empty(t, tp.Instances("back", "v2"))
	e := findEvent(t, events, record.EvInstanceStopped, "back-v2-0", time.Time{})
	assert.Equal(t, cluster.ReasonRetired, e.Fields["reason"])
}

// injectFault builds a fault through faults.New (so the container kinds are
// exercised through the registry) and injects it.
func injectFault(t *testing.T, tp *cluster.Cluster, f *scenarios.Fault) func(context.Context) error {
	t.Helper()
	inj, err := faults.New(f, faults.Env{Instances: tp.Instances, DefaultVersion: func(string) string { return "v1" }})
	require.NoError(t, err)
	revert, err := inj.Inject(context.Background())
	require.NoError(t, err)
	return revert
}

// probe sends a request to url every 50 ms until stop and records
// statuses.
type probe struct {
	mu    sync.Mutex
	codes []int
}

func (p *probe) run(ctx context.Context, c *http.Client, url string) {
	for ctx.Err() == nil {
		code := status(c, url)
		p.mu.Lock()
		p.codes = append(p.codes, code)
		p.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (p *probe) since(i int) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.codes[i:]...)
}

func (p *probe) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.codes)
}

func failures(codes []int) int {
	n := 0
	for _, c := range codes {
		if c != http.StatusOK {
			n++
		}
	}
	return n
}

// healthyRun waits until the last n probes all succeeded.
func healthyRun(t *testing.T, p *probe, n int, within time.Duration, msg string) {
	t.Helper()
	require.Eventually(t, func() bool {
		l := p.len()
		return l >= n && failures(p.since(l-n)) == 0
	}, within, 50*time.Millisecond, msg)
}

func TestPartitionCutsAnInstanceOffAndHeals(t *testing.T) {
	tp, events, _ := upTopology(t, twoTier("partition"))
	c := httpClient(t, 5*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	var p probe
	var wg sync.WaitGroup
	wg.Go(func() { p.run(ctx, c, tp.EntryURL()+"/") })
	t.Cleanup(func() { cancel(); wg.Wait() })
	healthyRun(t, &p, 5, 20*time.Second, "front -> back works before the cut")

	cut := time.Now()
	mark := p.len()
	revert := injectFault(t, tp, &scenarios.Fault{Name: "cut-back", Kind: faults.KindPartition, Service: "back"})
	findEvent(t, events, EvInstancePartitioned, "back-v1-0", cut)
	require.Eventually(t, func() bool { return failures(p.since(mark)) >= 3 }, 20*time.Second, 50*time.Millisecond,
		"requests across the cut fail")
	findEvent(t, events, record.EvInstanceUnhealthy, "back-v1-0", cut)

	healed := time.Now()
	require.NoError(t, revert(context.Background()))
	findEvent(t, events, EvInstanceReconnected, "back-v1-0", healed)
	findEvent(t, events, record.EvInstanceHealthy, "back-v1-0", healed)
	healthyRun(t, &p, 10, 30*time.Second, "requests succeed again after the partition heals")
	assert.Equal(t, "back-v1-0:8080", instancesOf(tp, "back")[0].Addr(), "same alias after reconnecting")
}

func TestKillStopRestartAndPause(t *testing.T) {
	tp, events, _ := upTopology(t, twoTier("kill"))
	c := httpClient(t, 5*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	var p probe
	var wg sync.WaitGroup
	wg.Go(func() { p.run(ctx, c, tp.EntryURL()+"/") })
	t.Cleanup(func() { cancel(); wg.Wait() })
	healthyRun(t, &p, 5, 20*time.Second, "works before the kill")
	back := instancesOf(tp, "back")[0]

	// kill: SIGKILL, down until the revert starts it again.
	at := time.Now()
	mark := p.len()
	revert := injectFault(t, tp, &scenarios.Fault{Name: "kill-back", Kind: scenarios.FaultKill, Service: "back"})
	e := findEvent(t, events, record.EvInstanceStopped, "back-v1-0", at)
	assert.Equal(t, cluster.ReasonKilled, e.Fields["reason"])
	assert.Equal(t, 137, e.Fields["exit_code"], "SIGKILL")
	findEvent(t, events, record.EvInstanceUnhealthy, "back-v1-0", at)
	require.Eventually(t, func() bool { return failures(p.since(mark)) >= 3 }, 20*time.Second, 50*time.Millisecond, "requests fail while back is down")
	st, err := back.state(context.Background())
	require.NoError(t, err)
	assert.False(t, st.Running)
	at = time.Now()
	require.NoError(t, revert(context.Background()))
	findEvent(t, events, record.EvInstanceHealthy, "back-v1-0", at)
	healthyRun(t, &p, 10, 30*time.Second, "requests succeed after the restart")
	_, exited := events.Find(cluster.EvInstanceExited, "", time.Time{})
	assert.False(t, exited, "a kill by the harness is not an exit on its own")

	// stop (graceful) and its revert.
	at = time.Now()
	revert = injectFault(t, tp, &scenarios.Fault{Name: "stop-back", Kind: faults.KindStop, Service: "back"})
	e = findEvent(t, events, record.EvInstanceStopped, "back-v1-0", at)
	assert.Equal(t, cluster.ReasonStopped, e.Fields["reason"])
	// The router sees it down before it comes back: otherwise a fast
	// stop and start could fall between two health checks, and no new
	// healthy event would follow.
	findEvent(t, events, record.EvInstanceUnhealthy, "back-v1-0", at)
	at = time.Now()
	require.NoError(t, revert(context.Background()))
	findEvent(t, events, record.EvInstanceHealthy, "back-v1-0", at)

	// restart: nothing to revert.
	at = time.Now()
	revert = injectFault(t, tp, &scenarios.Fault{Name: "restart-back", Kind: faults.KindRestart, Service: "back"})
	require.NoError(t, revert(context.Background()))
	e = findEvent(t, events, record.EvInstanceStopped, "back-v1-0", at)
	assert.Equal(t, cluster.ReasonRestart, e.Fields["reason"])
	findEvent(t, events, record.EvInstanceStarted, "back-v1-0", at)
	healthyRun(t, &p, 10, 30*time.Second, "requests succeed after stop/start and restart")

	// pause: the router's health check times out; resume brings it back.
	at = time.Now()
	revert = injectFault(t, tp, &scenarios.Fault{Name: "pause-back", Kind: scenarios.FaultPause, Service: "back"})
	findEvent(t, events, record.EvInstanceUnhealthy, "back-v1-0", at)
	require.NoError(t, revert(context.Background()))
	findEvent(t, events, record.EvInstanceHealthy, "back-v1-0", at)

	// An instance that dies on its own is reported as such.
	at = time.Now()
	_, err = runOf(tp).c.ContainerKill(context.Background(), back.ContainerID(), client.ContainerKillOptions{Signal: "SIGKILL"})
	require.NoError(t, err)
	e = findEvent(t, events, cluster.EvInstanceExited, "back-v1-0", at)
	assert.Equal(t, "137", e.Fields["exit_code"])
}

// The reaper removes a run whose harness is gone (here: its heartbeat
// closed without Down).
func TestReaperRemovesARunWhoseHarnessIsGone(t *testing.T) {
	requireDocker(t)
	runID := newRunID()
	t.Cleanup(func() { removeLabelled(t, LabelRun+"="+runID) })
	rt := NewWithConfig(Config{Image: fdImage, ReaperGrace: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	tpi, err := rt.Up(ctx, twoTier("reaper"), topology.Options{RunID: runID})
	require.NoError(t, err)
	tp := tpi.(*cluster.Cluster)
	cts, nets := labelled(t, LabelRun+"="+runID)
	require.Len(t, cts, 4, "reaper, data plane, two instances")
	require.Len(t, nets, 1)

	// As if the harness died: its heartbeat closes and no Down follows.
	runOf(tp).reaper.close()
	require.Eventually(t, func() bool {
		cts, nets := labelled(t, LabelRun+"="+runID)
		return len(cts)+len(nets) == 0
	}, 30*time.Second, 200*time.Millisecond, "the reaper removed the run's containers, network and itself")
	// Down after the reaper finds nothing to remove, and no fault in that.
	require.NoError(t, rt.Down(context.Background()))
}

func TestCleanRemovesRunsWithoutALiveHarness(t *testing.T) {
	requireDocker(t)
	ctx := context.Background()
	c, err := Client(ctx)
	require.NoError(t, err)
	defer c.Close()
	dead, live := newRunID(), newRunID()
	t.Cleanup(func() {
		removeLabelled(t, LabelRun+"="+dead)
		removeLabelled(t, LabelRun+"="+live)
	})
	deadLabels := RunLabels(dead, "clean", "network")
	deadLabels[LabelPID] = "999999999" // no such process
	_, err = c.NetworkCreate(ctx, "firedrill-"+dead, client.NetworkCreateOptions{Driver: "bridge", Labels: deadLabels})
	require.NoError(t, err)
	_, err = c.NetworkCreate(ctx, "firedrill-"+live, client.NetworkCreateOptions{Driver: "bridge", Labels: RunLabels(live, "clean", "network")})
	require.NoError(t, err)

	left, err := FindLeftovers(ctx)
	require.NoError(t, err)
	var runs []string
	for _, l := range left {
		runs = append(runs, l.RunID)
	}
	assert.Contains(t, runs, dead)
	assert.NotContains(t, runs, live, "this process is alive: its run is live")

	removed, err := RemoveLeftovers(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, removed)
	_, nets := labelled(t, LabelRun+"="+dead)
	assert.Empty(t, nets)
	_, nets = labelled(t, LabelRun+"="+live)
	assert.Len(t, nets, 1)
}

// An `image:` service: the firedrill image standing in for "your own image",
// with a templated command, its own port, a start-up log line and exec, and
// the router's TCP check.
func TestImageService(t *testing.T) {
	requireDocker(t)
	sc := &scenarios.Scenario{Name: "image", Seed: 5, Services: []*scenarios.Service{{
		Name: "api", Image: fdImage, Replicas: 1, Version: "v1",
		Command: []string{"fixture", "httpsvc", "--host", "{{.Host}}", "--port", "{{.Port}}", "--service", "{{.Service}}", "--instance", "{{.Instance}}"},
		Health:  scenarios.Health{TCP: true, Interval: scenarios.Duration(200 * time.Millisecond), Timeout: scenarios.Duration(time.Second), UnhealthyAfter: 2, HealthyAfter: 1},
	}}, Traffic: scenarios.Traffic{Entry: "api"}}
	runID := newRunID()
	rt := NewWithConfig(Config{Image: fdImage, Spec: func(s *scenarios.Service) ContainerSpec {
		return ContainerSpec{Port: 9090, StartupLog: "listening on", StartupExec: []string{"/firedrill", "--help"}}
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	tpi, err := rt.Up(ctx, sc, topology.Options{RunID: runID})
	t.Cleanup(func() {
		require.NoError(t, rt.Down(context.Background()))
		requireNothingLeft(t, LabelRun+"="+runID)
	})
	require.NoError(t, err)
	tp := tpi.(*cluster.Cluster)
	in := instancesOf(tp, "api")[0]
	assert.Equal(t, "api-v1-0:9090", in.Addr())
	assert.Equal(t, "9090", in.ls.Env["PORT"])
	c := httpClient(t, 5*time.Second)
	resp, err := c.Get(tp.EntryURL() + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "api-v1-0", resp.Header.Get("X-Firedrill-Backend"))
}

// An instance whose container exits at once fails Up with that cause and
// its log, without waiting for start_timeout; nothing is left.
func TestInstanceThatExitsFailsUp(t *testing.T) {
	requireDocker(t)
	sc := &scenarios.Scenario{Name: "exits", Services: []*scenarios.Service{{
		Name: "api", Image: fdImage, Replicas: 1, Version: "v1", Command: []string{"no-such-command"},
		Health:       scenarios.Health{TCP: true, Interval: scenarios.Duration(200 * time.Millisecond)},
		StartTimeout: scenarios.Duration(5 * time.Minute),
	}}}
	runID := newRunID()
	rt := NewWithConfig(Config{Image: fdImage})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := rt.Up(ctx, sc, topology.Options{RunID: runID})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited before it became healthy")
	assert.Contains(t, err.Error(), `unknown command "no-such-command"`, "the end of its log")
	require.NoError(t, rt.Down(context.Background()))
	requireNothingLeft(t, LabelRun+"="+runID)
}

// Down while Up is still creating containers (Ctrl-C during start-up): Up
// stops with an error, and nothing of the run is left.
func TestDownDuringUp(t *testing.T) {
	requireDocker(t)
	runID := newRunID()
	rt := NewWithConfig(Config{Image: fdImage})
	upErr := make(chan error, 1)
	go func() {
		_, err := rt.Up(context.Background(), twoTier("interrupted"), topology.Options{RunID: runID})
		upErr <- err
	}()
	require.Eventually(t, func() bool {
		cts, _ := labelled(t, LabelRun+"="+runID)
		return len(cts) >= 1
	}, 60*time.Second, 20*time.Millisecond, "Up never created a container")
	require.NoError(t, rt.Down(context.Background()))
	select {
	case err := <-upErr:
		require.Error(t, err, "Up cannot succeed once Down ran")
	case <-time.After(60 * time.Second):
		t.Fatal("Up did not return after Down")
	}
	require.NoError(t, rt.Down(context.Background()), "Down is idempotent")
	requireNothingLeft(t, LabelRun+"="+runID)
}
