package firedrill_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/scenarios"
)

// BenchmarkChain drives gateway -> checkout -> payments (two instances
// each: three routers, two Toxiproxy edges, six fixture processes) at a
// fixed rate and reports what was achieved and what the whole run cost in
// CPU per client request: the harness (generator, routers, proxies,
// recorder) plus the instances, which are the harness's children and are
// reaped before Run returns. CPU time, unlike throughput, is not much
// distorted by other work on a shared machine. FIREDRILL_BENCH_RATE and
// FIREDRILL_BENCH_SECONDS override the 4,000 rps for 15 s.
func BenchmarkChain(b *testing.B) {
	rate, secs := envInt("FIREDRILL_BENCH_RATE", 4000), envInt("FIREDRILL_BENCH_SECONDS", 15)
	sc, err := scenarios.Parse("chain.yaml", []byte(fmt.Sprintf(`
name: bench-chain
services:
  gateway: {fixture: httpsvc, replicas: 2, depends_on: [checkout]}
  checkout: {fixture: httpsvc, replicas: 2, depends_on: [payments]}
  payments: {fixture: httpsvc, replicas: 2}
traffic: {entry: gateway, rate: %d, duration: %ds}
`, rate, secs)))
	if err != nil {
		b.Fatal(err)
	}
	benchRun(b, sc, rate)
}

// BenchmarkSingle is one service (two instances) behind its router at
// 10,000 rps (FIREDRILL_BENCH_RATE overrides).
func BenchmarkSingle(b *testing.B) {
	rate, secs := envInt("FIREDRILL_BENCH_RATE", 10000), envInt("FIREDRILL_BENCH_SECONDS", 10)
	sc, err := scenarios.Parse("single.yaml", []byte(fmt.Sprintf(`
name: bench-single
services:
  api: {fixture: httpsvc, replicas: 2}
traffic: {entry: api, rate: %d, duration: %ds}
`, rate, secs)))
	if err != nil {
		b.Fatal(err)
	}
	benchRun(b, sc, rate)
}

func benchRun(b *testing.B, sc *scenarios.Scenario, rate int) {
	for i := 0; i < b.N; i++ {
		self, children := cpuTime(syscall.RUSAGE_SELF), cpuTime(syscall.RUSAGE_CHILDREN)
		res, err := firedrill.Run(context.Background(), sc, firedrill.Options{OutDir: b.TempDir(), Formats: []string{"md"}})
		if err != nil {
			b.Fatal(err)
		}
		self, children = cpuTime(syscall.RUSAGE_SELF)-self, cpuTime(syscall.RUSAGE_CHILDREN)-children
		n := float64(max(res.Traffic.Requests, 1))
		b.ReportMetric(float64(rate), "target_rps")
		b.ReportMetric(res.Traffic.AchievedRPS, "achieved_rps")
		b.ReportMetric(float64(res.Traffic.Errors), "errors")
		b.ReportMetric(res.Traffic.LatencyMS.P99, "p99_ms")
		b.ReportMetric(ms(self)/n, "harness_cpu_ms/req")
		b.ReportMetric(ms(children)/n, "instances_cpu_ms/req")
		b.ReportMetric(ms(self+children)/n, "total_cpu_ms/req")
		if m := res.Traffic.Machine; m != nil { // seconds the whole machine had no idle CPU
			b.ReportMetric(float64(m.SaturatedSeconds), "saturated_s")
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
