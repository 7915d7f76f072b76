//go:build unix

package traffic

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/firedrill/firedrill/record"
)

// Benchmarks here send real traffic for 10 s per case (2 s with -short) and
// run only under -bench. The server is a separate process (this test binary
// re-executed), so harness_cpu_us/req is the generator alone; the server's
// own cost is reported beside it.

// BenchmarkRate runs 1,000, 5,000 and 10,000 rps with the default dispatch.
func BenchmarkRate(b *testing.B) {
	for _, rps := range []float64{1000, 5000, 10000} {
		b.Run(fmt.Sprintf("rps=%.0f", rps), func(b *testing.B) { benchRun(b, rps, dispatchPool) })
	}
}

// BenchmarkDispatch compares a worker pool with a goroutine per request at
// 10,000 rps on this machine.
func BenchmarkDispatch(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) { benchRun(b, 10000, m.mode) })
	}
}

func benchRun(b *testing.B, rps float64, mode dispatchMode) {
	dur := 10 * time.Second
	if testing.Short() {
		dur = 2 * time.Second
	}
	var sent, samples, errs, dropped int64
	var wall, harness, server, lagSum, lagMax time.Duration
	var heap int64
	var lat []time.Duration
	kinds := map[record.ErrKind]int64{}
	for range b.N {
		srv := startChildServer(b)
		g0 := runtime.NumGoroutine()
		m0 := heapAfterGC()
		cpu0 := cpuTime(b)
		rec := record.NewRecorder(time.Now())
		g, err := Start(context.Background(), Config{URL: srv.URL, Service: "bench", Rate: rps, Duration: dur, dispatch: mode}, rec)
		if err != nil {
			b.Fatal(err)
		}
		st := g.Wait()
		harness += cpuTime(b) - cpu0
		server += srv.stop()
		g = nil
		settle(g0)                               // closed connections free their buffers when their goroutines end
		heap += int64(heapAfterGC()) - int64(m0) // the recorder is still live; the generator is not
		sent += st.Sent
		errs += st.Errors + st.Dropped
		dropped += st.Dropped
		rec.Each(func(s record.Sample) { kinds[s.Err]++ })
		samples += int64(rec.Len())
		wall += st.End.Sub(st.Start)
		lagSum += st.MeanLag * time.Duration(st.Sent)
		lagMax = max(lagMax, st.MaxLag)
		rec.Each(func(s record.Sample) { lat = append(lat, s.Latency()) })
		runtime.KeepAlive(rec)
	}
	slices.Sort(lat)
	pct := func(q float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(q*float64(len(lat)-1))].Microseconds())
	}
	n := float64(max(sent, 1))
	b.ReportMetric(rps, "target_rps")
	b.ReportMetric(float64(sent)/wall.Seconds(), "achieved_rps")
	b.ReportMetric(float64(harness.Microseconds())/n, "harness_cpu_us/req")
	b.ReportMetric(float64(server.Microseconds())/n, "server_cpu_us/req")
	b.ReportMetric(float64(errs), "errors")
	b.ReportMetric(float64(kinds[record.ErrTimeout]), "timeouts")
	b.ReportMetric(float64(kinds[record.ErrConnRefused]+kinds[record.ErrConnReset]), "conn_errors")
	b.ReportMetric(float64(dropped), "dropped")
	b.ReportMetric(float64(kinds[record.ErrOther]-dropped), "other_errors")
	b.ReportMetric(float64(lagSum.Microseconds())/n, "mean_lag_us")
	b.ReportMetric(float64(lagMax.Microseconds()), "max_lag_us")
	b.ReportMetric(pct(0.5), "p50_us")
	b.ReportMetric(pct(0.99), "p99_us")
	b.ReportMetric(float64(unsafe.Sizeof(record.Sample{})), "sample_bytes")
	b.ReportMetric(float64(heap)/float64(max(samples, 1)), "heap_bytes/sample")
}

// BenchmarkRecorderMemory records 1.2M samples (10 min at 2,000 rps) the way
// the generator does and fails above 100 MB of heap.
func BenchmarkRecorderMemory(b *testing.B) {
	const n = 1_200_000
	const limit = 100 << 20
	var perSample, total float64
	for range b.N {
		m0 := heapAfterGC()
		rec := record.NewRecorder(time.Now())
		start := rec.Start()
		versions := []string{"v1", "v2"}
		instances := []string{"checkout-v1-0", "checkout-v1-1", "checkout-v2-0"}
		for i := range n {
			rec.Observe(record.Observation{
				Source: record.Client, Service: "checkout",
				Version: versions[i%2], Instance: instances[i%3],
				Intended: start.Add(time.Duration(i) * 500 * time.Microsecond),
				Latency:  time.Duration(i%5000) * time.Microsecond, Status: 200,
			})
		}
		grown := int64(heapAfterGC()) - int64(m0)
		if rec.Len() != n {
			b.Fatalf("recorded %d samples, want %d", rec.Len(), n)
		}
		runtime.KeepAlive(rec)
		if grown > limit {
			b.Fatalf("1.2M samples take %d MB of heap, over the %d MB budget", grown>>20, limit>>20)
		}
		total = float64(grown) / (1 << 20)
		perSample = float64(grown) / n
	}
	b.ReportMetric(perSample, "heap_bytes/sample")
	b.ReportMetric(total, "heap_MB/1.2M")
	b.ReportMetric(float64(unsafe.Sizeof(record.Sample{})), "sample_bytes")
}

// settle waits (up to 5 s) until at most n goroutines run.
func settle(n int) {
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

// heapAfterGC is the live heap: two collections so that sync.Pool victims go too.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkClientFloor sends closed-loop requests (one at a time, per
// goroutine) through the same client: net/http's own cost per request on
// this machine, the floor under harness_cpu_us/req. Not a load pattern.
func BenchmarkClientFloor(b *testing.B) {
	for _, par := range []int{1, 8} {
		b.Run(fmt.Sprintf("conns=%d", par), func(b *testing.B) {
			srv := startChildServer(b)
			cfg := Config{URL: srv.URL, Rate: 1, Duration: time.Second}.withDefaults()
			c := newClient(cfg)
			defer c.CloseIdleConnections()
			b.SetParallelism(par) // par*GOMAXPROCS goroutines
			cpu0 := cpuTime(b)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
					r := send(c, req, context.Background())
					if r.status != 200 {
						b.Errorf("status %d, err %v", r.status, r.err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "harness_cpu_us/req")
			b.ReportMetric(float64(srv.stop().Microseconds())/float64(b.N), "server_cpu_us/req")
		})
	}
}
