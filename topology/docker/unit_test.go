package docker

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/router"
)

// The control API, in process: a real router in front of a real backend,
// driven through dpClient, its samples and events copied into a harness
// recorder and log.
func TestDataplaneControlAPI(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d := newDataplane(ctx)
	api := httptest.NewServer(d.handler())
	t.Cleanup(func() { api.Close(); cancel(); d.close() })

	var hits atomic.Int64
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return
		}
		if hits.Add(1)%4 == 0 {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(backend.Close)

	rec := record.NewRecorder(time.Now())
	events := record.NewLog(nil)
	c := newDPClient(api.URL, rec, events)
	t.Cleanup(c.close)
	h := scenarios.Health{HTTP: "/healthz", Interval: scenarios.Duration(50 * time.Millisecond)}

	addr, err := c.createRouter(ctx, "svc", "127.0.0.1:0", h, 1)
	require.NoError(t, err)
	_, err = c.createRouter(ctx, "svc", "127.0.0.1:0", h, 1)
	require.ErrorContains(t, err, "has one already")
	require.ErrorContains(t, c.AddBackend(ctx, "nope", router.Backend{Name: "x", Addr: "y:1"}), "no router for service")

	be := strings.TrimPrefix(backend.URL, "http://")
	require.NoError(t, c.AddBackend(ctx, "svc", router.Backend{Name: "svc-v1-0", Version: "v1", Addr: be}))
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	require.NoError(t, c.WaitHealthy(wctx, "svc", "svc-v1-0"))
	wcancel()
	require.ErrorContains(t, c.SetWeights(ctx, "svc", map[string]int{"v1": 60}), "sum to 60")
	require.NoError(t, c.SetWeights(ctx, "svc", map[string]int{"v1": 100}))
	w, err := c.Weights(ctx, "svc")
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"v1": 100}, w)

	hc := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 5 * time.Second}
	t.Cleanup(hc.CloseIdleConnections)
	before := time.Now()
	codes := map[int]int{}
	for range 8 {
		resp, err := hc.Get("http://" + addr + "/")
		require.NoError(t, err)
		_ = resp.Body.Close()
		codes[resp.StatusCode]++
	}
	after := time.Now()
	assert.Equal(t, map[int]int{200: 6, 500: 2}, codes, "every 4th request fails")

	n, err := c.poll(ctx)
	require.NoError(t, err)
	require.Equal(t, 8, n)
	hops := rec.Select(record.Filter{Source: record.Hop, Service: "svc", Version: "v1"})
	require.Len(t, hops, 8)
	got := map[int]int{}
	for _, s := range hops {
		got[int(s.Status)]++
		at := s.Time(rec.Start())
		// The router's receive time, carried as Unix nanoseconds, lands
		// between the first send and the last reply on the harness's clock.
		assert.False(t, at.Before(before.Add(-time.Millisecond)), "sample at %v before the first send %v", at, before)
		assert.False(t, at.After(after), "sample at %v after the last reply %v", at, after)
		assert.Equal(t, "svc-v1-0", rec.Name(s.Instance))
	}
	assert.Equal(t, codes, got)
	// A second poll brings nothing new: the cursor moved.
	n, err = c.poll(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	_, ok := events.Find(record.EvInstanceHealthy, "svc", time.Time{})
	assert.True(t, ok, "the router's instance_healthy event is forwarded")

	// Mirroring and synthetic traffic come back as Shadow samples.
	require.NoError(t, c.AddBackend(ctx, "svc", router.Backend{Name: "svc-v2-0", Version: "v2", Addr: be}))
	wctx, wcancel = context.WithTimeout(ctx, 10*time.Second)
	require.NoError(t, c.WaitHealthy(wctx, "svc", "svc-v2-0"))
	wcancel()
	require.ErrorContains(t, c.SetMirror(ctx, "svc", "v2", 101), "percent")
	require.NoError(t, c.SetMirror(ctx, "svc", "v2", 100))
	resp, err := hc.Get("http://" + addr + "/")
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.NoError(t, c.SetMirror(ctx, "svc", "", 0))
	id, err := c.startSynthetic(ctx, "svc", "v2", 50, []string{"/"})
	require.NoError(t, err)
	shadow := func() int {
		return len(rec.Select(record.Filter{Source: record.Shadow, Service: "svc", Version: "v2"}))
	}
	require.Eventually(t, func() bool { _, _ = c.poll(ctx); return shadow() >= 3 }, 10*time.Second, 50*time.Millisecond,
		"the mirrored copy and synthetic requests arrive as Shadow samples of v2")
	require.NoError(t, c.stopSynthetic(ctx, id))
	require.ErrorContains(t, c.SetCohorts(ctx, "svc", router.Cohorts{Header: "X-User", Cookie: "u"}), "not both")
	require.NoError(t, c.SetCohorts(ctx, "svc", router.Cohorts{Header: "X-User", Order: []string{"v1"}}))
	_, err = c.removeBackend(ctx, "svc", "svc-v2-0", time.Second)
	require.NoError(t, err)
	assert.Len(t, rec.Select(record.Filter{Source: record.Hop, Service: "svc"}), 9, "shadow requests are not hop samples")

	bs, err := c.backends(ctx, "svc")
	require.NoError(t, err)
	require.Len(t, bs, 1)
	assert.True(t, bs[0].Healthy)
	note, err := c.removeBackend(ctx, "svc", "svc-v1-0", time.Second)
	require.NoError(t, err)
	assert.Empty(t, note)
	_, err = c.removeBackend(ctx, "svc", "svc-v1-0", time.Second)
	require.NoError(t, err, "removing twice is answered, not failed")
	resp, err = hc.Get("http://" + addr + "/")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

// Names the harness has not seen yet arrive with the first samples using
// them, across polls.
func TestPollNamesAcrossPolls(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d := newDataplane(ctx)
	api := httptest.NewServer(d.handler())
	t.Cleanup(func() { api.Close(); cancel(); d.close() })
	rec := record.NewRecorder(time.Unix(100, 0))
	c := newDPClient(api.URL, rec, nil)
	t.Cleanup(c.close)

	add := func(svc, ver, inst, caller string, at int64) {
		d.rec.Add(record.Sample{At: at, Status: 200, Source: record.Hop, LatencyUS: 1500,
			Service: d.rec.Intern(svc), Version: d.rec.Intern(ver), Instance: d.rec.Intern(inst), Caller: d.rec.Intern(caller)})
	}
	add("a", "v1", "a-v1-0", "", 101e9)
	_, err := c.poll(ctx)
	require.NoError(t, err)
	add("b", "v2", "b-v2-0", "a@v1", 102e9) // the caller's name is new in this poll
	add("a", "v1", "a-v1-0", "", 103e9)
	_, err = c.poll(ctx)
	require.NoError(t, err)

	var seen []string
	rec.Each(func(s record.Sample) {
		seen = append(seen, fmt.Sprintf("%s/%s/%s@%v/%v<-%q", rec.Name(s.Service), rec.Name(s.Version), rec.Name(s.Instance),
			time.Duration(s.At), s.Latency(), rec.Name(s.Caller)))
	})
	// At counts from the harness recorder's start (Unix 100 s).
	assert.Equal(t, []string{`a/v1/a-v1-0@1s/1.5ms<-""`, `b/v2/b-v2-0@2s/1.5ms<-"a@v1"`, `a/v1/a-v1-0@3s/1.5ms<-""`}, seen)
}

func reaperHarness(t *testing.T, cfg ReaperConfig) (addr string, reaped *atomic.Int32, done chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	reaped = new(atomic.Int32)
	cfg.listener = ln
	cfg.reap = func(context.Context) error { reaped.Add(1); return nil }
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() { done <- RunReaper(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("RunReaper did not return after its context ended")
		}
	})
	return ln.Addr().String(), reaped, done
}

func ask(t *testing.T, addr, line string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintln(c, line)
	reply, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(reply)
}

func TestReaperWaitsForADroppedHarnessThenReaps(t *testing.T) {
	addr, reaped, done := reaperHarness(t, ReaperConfig{RunID: "r1", Grace: 300 * time.Millisecond, FirstContact: time.Minute})
	ctx := context.Background()

	assert.Equal(t, reaperOrphan, ask(t, addr, "STATUS r1"), "no harness yet")
	assert.Equal(t, "ERR wrong run", ask(t, addr, "STATUS other"))

	hb, err := holdReaper(ctx, addr, "r1")
	require.NoError(t, err)
	assert.Equal(t, reaperLive, ask(t, addr, "STATUS r1"))

	// Dropped and back within the grace: nothing is removed.
	hb.close()
	hb, err = holdReaper(ctx, addr, "r1")
	require.NoError(t, err)
	time.Sleep(900 * time.Millisecond) // three graces
	assert.Zero(t, reaped.Load(), "a harness that came back keeps its run")
	assert.Equal(t, reaperLive, ask(t, addr, "STATUS r1"))

	// Dropped for good: removed once, and the reaper ends.
	hb.close()
	select {
	case err := <-done:
		require.NoError(t, err)
		done <- err // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("the reaper did not reap after the harness dropped")
	}
	assert.Equal(t, int32(1), reaped.Load())
}

func TestReaperReapsWhenNoHarnessEverComes(t *testing.T) {
	_, reaped, done := reaperHarness(t, ReaperConfig{RunID: "r2", Grace: time.Minute, FirstContact: 200 * time.Millisecond})
	select {
	case err := <-done:
		require.NoError(t, err)
		done <- err
	case <-time.After(10 * time.Second):
		t.Fatal("the reaper kept waiting for a harness that never came")
	}
	assert.Equal(t, int32(1), reaped.Load())
}

func TestHoldReaperGivesUpWithItsContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nobody listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = holdReaper(ctx, addr, "r3")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "connect to the reaper")
}

func TestLaunchSpec(t *testing.T) {
	deps := map[string]string{"back": "dataplane:20000", "db": "172.18.0.1:40001"}
	fixture := &scenarios.Service{Name: "front", Fixture: "httpsvc", Version: "v1", DependsOn: []string{"back", "db"},
		Env: map[string]string{"DEP_TIMEOUT": "1s", "SELF": "{{.Instance}}@{{.Host}}:{{.Port}}"}, Args: []string{"--retries", "2"}}
	ls, err := launch(fixture, ContainerSpec{Port: DefaultPort}, topology.Deployment{Version: "v2", Env: map[string]string{"ERROR_RATE": "0.3"}, Args: []string{"--seed", "4"}},
		"run1", "front-v2-0", "firedrill-local:abc", deps, map[string]bool{"db": true})
	require.NoError(t, err)
	assert.Equal(t, "firedrill-local:abc", ls.Image)
	assert.Equal(t, []string{"fixture", "httpsvc", "--host", "0.0.0.0", "--port", "8080", "--service", "front",
		"--version", "v2", "--instance", "front-v2-0", "--dep", "back=dataplane:20000", "--db", "172.18.0.1:40001", "--retries", "2", "--seed", "4"}, ls.Cmd,
		"a database is the fixture's --db (the harness's proxy to the primary), not a --dep")
	assert.Equal(t, map[string]string{
		"DEP_TIMEOUT": "1s", "SELF": "front-v2-0@0.0.0.0:8080", "ERROR_RATE": "0.3",
		"FIREDRILL_RUN_ID": "run1", "FIREDRILL_SERVICE": "front", "FIREDRILL_VERSION": "v2", "FIREDRILL_INSTANCE": "front-v2-0", "PORT": "8080",
	}, ls.Env)

	img := &scenarios.Service{Name: "api", Image: "acme/api:1", DependsOn: []string{"back"},
		Command: []string{"serve", "--listen", ":{{.Port}}", "--db", `{{depurl "back"}}`}}
	ls, err = launch(img, ContainerSpec{Port: 9000, Entrypoint: []string{"/bin/api"}}, topology.Deployment{Version: "v1"}, "run1", "api-v1-0", "fd", deps, nil)
	require.NoError(t, err)
	assert.Equal(t, "acme/api:1", ls.Image)
	assert.Equal(t, []string{"/bin/api"}, ls.Entrypoint)
	assert.Equal(t, []string{"serve", "--listen", ":9000", "--db", "http://dataplane:20000"}, ls.Cmd)

	img.Command = nil
	ls, err = launch(img, ContainerSpec{Port: 9000}, topology.Deployment{Version: "v1"}, "run1", "api-v1-0", "fd", deps, nil)
	require.NoError(t, err)
	assert.Nil(t, ls.Cmd, "no command: the image's own CMD")
	assert.Nil(t, ls.Entrypoint, "no entrypoint: the image's own (an empty one would clear it)")

	_, err = launch(&scenarios.Service{Name: "c", Command: []string{"x"}}, ContainerSpec{}, topology.Deployment{}, "r", "c-v1-0", "fd", nil, nil)
	require.ErrorContains(t, err, "runs only those")
	_, err = launch(&scenarios.Service{Name: "c", Image: "i", Args: []string{`{{dep "nope"}}`}}, ContainerSpec{}, topology.Deployment{}, "r", "c-v1-0", "fd", deps, nil)
	require.ErrorContains(t, err, "nope")
}

func TestNames(t *testing.T) {
	assert.Equal(t, "checkout-v1-2-0", dnsName("Checkout-v1.2-0"))
	assert.Equal(t, "a-b", dnsName("__a__b__"))
	assert.Equal(t, "firedrill-r1-a-v1-0", containerName("r1", "a-v1-0"))
}

func TestCheckStatic(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	require.ErrorContains(t, CheckStatic(exe), "test binary")
	if _, err := os.Stat("/bin/sh"); err == nil {
		if err := CheckStatic("/bin/sh"); err != nil {
			assert.Contains(t, err.Error(), "dynamically linked")
		}
	}
	require.ErrorContains(t, CheckStatic("unit_test.go"), "not a Linux executable")
	if staticBin != "" {
		require.NoError(t, CheckStatic(staticBin))
	}
}

func TestMissingImageErrorText(t *testing.T) {
	err := error(&MissingImageError{Image: "acme/api:1"})
	assert.Equal(t, "image acme/api:1 is not present locally and cannot be pulled here: build it or `docker load` it", err.Error())
}

func TestLineWriter(t *testing.T) {
	var lines []string
	w := &lineWriter{fn: func(s string) { lines = append(lines, s) }}
	_, _ = w.Write([]byte("Step 1/3 : FROM scratch\n\n ---> x"))
	_, _ = w.Write([]byte("yz\nlast"))
	w.Flush()
	assert.Equal(t, []string{"Step 1/3 : FROM scratch", "---> xyz", "last"}, lines)
}

func TestFindModule(t *testing.T) {
	wd, err := os.Getwd()
	require.NoError(t, err)
	mod, err := FindModule(wd)
	require.NoError(t, err)
	assert.FileExists(t, mod+"/go.mod")
	assert.True(t, strings.HasSuffix(wd, "/topology/docker"))
	_, err = FindModule(t.TempDir())
	require.ErrorContains(t, err, "no github.com/firedrill/firedrill module")
}

func TestRemoveStaleBuildDirs(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dead := filepath.Join(tmp, buildDirPrefix+"999999999-abc")
	mine := filepath.Join(tmp, buildDirPrefix+strconv.Itoa(os.Getpid())+"-def")
	other := filepath.Join(tmp, "firedrill-logs-1")
	for _, d := range []string{dead, mine, other} {
		require.NoError(t, os.MkdirAll(filepath.Join(d, "sub"), 0o755))
	}
	removed, err := RemoveStaleBuildDirs()
	require.NoError(t, err)
	assert.Equal(t, []string{dead}, removed)
	assert.NoDirExists(t, dead)
	assert.DirExists(t, mine, "a live builder keeps its directory")
	assert.DirExists(t, other)
}

// More samples than one reply holds: poll asks again until it has them all,
// in order, each once.
func TestPollCatchesUpInBatches(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d := newDataplane(ctx)
	api := httptest.NewServer(d.handler())
	t.Cleanup(func() { api.Close(); cancel(); d.close() })
	rec := record.NewRecorder(time.Unix(0, 0))
	c := newDPClient(api.URL, rec, nil)
	t.Cleanup(c.close)
	svc := d.rec.Intern("a")
	const n = maxPollSamples + 7
	for i := 0; i < n; i++ {
		d.rec.Add(record.Sample{At: int64(i), Status: 200, Source: record.Hop, Service: svc})
	}
	got, err := c.poll(ctx)
	require.NoError(t, err)
	assert.Equal(t, n, got)
	i := int64(0)
	rec.Each(func(s record.Sample) {
		assert.Equal(t, i, s.At)
		i++
	})
	assert.EqualValues(t, n, i)
	got, err = c.poll(ctx)
	require.NoError(t, err)
	assert.Zero(t, got, "nothing new")
}
