package analysis

import (
	"time"

	"github.com/firedrill/firedrill/record"
)

// arm builds n samples, one every `every`, starting at from; failed(i)
// marks failures and lat(i) gives latencies.
func arm(n int, from, every time.Duration, failed func(i int) bool, lat func(i int) time.Duration) []record.Sample {
	out := make([]record.Sample, n)
	for i := range out {
		s := record.Sample{At: int64(from + time.Duration(i)*every), Status: 200}
		if failed != nil && failed(i) {
			s.Status = 503
		}
		l := 10 * time.Millisecond
		if lat != nil {
			l = lat(i)
		}
		s.LatencyUS = uint32(l / time.Microsecond)
		out[i] = s
	}
	return out
}

// everyKth fails one request in k.
func everyKth(k int) func(int) bool { return func(i int) bool { return i%k == k-1 } }

// spread gives latencies base·(1 + (i mod 100)/100)·factor: a fixed
// spread of values so that latency tests have something to rank.
func spread(base time.Duration, factor float64) func(int) time.Duration {
	return func(i int) time.Duration {
		return time.Duration(float64(base) * (1 + float64(i%100)/100) * factor)
	}
}
