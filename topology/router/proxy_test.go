package router

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

func TestHopSamples(t *testing.T) {
	h := newHarness(t, Config{Seed: 5})
	a, b, c := newInstance(t, "a", "v1"), newInstance(t, "b", "v1"), newInstance(t, "c", "v2")
	c.work.Store(http.StatusTeapot)
	h.add(a, b, c)
	require.NoError(t, h.r.SetWeights(map[string]int{"v1": 70, "v2": 30}))

	before := time.Since(h.rec.Start())
	by, codes := h.countBy(100)
	after := time.Since(h.rec.Start())
	assert.Equal(t, 100, codes[200]+codes[http.StatusTeapot])
	assert.Equal(t, by["c"], codes[http.StatusTeapot])

	samples := h.rec.Select(record.Filter{Source: record.Hop, Service: "svc"})
	require.Len(t, samples, 100)
	seen := map[string]int{}
	wantVersion := map[string]string{"a": "v1", "b": "v1", "c": "v2"}
	for _, s := range samples {
		inst := h.rec.Name(s.Instance)
		seen[inst]++
		assert.Equal(t, wantVersion[inst], h.rec.Name(s.Version), "instance %s", inst)
		assert.Equal(t, "svc", h.rec.Name(s.Service))
		assert.Equal(t, record.ErrNone, s.Err)
		if inst == "c" {
			assert.EqualValues(t, http.StatusTeapot, s.Status)
		} else {
			assert.EqualValues(t, http.StatusOK, s.Status)
		}
		assert.GreaterOrEqual(t, time.Duration(s.At), before)
		assert.LessOrEqual(t, time.Duration(s.At)+s.Latency(), after)
	}
	assert.Equal(t, by, seen)
}

// TestHopSamplesKeepTheCaller: the X-Firedrill-Caller header a fixture
// sends ends up in the hop sample, so skew between versions can be judged.
func TestHopSamplesKeepTheCaller(t *testing.T) {
	h := newHarness(t, Config{Seed: 5})
	h.add(newInstance(t, "a", "v2"))
	for _, caller := range []string{"gateway@v1", "", "gateway@v2", "gateway@v1"} {
		req, err := http.NewRequest(http.MethodGet, h.url+"/", nil)
		require.NoError(t, err)
		if caller != "" {
			req.Header.Set(HeaderCaller, caller)
		}
		resp, err := h.client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	var got []string
	for _, s := range h.rec.Select(record.Filter{Source: record.Hop, Service: "svc"}) {
		got = append(got, h.rec.Name(s.Caller)+">"+h.rec.Name(s.Version))
	}
	assert.Equal(t, []string{"gateway@v1>v2", ">v2", "gateway@v2>v2", "gateway@v1>v2"}, got)
}

// TestTransportErrors: the router answers 502 (no retry) and records the
// error kind. Each backend passes its first health check and is then
// broken; the next check is an hour away, so only the work request sees it.
func TestTransportErrors(t *testing.T) {
	slowHealth := fastHealth
	slowHealth.Interval = scenarios.Duration(time.Hour)
	cases := []struct {
		name  string
		setup func(t *testing.T) (b Backend, breakIt func())
		want  record.ErrKind
	}{
		{"refused", func(t *testing.T) (Backend, func()) {
			f := newInstance(t, "x", "v1")
			return f.backend(), f.srv.Close // nothing listens on the port then
		}, record.ErrConnRefused},
		{"reset", func(t *testing.T) (Backend, func()) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if req.URL.Path == "/healthz" {
					return
				}
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					_ = conn.(*net.TCPConn).SetLinger(0) // close with RST
					_ = conn.Close()
				}
			}))
			t.Cleanup(srv.Close)
			return Backend{Name: "x", Version: "v1", Addr: srv.Listener.Addr().String()}, func() {}
		}, record.ErrConnReset},
		{"timeout", func(t *testing.T) (Backend, func()) {
			f := newInstance(t, "x", "v1")
			return f.backend(), func() { t.Cleanup(f.blockWork()) }
		}, record.ErrTimeout},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Config{Health: slowHealth, Timeout: 200 * time.Millisecond})
			b, breakIt := c.setup(t)
			h.addBackends(b)
			breakIt()

			code, hdr, body := h.get("/work")
			assert.Equal(t, http.StatusBadGateway, code)
			assert.Equal(t, "x", hdr.Get(HeaderBackend))
			assert.Contains(t, body, kindName(c.want))

			samples := h.rec.Select(record.Filter{Source: record.Hop, Service: "svc"})
			require.Len(t, samples, 1)
			assert.Equal(t, c.want, samples[0].Err)
			assert.EqualValues(t, 0, samples[0].Status, "no status with a transport error")
			assert.Equal(t, "x", h.rec.Name(samples[0].Instance))
			assert.Equal(t, "v1", h.rec.Name(samples[0].Version))
		})
	}
}

func TestDrainOnRemove(t *testing.T) {
	h := newHarness(t, Config{})
	a := newInstance(t, "a", "v1")
	h.add(a)
	release := a.blockWork()

	type result struct {
		code int
		body string
		err  error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := h.client.Get(h.url + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- result{resp.StatusCode, string(body), err}
	}()
	<-a.started // the slow request is in a's handler

	removed := make(chan error, 1)
	go func() { removed <- h.r.Remove(context.Background(), "a") }()
	require.Eventually(t, func() bool {
		st, ok := status(h.r.Backends(), "a")
		return ok && st.Draining && st.Inflight == 1
	}, 10*time.Second, 5*time.Millisecond)

	// New requests go elsewhere while a drains.
	b := newInstance(t, "b", "v1")
	h.add(b)
	by, _ := h.countBy(10)
	assert.Equal(t, map[string]int{"b": 10}, by)
	select {
	case err := <-removed:
		t.Fatalf("Remove returned (%v) while a request was in flight", err)
	default:
	}

	release()
	res := <-slow
	require.NoError(t, res.err)
	assert.Equal(t, http.StatusOK, res.code)
	assert.Equal(t, "a", res.body)
	require.NoError(t, <-removed)
	_, still := status(h.r.Backends(), "a")
	assert.False(t, still)
}

func TestRemoveDeadline(t *testing.T) {
	h := newHarness(t, Config{})
	a := newInstance(t, "a", "v1")
	h.add(a)
	release := a.blockWork()
	done := make(chan int, 1)
	go func() {
		resp, err := h.client.Get(h.url + "/slow")
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-a.started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := h.r.Remove(ctx, "a")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "1 requests still in flight")
	assert.Empty(t, h.r.Backends())
	// The request that outlived the deadline still completes.
	release()
	assert.Equal(t, http.StatusOK, <-done)
}

// TestChurnUnderLoad adds, removes and re-weights while requests flow.
// After Remove returns the instance's server is closed at once, so any
// request the router still sent there would come back 502.
func TestChurnUnderLoad(t *testing.T) {
	h := newHarness(t, Config{Seed: 9})
	stable := newInstance(t, "stable", "v1")
	h.add(stable)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				resp, err := h.client.Get(h.url + "/w")
				if !assert.NoError(t, err) {
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				codes[resp.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	for i := range 8 {
		f := newInstance(t, "canary", "v2")
		h.add(f)
		require.NoError(t, h.r.SetWeights(map[string]int{"v1": 50, "v2": 50}))
		time.Sleep(20 * time.Millisecond)
		// Weights back first, as a rollback would do; then drain.
		require.NoError(t, h.r.SetWeights(map[string]int{"v1": 100}))
		rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
		require.NoError(t, h.r.Remove(rctx, "canary"), "round %d", i)
		rcancel()
		f.srv.Close()
	}
	cancel()
	wg.Wait()
	assert.Positive(t, codes[200])
	assert.Equal(t, codes[200], sumValues(codes), "only 200s, got %v", codes)
}

func sumValues(m map[int]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestStartErrors(t *testing.T) {
	r := New(Config{Service: "svc"})
	t.Cleanup(func() { _ = r.Close() })
	addr, err := r.Start(context.Background(), "")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(addr, "127.0.0.1:"))
	assert.Equal(t, addr, r.Addr())
	_, err = r.Start(context.Background(), "")
	assert.ErrorContains(t, err, "already serving")

	r2 := New(Config{Service: "svc2"})
	t.Cleanup(func() { _ = r2.Close() })
	_, err = r2.Start(context.Background(), addr)
	assert.ErrorContains(t, err, "listen on")
}

// TestStartContextEndsRouter: ending Start's context stops the router like Close.
func TestStartContextEndsRouter(t *testing.T) {
	r := New(Config{Service: "svc", Health: fastHealth})
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := r.Start(ctx, "127.0.0.1:0")
	require.NoError(t, err)
	cancel()
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return false
		}
		return true
	}, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, r.Close(), "Close after the context ended is a no-op")
}

// TestTimeoutMidBody: the upstream sends its status and part of the body,
// then stalls past Timeout. The caller's response breaks off, and the
// sample is a timeout, not the 200 that was already sent.
func TestTimeoutMidBody(t *testing.T) {
	stall := make(chan struct{})
	t.Cleanup(func() { close(stall) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/healthz" {
			return
		}
		_, _ = io.WriteString(w, "partial")
		_ = http.NewResponseController(w).Flush()
		select {
		case <-stall:
		case <-req.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	h := newHarness(t, Config{Timeout: 200 * time.Millisecond})
	h.addBackends(Backend{Name: "x", Version: "v1", Addr: srv.Listener.Addr().String()})

	resp, err := h.client.Get(h.url + "/work")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Error(t, err, "the body must break off, not end cleanly")

	require.Eventually(t, func() bool { return h.rec.Len() == 1 }, 10*time.Second, 5*time.Millisecond)
	s := h.rec.Select(record.Filter{Source: record.Hop, Service: "svc"})[0]
	assert.Equal(t, record.ErrTimeout, s.Err)
	assert.EqualValues(t, 0, s.Status)
	assert.Equal(t, "x", h.rec.Name(s.Instance))
}
