package firedrill_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRate drives the httpsvc fixture (2 instances behind its router)
// for 10 s at each target rate and reports what the harness achieved and
// what each request cost the harness (generator + router + recorder).
func BenchmarkRate(b *testing.B) {
	for _, rate := range []int{1000, 5000, 10000} {
		b.Run(fmt.Sprintf("rps=%d", rate), func(b *testing.B) {
			sc, err := scenarios.Parse("bench.yaml", []byte(fmt.Sprintf(`
name: bench-rate
services:
  api: {fixture: httpsvc, replicas: 2}
traffic: {entry: api, rate: %d, duration: 10s}
`, rate)))
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				before := cpuTime(syscall.RUSAGE_SELF)
				res, err := firedrill.Run(context.Background(), sc, firedrill.Options{OutDir: b.TempDir(), Formats: []string{"md"}})
				if err != nil {
					b.Fatal(err)
				}
				cpu := cpuTime(syscall.RUSAGE_SELF) - before
				b.ReportMetric(float64(rate), "target_rps")
				b.ReportMetric(res.Traffic.AchievedRPS, "achieved_rps")
				b.ReportMetric(float64(res.Traffic.Errors), "errors")
				b.ReportMetric(float64(cpu.Microseconds())/float64(res.Traffic.Requests), "harness_cpu_us/req")
				b.ReportMetric(res.Traffic.LatencyMS.P99, "p99_ms")
			}
		})
	}
	b.ReportMetric(float64(unsafe.Sizeof(record.Sample{})), "bytes/sample")
}

// BenchmarkFaultOnset measures how long after a fault's scheduled instant
// the first client request sees it: a 300 ms latency toxic on a -> b at +2 s,
// 500 rps, and the first request (by intended send time) that took >= 300 ms.
func BenchmarkFaultOnset(b *testing.B) {
	sc, err := scenarios.Parse("onset.yaml", []byte(`
name: bench-onset
services:
  a: {fixture: httpsvc, depends_on: [b]}
  b: {fixture: httpsvc}
traffic: {entry: a, rate: 500, duration: 4s}
faults:
  - {kind: latency, edge: a -> b, latency: 300ms, at: 2s, duration: 1s}
`))
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		rec := record.NewRecorder(time.Now())
		res, err := firedrill.Run(context.Background(), sc, firedrill.Options{OutDir: b.TempDir(), Formats: []string{"md"}, Recorder: rec})
		if err != nil {
			b.Fatal(err)
		}
		scheduled := res.SeriesStart.Add(2 * time.Second)
		inj := res.Faults[0].InjectedAt
		b.ReportMetric(float64(inj.Sub(scheduled).Microseconds())/1000, "inject_lag_ms")
		first := firstSlow(rec, 300)
		if first < 0 {
			b.Fatal("no request saw the fault")
		}
		b.ReportMetric(first-2000, "first_affected_request_after_ms")
	}
}

// firstSlow returns the intended send time (ms since traffic start) of the
// earliest client request that took at least ms, among those sent from 100 ms
// before the fault's instant on (a request in flight as the toxic goes in may
// see it; a slow one long before is noise of a shared machine).
func firstSlow(rec *record.Recorder, ms float64) float64 {
	first := -1.0
	for _, s := range rec.Select(record.Filter{Source: record.Client, From: 1900 * time.Millisecond}) {
		at := float64(s.At) / 1e6
		if float64(s.LatencyUS)/1000 >= ms && (first < 0 || at < first) {
			first = at
		}
	}
	return first
}
