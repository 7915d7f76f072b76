package scenarios

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// manyServices is a scenario of n services, each depending on the next two
// (a long chain, so that cycle detection walks deep), with a cycle back to
// the first when cyclic.
func manyServices(n int, cyclic bool) []byte {
	var b strings.Builder
	b.Grow(n * 80)
	b.WriteString("name: big\nservices:\n")
	for i := range n {
		fmt.Fprintf(&b, "  s%d:\n    fixture: httpsvc\n", i)
		switch {
		case i+2 < n:
			fmt.Fprintf(&b, "    depends_on: [s%d, s%d]\n", i+1, i+2)
		case i+1 < n:
			fmt.Fprintf(&b, "    depends_on: [s%d]\n", i+1)
		case cyclic:
			b.WriteString("    depends_on: [s0]\n")
		}
	}
	b.WriteString("traffic: {entry: s0, rate: 10, duration: 30s}\n")
	return []byte(b.String())
}

func benchmarkValidate(b *testing.B, n int) {
	data := manyServices(n, false)
	var before syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("big.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "maxrss-MB")
		// CPU time, user + system, per op: on a shared machine the wall
		// time (ns/op) measures the neighbours too.
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	}
}

// Parse (decode + defaults + validation) of n services; the target is 50k
// in <= 2 s and <= 300 MB (maxrss-MB is the whole test process's peak, so
// run one size per process: make bench does).
func BenchmarkValidate5k(b *testing.B)  { benchmarkValidate(b, 5000) }
func BenchmarkValidate10k(b *testing.B) { benchmarkValidate(b, 10000) }
func BenchmarkValidate20k(b *testing.B) { benchmarkValidate(b, 20000) }
func BenchmarkValidate50k(b *testing.B) { benchmarkValidate(b, 50000) }

// A problem in every one of 20,000 services (each depends on a service
// that does not exist) stays linear: suggestions stop once the shown
// problems are found.
func BenchmarkValidate20kBroken(b *testing.B) {
	data := []byte(strings.ReplaceAll(string(manyServices(20000, false)), "depends_on: [s", "depends_on: [x"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("big.yaml", data); err == nil {
			b.Fatal("every service depends on a missing one")
		}
	}
}
