package router

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestNoGoroutineLeak runs a router through health checks, traffic,
// ejection timers and Remove, closes everything and expects the goroutine
// count back near where it started. Slack covers runtime and net/http
// goroutines that end a little later.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		r := New(Config{Service: "svc", Health: fastHealth, Ejection: Ejection{ConsecutiveErrors: 1, BaseTime: time.Hour}})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		addr, err := r.Start(ctx, "127.0.0.1:0")
		require.NoError(t, err)
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}

		a, b, c := newInstance(t, "a", "v1"), newInstance(t, "b", "v1"), newInstance(t, "c", "v2")
		a.work.Store(http.StatusInternalServerError) // gets ejected: a pending timer
		for _, f := range []*fakeInstance{a, b, c} {
			r.Add(f.backend())
			require.NoError(t, r.WaitHealthy(ctx, f.name))
		}
		for range 30 {
			resp, err := client.Get("http://" + addr + "/w")
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		require.NoError(t, r.Remove(ctx, "c"))
		require.NoError(t, r.Close())
		tr.CloseIdleConnections()
		// With the instances still up, only their accept loops may remain:
		// the router must have closed its pooled connections to them.
		require.Eventually(t, func() bool {
			return runtime.NumGoroutine() <= before+3+3
		}, 10*time.Second, 20*time.Millisecond, "goroutines: %d before, %d with the instances up", before, runtime.NumGoroutine())
		for _, f := range []*fakeInstance{a, b, c} {
			f.srv.Close()
		}
	}()
	require.Eventually(t, func() bool {
		return runtime.NumGoroutine() <= before+3
	}, 10*time.Second, 20*time.Millisecond, "goroutines: %d before, %d after", before, runtime.NumGoroutine())
}
