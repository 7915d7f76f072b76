package traffic

import (
	"context"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
)

// TestRateAndSchedule: 200 rps for 2 s is exactly 400 requests, each due at
// start + i/200 s, none sent before its instant, spread round-robin over the
// paths, each with its own X-Request-Id.
func TestRateAndSchedule(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			var mu sync.Mutex
			var recv []time.Time
			ids := map[string]bool{}
			paths := map[string]int{}
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				now := time.Now()
				mu.Lock()
				recv = append(recv, now)
				ids[r.Header.Get(HeaderRequestID)] = true
				paths[r.URL.Path]++
				mu.Unlock()
				assert.Equal(t, http.MethodPost, r.Method)
				assert.Equal(t, "drill", r.Header.Get("X-Team"))
				assert.Equal(t, "shop.test", r.Host)
			})
			rec := record.NewRecorder(time.Now())
			g := start(t, context.Background(), Config{
				URL: srv.URL, Service: "checkout", Paths: []string{"/a", "/b"}, Method: http.MethodPost,
				Rate: 200, Duration: 2 * time.Second,
				Headers:  map[string]string{"x-team": "drill", "Host": "shop.test"},
				dispatch: m.mode,
			}, rec)
			st := g.Wait()

			const n = 400 // 200 rps * 2 s
			assert.EqualValues(t, n, st.Sent)
			assert.EqualValues(t, n, st.Completed)
			assert.Zero(t, st.Errors+st.Dropped+st.Canceled)
			sent, done := g.Progress()
			assert.EqualValues(t, n, sent)
			assert.EqualValues(t, n, done)
			assert.False(t, st.End.Before(st.Start.Add(2*time.Second)), "the window lasts the whole Duration")
			assert.Positive(t, st.AchievedRPS)

			ss := clientSamples(rec)
			require.Len(t, ss, n)
			p := pacer{rate: 200}
			zero := st.Start.Sub(rec.Start())
			for i, at := range sortedAt(ss) {
				require.Equal(t, int64(zero+p.offset(int64(i))), at, "intended time of request %d", i)
			}
			svc := rec.Intern("checkout")
			for _, s := range ss {
				require.Equal(t, int16(200), s.Status)
				require.Equal(t, svc, s.Service)
				require.Equal(t, record.ErrNone, s.Err)
			}

			mu.Lock()
			defer mu.Unlock()
			assert.Len(t, ids, n, "X-Request-Id is unique per request")
			assert.Equal(t, map[string]int{"/a": n / 2, "/b": n / 2}, paths)
			// Open-loop pacing never sends early: the k-th arrival cannot
			// precede the k-th instant.
			sort.Slice(recv, func(i, j int) bool { return recv[i].Before(recv[j]) })
			for k, at := range recv {
				require.False(t, at.Before(st.Start.Add(p.offset(int64(k)))), "arrival %d came before its instant", k)
			}
		})
	}
}

// TestVersionInstanceFromHeaders: samples carry what the response headers
// named, and a 5xx counts as an error.
func TestVersionInstanceFromHeaders(t *testing.T) {
	var mu sync.Mutex
	served := map[[2]string]int{}
	fails := 0
	var n atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		ver, inst := "v1", "checkout-v1-0"
		if i%3 == 0 {
			ver, inst = "v2", "checkout-v2-0"
		}
		w.Header().Set(HeaderVersion, ver)
		w.Header().Set(HeaderInstance, inst)
		mu.Lock()
		served[[2]string{ver, inst}]++
		if i%5 == 0 {
			fails++
			mu.Unlock()
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	})
	rec := record.NewRecorder(time.Now())
	st := start(t, context.Background(), Config{URL: srv.URL, Service: "checkout", Rate: 100, Duration: time.Second}, rec).Wait()

	got := map[[2]string]int{}
	bad := 0
	for _, s := range clientSamples(rec) {
		got[[2]string{rec.Name(s.Version), rec.Name(s.Instance)}]++
		if s.Status == http.StatusServiceUnavailable {
			bad++
			assert.False(t, s.OK())
		}
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, served, got)
	assert.Len(t, got, 2)
	assert.Equal(t, fails, bad)
	assert.EqualValues(t, fails, st.Errors)
}

// TestStallShowsAsLatency: the server blocks every handler for about a
// second mid-run. An open-loop generator keeps sending, so the run still has
// exactly rate*duration samples, and each request due during the stall
// waited at least until the stall ended.
func TestStallShowsAsLatency(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			var gate atomic.Pointer[chan struct{}]
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				if ch := gate.Load(); ch != nil {
					select {
					case <-*ch:
					case <-r.Context().Done():
					}
				}
				_, _ = w.Write([]byte("ok"))
			})
			const rate, dur = 100, 3 * time.Second
			rec := record.NewRecorder(time.Now())
			g := start(t, context.Background(), Config{
				URL: srv.URL, Service: "checkout", Rate: rate, Duration: dur, Timeout: 10 * time.Second, dispatch: m.mode,
			}, rec)

			var stallFrom, stallTo time.Time
			stalled := make(chan struct{})
			go func() {
				defer close(stalled)
				time.Sleep(time.Second)
				ch := make(chan struct{})
				gate.Store(&ch)
				stallFrom = time.Now() // after Store: whatever is sent from here on blocks
				time.Sleep(time.Second)
				stallTo = time.Now() // before close: nothing blocked is answered earlier
				gate.Store(nil)
				close(ch)
			}()
			st := g.Wait()
			<-stalled

			assert.EqualValues(t, rate*3, st.Completed, "open loop: the stall cost no requests")
			assert.Zero(t, st.Errors+st.Dropped)
			ss := clientSamples(rec)
			require.Len(t, ss, rate*3)

			p := pacer{rate: rate}
			var due int
			for i := int64(0); i < rate*3; i++ {
				if at := st.Start.Add(p.offset(i)); !at.Before(stallFrom) && at.Before(stallTo) {
					due++
				}
			}
			var inStall int
			var longest time.Duration
			for _, s := range ss {
				at := s.Time(rec.Start())
				if at.Before(stallFrom) || !at.Before(stallTo) {
					continue
				}
				inStall++
				// Sent at or after its instant, answered after the gate
				// opened: latency from the instant covers the rest of the stall.
				require.GreaterOrEqual(t, s.Latency(), stallTo.Sub(at).Truncate(time.Microsecond), "sample due %v into the stall", at.Sub(stallFrom))
				longest = max(longest, s.Latency())
			}
			assert.Equal(t, due, inStall, "every request due during the stall was sent and recorded")
			assert.Greater(t, inStall, 0)
			assert.GreaterOrEqual(t, longest, stallTo.Sub(stallFrom)-2*time.Second/rate, "the first request of the stall waited it out")
		})
	}
}

// TestTimeoutRecorded: a server slower than Timeout gives ErrTimeout samples.
func TestTimeoutRecorded(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	rec := record.NewRecorder(time.Now())
	const timeout = 100 * time.Millisecond
	st := start(t, context.Background(), Config{
		URL: srv.URL, Service: "slow", Rate: 20, Duration: 500 * time.Millisecond, Timeout: timeout,
	}, rec).Wait()

	ss := clientSamples(rec)
	require.Len(t, ss, 10)
	for _, s := range ss {
		assert.Equal(t, record.ErrTimeout, s.Err)
		assert.Zero(t, s.Status)
		assert.GreaterOrEqual(t, s.Latency(), timeout, "the timeout counts from the send, which is at or after the instant")
	}
	assert.EqualValues(t, 10, st.Errors)
}

// TestConnRefused: nothing listens on the port.
func TestConnRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	rec := record.NewRecorder(time.Now())
	st := start(t, context.Background(), Config{URL: "http://" + addr, Service: "gone", Rate: 20, Duration: 500 * time.Millisecond}, rec).Wait()
	ss := clientSamples(rec)
	require.Len(t, ss, 10)
	for _, s := range ss {
		assert.Equal(t, record.ErrConnRefused, s.Err)
		assert.Zero(t, s.Status)
	}
	assert.EqualValues(t, 10, st.Errors)
}

// TestConnReset: the server reads the request, then aborts the connection
// with an RST (SO_LINGER 0), as Toxiproxy's reset_peer does.
func TestConnReset(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 4096)
				_, _ = c.Read(buf)
				_ = c.(*net.TCPConn).SetLinger(0)
				_ = c.Close()
			}()
		}
	}()
	rec := record.NewRecorder(time.Now())
	start(t, context.Background(), Config{URL: "http://" + ln.Addr().String(), Service: "flaky", Rate: 20, Duration: 500 * time.Millisecond}, rec).Wait()
	ss := clientSamples(rec)
	require.Len(t, ss, 10)
	for _, s := range ss {
		assert.Equal(t, record.ErrConnReset, s.Err)
	}
}

// TestStopEndsEarly: Stop ends a 30 s run; what was sent is recorded.
func TestStopEndsEarly(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {})
	rec := record.NewRecorder(time.Now())
	g := start(t, context.Background(), Config{URL: srv.URL, Service: "s", Rate: 100, Duration: 30 * time.Second}, rec)
	require.Eventually(t, func() bool { _, done := g.Progress(); return done >= 10 }, 10*time.Second, 5*time.Millisecond)
	g.Stop()
	g.Stop() // idempotent
	st := g.Wait()
	assert.Less(t, st.Sent, int64(3000))
	assert.Equal(t, st.Sent, st.Completed)
	assert.Len(t, clientSamples(rec), int(st.Sent))
	assert.True(t, st.End.Before(st.Start.Add(30*time.Second)))
	assert.Equal(t, st, g.Wait(), "Wait can be called again")
}

// TestContextEndCutsInFlight: ending the context stops sending and aborts
// requests in flight; those are counted, not recorded as failures.
func TestContextEndCutsInFlight(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := record.NewRecorder(time.Now())
	g := start(t, ctx, Config{URL: srv.URL, Service: "s", Rate: 50, Duration: 30 * time.Second, Timeout: 30 * time.Second}, rec)
	require.Eventually(t, func() bool { sent, _ := g.Progress(); return sent >= 5 }, 10*time.Second, 5*time.Millisecond)
	cancel()
	st := g.Wait()
	assert.Less(t, st.Sent, int64(1500))
	assert.Equal(t, st.Sent, st.Canceled)
	assert.Zero(t, st.Completed)
	assert.Empty(t, clientSamples(rec))
}

// TestMaxInFlightDrops: with the cap reached, each further request is a
// failed sample and a drop, never a silent skip.
func TestMaxInFlightDrops(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			release := make(chan struct{})
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			})
			rec := record.NewRecorder(time.Now())
			g := start(t, context.Background(), Config{
				URL: srv.URL, Service: "s", Rate: 100, Duration: 500 * time.Millisecond,
				Timeout: 30 * time.Second, MaxInFlight: 5, dispatch: m.mode,
			}, rec)
			// The first 5 hold the cap until released, so the other 45 of
			// the 50 instants are dropped.
			require.Eventually(t, func() bool { return rec.Len() == 45 }, 10*time.Second, 5*time.Millisecond)
			close(release)
			st := g.Wait()
			assert.EqualValues(t, 5, st.Sent)
			assert.EqualValues(t, 45, st.Dropped)
			assert.EqualValues(t, 5, st.Completed)
			var ok, dropped int
			for _, s := range clientSamples(rec) {
				switch {
				case s.Status == 200:
					ok++
				case s.Err == record.ErrOther && s.Status == 0:
					dropped++
				}
			}
			assert.Equal(t, 5, ok)
			assert.Equal(t, 45, dropped)
		})
	}
}

// TestWarmupNotRecorded: warmup requests reach the server before time zero
// and leave no samples.
func TestWarmupNotRecorded(t *testing.T) {
	var hits atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	rec := record.NewRecorder(time.Now())
	called := time.Now()
	st := start(t, context.Background(), Config{
		URL: srv.URL, Service: "s", Rate: 100, Duration: 500 * time.Millisecond, Warmup: 300 * time.Millisecond,
	}, rec).Wait()
	assert.EqualValues(t, 30+50, hits.Load(), "300 ms of warmup and 500 ms measured at 100 rps")
	assert.EqualValues(t, 50, st.Completed)
	ss := clientSamples(rec)
	require.Len(t, ss, 50)
	assert.False(t, st.Start.Before(called.Add(300*time.Millisecond)), "time zero comes after the warmup")
	assert.GreaterOrEqual(t, sortedAt(ss)[0], int64(st.Start.Sub(rec.Start())))
}

// TestNoLeakAfterMixedRun: after Wait, nothing of the generator or its
// transport is left running, even after timeouts cut connections.
func TestNoLeakAfterMixedRun(t *testing.T) {
	var n atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%4 == 0 {
			<-r.Context().Done() // times out on the client
		}
	})
	rec := record.NewRecorder(time.Now())
	g, err := Start(context.Background(), Config{URL: srv.URL, Service: "s", Rate: 100, Duration: 500 * time.Millisecond, Timeout: 200 * time.Millisecond}, rec)
	require.NoError(t, err)
	t.Cleanup(func() { g.Stop(); g.Wait() })
	require.NotEmpty(t, leftovers(), "the check sees a running generator")
	st := g.Wait()
	assert.EqualValues(t, 50, st.Completed)
	assert.GreaterOrEqual(t, st.Errors, int64(12), "every 4th of 50 timed out")
	assertNoLeaks(t)
}
