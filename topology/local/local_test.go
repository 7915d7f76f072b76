package local

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/cluster"
)

func twoServices() *scenarios.Scenario {
	return &scenarios.Scenario{Name: "t", Seed: 7, Services: []*scenarios.Service{
		echoService("a", "v1", 1, "b"), // file order is not start order
		echoService("b", "v1", 2),
	}, Traffic: scenarios.Traffic{Entry: "a"}}
}

func TestTopologyLifecycle(t *testing.T) {
	rt, tp, events, runID := upTopology(t, twoServices())
	c := httpClient(t)
	ctx := context.Background()
	bRouter := strings.TrimPrefix(tp.RouterURL("b"), "http://")
	require.Equal(t, tp.RouterURL("a"), tp.EntryURL())
	require.Equal(t, map[string]int{"v1": 100}, tp.Weights("b"))

	cl := toxiclient.NewClient(tp.ToxiproxyURL())
	edge := scenarios.Edge{From: "a", To: "b"}
	require.Equal(t, "a__b", tp.ProxyName(edge))

	t.Run("a reaches b through the edge proxy", func(t *testing.T) {
		r := get(t, c, tp.EntryURL()+"/call")
		require.Equal(t, 200, r.status, r.body)
		assert.Regexp(t, `^v1 a-v1-0 dep=v1/b-v1-[01]\n$`, r.body)

		proxies, err := cl.Proxies()
		require.NoError(t, err)
		require.Contains(t, proxies, "a__b")
		p := proxies["a__b"]
		assert.Equal(t, bRouter, p.Upstream, "the edge proxy forwards to b's router")
		// a was given the proxy's address, never b's router or instances.
		a := tp.Instances("a", "v1")[0].(*instance)
		assert.Contains(t, a.argv, p.Listen)
		assert.NotContains(t, strings.Join(a.argv, " "), bRouter)
	})

	t.Run("the generator's dial reaches the entry router in memory", func(t *testing.T) {
		var ed topology.EntryDialer = tp // what rehearsal asks the topology
		dial := ed.EntryDial()
		require.NotNil(t, dial, "the local runtime's routers run in this process")
		mc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				c, err := dial(ctx)
				if _, tcp := c.(*net.TCPConn); err == nil && tcp {
					t.Error("the entry dial went over TCP")
				}
				return c, err
			}}}
		defer mc.CloseIdleConnections()
		r := get(t, mc, tp.EntryURL()+"/call")
		require.Equal(t, 200, r.status, r.body)
		assert.Regexp(t, `^v1 a-v1-0 dep=v1/b-v1-[01]\n$`, r.body)
	})

	t.Run("a latency toxic on the edge delays a's calls", func(t *testing.T) {
		p, err := cl.Proxy("a__b")
		require.NoError(t, err)
		const delay = 400 * time.Millisecond
		_, err = p.AddToxic("lat", "latency", "downstream", 1, toxiclient.Attributes{"latency": delay.Milliseconds()})
		require.NoError(t, err)
		start := time.Now()
		r := get(t, c, tp.EntryURL()+"/call")
		took := time.Since(start)
		require.Equal(t, 200, r.status, r.body)
		// The toxic holds b's answer for its latency: a causal lower bound.
		assert.GreaterOrEqual(t, took, delay)
		// A request that does not cross the edge is not delayed by it; no
		// bound on its time, only that it did not go through b.
		assert.NotContains(t, get(t, c, tp.EntryURL()+"/").body, "dep=")
		require.NoError(t, p.RemoveToxic("lat"))
		toxics, err := p.Toxics()
		require.NoError(t, err)
		assert.Empty(t, toxics)
	})

	t.Run("deploy v2, split 50/50, retire v2", func(t *testing.T) {
		err := tp.Deploy(ctx, "b", topology.Deployment{Version: "v2", Replicas: 1, Env: map[string]string{"ECHO_GREETING": "hello-{{.Version}}"}})
		require.NoError(t, err)
		v2 := tp.Instances("b", "v2")
		require.Len(t, v2, 1)
		require.Equal(t, "b-v2-0", v2[0].Name())
		assert.Equal(t, map[string]int{"v1": 100}, tp.Weights("b"), "a new version gets no traffic until told")
		for range 10 {
			assert.True(t, strings.HasPrefix(get(t, c, tp.RouterURL("b")+"/").body, "v1 "))
		}

		require.NoError(t, tp.SetWeights(ctx, "b", map[string]int{"v1": 50, "v2": 50}))
		assert.Equal(t, map[string]int{"v1": 50, "v2": 50}, tp.Weights("b"))
		seen := map[string]int{}
		// With 60 draws at 50/50 a version is missed with probability 2^-59.
		for range 60 {
			r := get(t, c, tp.RouterURL("b")+"/")
			require.Equal(t, 200, r.status)
			v := r.header.Get("X-Firedrill-Version")
			seen[v]++
			if v == "v2" {
				assert.Contains(t, r.body, "greeting=hello-v2", "the deployment's env reaches v2")
			} else {
				assert.Contains(t, r.body, "greeting=\n")
			}
		}
		assert.Positive(t, seen["v1"])
		assert.Positive(t, seen["v2"])

		require.NoError(t, tp.SetWeights(ctx, "b", map[string]int{"v1": 100}))
		pid := v2[0].(*instance).Pid()
		require.NotZero(t, pid)
		require.NoError(t, tp.Retire(ctx, "b", "v2"))
		assert.Empty(t, tp.Instances("b", "v2"))
		assert.Len(t, tp.Instances("b", ""), 2)
		assert.True(t, processGone(pid), "retired pid %d still runs", pid)
		ev := findEvent(t, events, record.EvInstanceStopped, "b-v2-0", time.Time{})
		assert.Equal(t, cluster.ReasonRetired, ev.Fields["reason"])
		require.Error(t, tp.Retire(ctx, "b", "v2"), "nothing left to retire")
	})

	t.Run("kill takes an instance out, start brings it back", func(t *testing.T) {
		in := tp.Instances("b", "v1")[0].(*instance)
		require.Equal(t, "b-v1-0", in.Name())
		oldPid := in.Pid()
		since := time.Now()
		require.NoError(t, in.Kill(ctx))
		assert.Zero(t, in.Pid())
		assert.True(t, processGone(oldPid))
		ev := findEvent(t, events, record.EvInstanceStopped, in.Name(), since)
		assert.Equal(t, cluster.ReasonKilled, ev.Fields["reason"])
		findEvent(t, events, record.EvInstanceUnhealthy, in.Name(), since)
		for range 6 {
			assert.Equal(t, "b-v1-1", get(t, c, tp.RouterURL("b")+"/").header.Get("X-Firedrill-Instance"))
		}

		since = time.Now()
		require.NoError(t, in.Start(ctx))
		assert.NotZero(t, in.Pid())
		findEvent(t, events, record.EvInstanceStarted, in.Name(), since)
		findEvent(t, events, record.EvInstanceHealthy, in.Name(), since)
		require.Eventually(t, func() bool {
			return get(t, c, tp.RouterURL("b")+"/").header.Get("X-Firedrill-Instance") == "b-v1-0"
		}, 10*time.Second, 10*time.Millisecond)
		assert.Equal(t, in.Addr(), "127.0.0.1:"+strconv.Itoa(in.port), "same port after a restart")
		logText, err := os.ReadFile(in.LogPath())
		require.NoError(t, err)
		assert.Equal(t, 2, strings.Count(string(logText), "=== firedrill"), "one log, appended across restarts")
		assert.Equal(t, 2, strings.Count(string(logText), "echosvc b-v1-0 listening"), "the child's output goes to its log")
	})

	t.Run("an instance dying on its own is recorded", func(t *testing.T) {
		in := tp.Instances("b", "v1")[1].(*instance)
		since := time.Now()
		require.NoError(t, syscall.Kill(in.Pid(), syscall.SIGKILL))
		ev := findEvent(t, events, cluster.EvInstanceExited, in.Name(), since)
		assert.Contains(t, ev.Message, "killed")
		findEvent(t, events, record.EvInstanceUnhealthy, in.Name(), since)
		since = time.Now()
		require.NoError(t, in.Restart(ctx), "restart of a dead instance starts it")
		findEvent(t, events, record.EvInstanceHealthy, in.Name(), since)
	})

	t.Run("pause stalls the instance until resume", func(t *testing.T) {
		in := tp.Instances("a", "v1")[0]
		require.NoError(t, in.Pause(ctx))
		done := make(chan reply, 1)
		go func() {
			resp, err := c.Get(tp.EntryURL() + "/")
			if err != nil {
				done <- reply{status: -1, body: err.Error()}
				return
			}
			resp.Body.Close()
			done <- reply{status: resp.StatusCode}
		}()
		select {
		case r := <-done:
			t.Fatalf("a paused instance answered: %+v", r)
		case <-time.After(500 * time.Millisecond):
		}
		require.NoError(t, in.Resume(ctx))
		select {
		case r := <-done:
			assert.Equal(t, 200, r.status, r.body)
		case <-time.After(15 * time.Second):
			t.Fatal("no answer after Resume")
		}
	})

	t.Run("down stops everything", func(t *testing.T) {
		var pids []int
		addrs := []string{
			strings.TrimPrefix(tp.RouterURL("a"), "http://"), bRouter,
			strings.TrimPrefix(tp.ToxiproxyURL(), "http://"),
		}
		p, err := cl.Proxy("a__b")
		require.NoError(t, err)
		addrs = append(addrs, p.Listen)
		all := append(tp.Instances("a", ""), tp.Instances("b", "")...)
		for _, in := range all {
			pids = append(pids, in.(*instance).Pid())
			addrs = append(addrs, in.Addr())
		}
		c.CloseIdleConnections()

		require.NoError(t, rt.Down(ctx))
		for _, pid := range pids {
			assert.True(t, processGone(pid), "pid %d survived Down", pid)
		}
		assert.Empty(t, pidsOfRun(runID))
		for _, a := range addrs {
			assert.True(t, dialFails(a), "%s still listens after Down", a)
		}
		for _, in := range all {
			assert.Eventually(t, func() bool {
				for _, e := range events.Events() {
					if e.Kind == record.EvInstanceStopped && e.Target == in.Name() && e.Fields["reason"] == cluster.ReasonDown {
						return true
					}
				}
				return false
			}, 10*time.Second, 10*time.Millisecond, "no instance_stopped (down) for %s", in.Name())
		}
		require.NoError(t, rt.Down(ctx), "Down is idempotent")
		require.Error(t, all[0].Start(ctx), "a downed instance cannot start")
	})
}

func TestUpFailsFastWithLogTail(t *testing.T) {
	sc := &scenarios.Scenario{Name: "fail", Services: []*scenarios.Service{
		{Name: "a", Version: "v1", DependsOn: []string{"b"},
			Command: []string{"sh", "-c", "echo line-one; echo boom-marker-$FIREDRILL_INSTANCE >&2; exit 3"}},
		echoService("b", "v1", 1),
	}}
	rt := New()
	runID := newRunID()
	t.Cleanup(func() { _ = rt.Down(context.Background()); killRun(t, runID) })
	start := time.Now()
	_, err := rt.Up(context.Background(), sc, topology.Options{RunID: runID, RunDir: t.TempDir()})
	require.Error(t, err)
	// Fast means: not the 30 s default start timeout.
	assert.Less(t, time.Since(start), DefaultStartTimeout)
	assert.ErrorIs(t, err, ErrInfra)
	var ie *InfraError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "a-v1-0", ie.Instance)
	msg := err.Error()
	assert.Contains(t, msg, "boom-marker-a-v1-0")
	assert.Contains(t, msg, "line-one")
	assert.Contains(t, msg, "exit status 3")
	assert.Contains(t, msg, "command: sh -c")
	// b, started first, was stopped with everything else.
	assert.Empty(t, pidsOfRun(runID))
	require.NoError(t, rt.Down(context.Background()))
}

func TestUpFailsOnUnhealthyAndMissingCommand(t *testing.T) {
	cases := []struct {
		name string
		svc  *scenarios.Service
		want string
	}{
		{"never listens", &scenarios.Service{Name: "s", Version: "v1", Command: []string{"sleep", "30"},
			StartTimeout: scenarios.Duration(700 * time.Millisecond)}, "not healthy within 700ms"},
		{"no such program", &scenarios.Service{Name: "s", Version: "v1", Command: []string{"/nonexistent/firedrill-prog"}}, "check the command exists"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt := New()
			runID := newRunID()
			t.Cleanup(func() { _ = rt.Down(context.Background()); killRun(t, runID) })
			_, err := rt.Up(context.Background(), &scenarios.Scenario{Services: []*scenarios.Service{tc.svc}},
				topology.Options{RunID: runID, RunDir: t.TempDir()})
			require.ErrorIs(t, err, ErrInfra)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, pidsOfRun(runID))
		})
	}
}

func TestUpInterruptedByContext(t *testing.T) {
	rt := New()
	runID := newRunID()
	t.Cleanup(func() { _ = rt.Down(context.Background()); killRun(t, runID) })
	ctx, cancel := context.WithCancel(context.Background())
	svc := &scenarios.Service{Name: "s", Version: "v1", Command: []string{"sleep", "30"}}
	go func() { time.Sleep(300 * time.Millisecond); cancel() }()
	_, err := rt.Up(ctx, &scenarios.Scenario{Services: []*scenarios.Service{svc}}, topology.Options{RunID: runID, RunDir: t.TempDir()})
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, ErrInfra, "an interrupt is not an infrastructure failure")
	assert.Empty(t, pidsOfRun(runID))
}

func TestHarnessKilledTakesChildrenDown(t *testing.T) {
	runID := newRunID()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), harnessEnv+"=1", "ECHOSVC="+echosvcBin, "HARNESS_DIR="+t.TempDir(), "RUN_ID="+runID)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	var pids []int
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		for _, pid := range pids {
			if !processGone(pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		killRun(t, runID)
	})

	line, err := readLine(stdout, 60*time.Second)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(line, "PIDS "), "harness said: %s", line)
	for _, f := range strings.Fields(strings.TrimPrefix(line, "PIDS ")) {
		pid, err := strconv.Atoi(f)
		require.NoError(t, err)
		pids = append(pids, pid)
	}
	require.Len(t, pids, 3)
	for _, pid := range pids {
		require.False(t, processGone(pid), "pid %d not running before the harness dies", pid)
	}

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	require.Eventually(t, func() bool {
		for _, pid := range pids {
			if !processGone(pid) {
				return false
			}
		}
		return true
	}, 10*time.Second, 20*time.Millisecond, "children of a SIGKILLed harness survived (Pdeathsig)")
}

func TestUpTwiceRefused(t *testing.T) {
	rt, _, _, _ := upTopology(t, &scenarios.Scenario{Services: []*scenarios.Service{echoService("s", "v1", 1)}})
	_, err := rt.Up(context.Background(), &scenarios.Scenario{Services: []*scenarios.Service{echoService("s", "v1", 1)}}, topology.Options{})
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrInfra))
}

func TestDeployFailureLeavesNothingAndProgress(t *testing.T) {
	type step struct {
		service, instance string
		done, total       int
	}
	var mu sync.Mutex
	var steps []step
	rt := New()
	runID := newRunID()
	t.Cleanup(func() { _ = rt.Down(context.Background()); killRun(t, runID) })
	sc := &scenarios.Scenario{Services: []*scenarios.Service{echoService("s", "v1", 2)}}
	tp, err := rt.Up(context.Background(), sc, topology.Options{RunID: runID, RunDir: t.TempDir(),
		Progress: func(service, instance string, done, total int) {
			mu.Lock()
			steps = append(steps, step{service, instance, done, total})
			mu.Unlock()
		}})
	require.NoError(t, err)
	mu.Lock()
	require.Len(t, steps, 2)
	assert.ElementsMatch(t, []string{"s-v1-0", "s-v1-1"}, []string{steps[0].instance, steps[1].instance})
	assert.Equal(t, []int{1, 2}, []int{steps[0].done, steps[1].done})
	assert.Equal(t, 2, steps[1].total)
	mu.Unlock()

	// echosvc exits at once on an unknown flag.
	err = tp.Deploy(context.Background(), "s", topology.Deployment{Version: "v2", Replicas: 2, Args: []string{"--no-such-flag"}})
	require.ErrorIs(t, err, ErrInfra)
	assert.Contains(t, err.Error(), "no-such-flag")
	assert.Empty(t, tp.Instances("s", "v2"))
	assert.Len(t, pidsOfRun(runID), 2, "only v1 still runs")
	assert.Equal(t, map[string]int{"v1": 100}, tp.Weights("s"))
}

func TestDownDuringUpAndConcurrentDowns(t *testing.T) {
	rt := New()
	runID := newRunID()
	t.Cleanup(func() { _ = rt.Down(context.Background()); killRun(t, runID) })
	sc := &scenarios.Scenario{Services: []*scenarios.Service{
		echoService("b", "v1", 1),
		{Name: "a", Version: "v1", DependsOn: []string{"b"}, Command: []string{"sleep", "30"}}, // never healthy
	}}
	upErr := make(chan error, 1)
	go func() {
		_, err := rt.Up(context.Background(), sc, topology.Options{RunID: runID, RunDir: t.TempDir()})
		upErr <- err
	}()
	// Down as a signal handler would, while Up waits for a.
	require.Eventually(t, func() bool { return len(pidsOfRun(runID)) == 2 }, 20*time.Second, 10*time.Millisecond)
	var wg sync.WaitGroup
	downErrs := make([]error, 3)
	for i := range downErrs {
		wg.Go(func() { downErrs[i] = rt.Down(context.Background()) })
	}
	wg.Wait()
	for _, err := range downErrs {
		assert.NoError(t, err)
	}
	select {
	case err := <-upErr:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(20 * time.Second):
		t.Fatal("Up did not return after Down")
	}
	assert.Empty(t, pidsOfRun(runID))
}

func TestOneFailingReplicaFailsUpWithoutWaitingForTheOthers(t *testing.T) {
	const startTimeout = 20 * time.Second
	svc := &scenarios.Service{Name: "s", Version: "v1", Replicas: 2, StartTimeout: scenarios.Duration(startTimeout),
		Command: []string{"sh", "-c", `case "$FIREDRILL_INSTANCE" in *-0) exit 4;; *) exec sleep 30;; esac`}}
	rt := New()
	runID := newRunID()
	t.Cleanup(func() { _ = rt.Down(context.Background()); killRun(t, runID) })
	start := time.Now()
	_, err := rt.Up(context.Background(), &scenarios.Scenario{Services: []*scenarios.Service{svc}},
		topology.Options{RunID: runID, RunDir: t.TempDir()})
	require.ErrorIs(t, err, ErrInfra)
	assert.Contains(t, err.Error(), "exit status 4")
	// s-v1-1 never becomes healthy: waiting for it would take startTimeout.
	assert.Less(t, time.Since(start), startTimeout)
	assert.Empty(t, pidsOfRun(runID))
}
