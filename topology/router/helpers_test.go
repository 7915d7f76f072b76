package router

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// fastHealth keeps tests short; the timeout is generous for a loaded
// machine running -race.
var fastHealth = scenarios.Health{
	HTTP:           "/healthz",
	Interval:       scenarios.Duration(50 * time.Millisecond),
	Timeout:        scenarios.Duration(time.Second),
	UnhealthyAfter: 2,
	HealthyAfter:   1,
}

// fakeInstance is a real HTTP server on 127.0.0.1 whose behaviour a test
// switches at run time.
type fakeInstance struct {
	name, version string
	srv           *httptest.Server
	health        atomic.Int32 // status of /healthz
	work          atomic.Int32 // status of every other path
	served        atomic.Int64 // work requests answered
	block         atomic.Pointer[chan struct{}]
	started       chan struct{} // receives when a blocked request started
}

func newInstance(t *testing.T, name, version string) *fakeInstance {
	t.Helper()
	f := &fakeInstance{name: name, version: version, started: make(chan struct{}, 16)}
	f.health.Store(http.StatusOK)
	f.work.Store(http.StatusOK)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/healthz" {
			w.WriteHeader(int(f.health.Load()))
			return
		}
		if ch := f.block.Load(); ch != nil {
			f.started <- struct{}{}
			select {
			case <-*ch:
			case <-req.Context().Done():
				return
			}
		}
		f.served.Add(1)
		w.WriteHeader(int(f.work.Load()))
		_, _ = io.WriteString(w, f.name)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeInstance) backend() Backend {
	return Backend{Name: f.name, Version: f.version, Addr: f.srv.Listener.Addr().String()}
}

// blockWork makes work requests wait until the returned func is called.
func (f *fakeInstance) blockWork() (release func()) {
	ch := make(chan struct{})
	f.block.Store(&ch)
	return func() { f.block.Store(nil); close(ch) }
}

type harness struct {
	t      *testing.T
	r      *Router
	url    string
	rec    *record.Recorder
	events *record.Log
	client *http.Client
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	if cfg.Service == "" {
		cfg.Service = "svc"
	}
	if reflect.DeepEqual(cfg.Health, scenarios.Health{}) {
		cfg.Health = fastHealth
	}
	h := &harness{t: t, rec: record.NewRecorder(time.Now()), events: record.NewLog(nil)}
	cfg.Recorder, cfg.Events = h.rec, h.events
	h.r = New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := h.r.Start(ctx, "127.0.0.1:0")
	require.NoError(t, err)
	h.url = "http://" + addr
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	h.client = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		cancel()
		require.NoError(t, h.r.Close())
	})
	return h
}

// add registers instances and waits until each is healthy.
func (h *harness) add(fs ...*fakeInstance) {
	h.t.Helper()
	bs := make([]Backend, len(fs))
	for i, f := range fs {
		bs[i] = f.backend()
	}
	h.addBackends(bs...)
}

func (h *harness) addBackends(bs ...Backend) {
	h.t.Helper()
	for _, b := range bs {
		h.r.Add(b)
	}
	for _, b := range bs {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		require.NoError(h.t, h.r.WaitHealthy(ctx, b.Name))
		cancel()
	}
}

// get sends one request and returns status, the serving backend and body.
func (h *harness) get(path string) (int, http.Header, string) {
	h.t.Helper()
	resp, err := h.client.Get(h.url + path)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return resp.StatusCode, resp.Header, string(body)
}

// countBy sends n sequential requests and counts them by X-Firedrill-Backend
// ("" for the router's own answers) and status.
func (h *harness) countBy(n int) (byBackend map[string]int, byStatus map[int]int) {
	h.t.Helper()
	byBackend, byStatus = map[string]int{}, map[int]int{}
	for i := 0; i < n; i++ {
		code, hdr, _ := h.get(fmt.Sprintf("/work/%d", i))
		byBackend[hdr.Get(HeaderBackend)]++
		byStatus[code]++
	}
	return byBackend, byStatus
}

// waitEvent waits for an event of kind about target at or after from.
func (h *harness) waitEvent(kind, target string, from time.Time) record.Event {
	h.t.Helper()
	var ev record.Event
	require.Eventually(h.t, func() bool {
		for _, e := range h.events.Events() {
			if e.Kind == kind && e.Target == target && !e.At.Before(from) {
				ev = e
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "no %s event for %s", kind, target)
	return ev
}

func (h *harness) countEvents(kind, target string) int {
	n := 0
	for _, e := range h.events.Events() {
		if e.Kind == kind && e.Target == target {
			n++
		}
	}
	return n
}

func status(bs []BackendStatus, name string) (BackendStatus, bool) {
	for _, b := range bs {
		if b.Name == name {
			return b, true
		}
	}
	return BackendStatus{}, false
}
