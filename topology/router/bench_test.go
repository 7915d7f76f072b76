package router

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/firedrill/firedrill/record"
)

func benchRouter(b *testing.B) *Router {
	b.Helper()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hello")
	}))
	b.Cleanup(backend.Close)
	r := New(Config{Service: "svc", Health: fastHealth, Recorder: record.NewRecorder(time.Now()), Seed: 1,
		Ejection: Ejection{ConsecutiveErrors: 5}})
	b.Cleanup(func() { _ = r.Close() })
	r.Add(Backend{Name: "a", Version: "v1", Addr: backend.Listener.Addr().String()})
	r.Add(Backend{Name: "b", Version: "v2", Addr: backend.Listener.Addr().String()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, n := range []string{"a", "b"} {
		if err := r.WaitHealthy(ctx, n); err != nil {
			b.Fatal(err)
		}
	}
	if err := r.SetWeights(map[string]int{"v1": 90, "v2": 10}); err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkServeHTTP is the router's own cost per request: choice, proxy,
// upstream round trip on loopback, sample (no client-side HTTP).
func BenchmarkServeHTTP(b *testing.B) {
	r := benchRouter(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "http://svc/x", nil)
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Errorf("status %d", w.Code)
				return
			}
		}
	})
}

// BenchmarkThroughRouter is end to end: client -> router -> backend.
func BenchmarkThroughRouter(b *testing.B) {
	r := benchRouter(b)
	addr, err := r.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	b.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get("http://" + addr + "/x")
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// BenchmarkPick is the lock-free choice alone.
func BenchmarkPick(b *testing.B) {
	r := benchRouter(b)
	b.ReportAllocs()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			be := r.pick(req)
			be.inflight.Add(-1)
		}
	})
}

// BenchmarkServeHTTPUnmatchedFault is BenchmarkServeHTTP with an HTTP fault
// installed that matches no request (another caller's edge): the cost of
// looking at faults on every request.
func BenchmarkServeHTTPUnmatchedFault(b *testing.B) {
	r := benchRouter(b)
	if err := r.AddFault(HTTPFault{ID: "f", Caller: "elsewhere", Abort: 503}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "http://svc/x", nil)
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Errorf("status %d", w.Code)
				return
			}
		}
	})
}
