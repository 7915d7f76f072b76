package analysis

import (
	"slices"
	"sort"
	"time"

	"github.com/firedrill/firedrill/record"
)

// Summary sums up a set of samples. Latency figures cover every request,
// failed ones included: a timeout is latency a user waited through.
type Summary struct {
	Requests  int
	Errors    int
	ErrorRate float64 // Errors / Requests; 0 when there are no requests
	P50       time.Duration
	P90       time.Duration
	P99       time.Duration
	Max       time.Duration
	Mean      time.Duration
}

// Summarize computes exact (nearest-rank) latency quantiles by sorting a
// copy of the latencies; samples is not modified.
func Summarize(samples []record.Sample) Summary {
	s := Summary{Requests: len(samples)}
	if len(samples) == 0 {
		return s
	}
	lat := make([]uint32, len(samples))
	var sum float64
	for i, x := range samples {
		if !x.OK() {
			s.Errors++
		}
		lat[i] = x.LatencyUS
		sum += float64(x.LatencyUS)
	}
	slices.Sort(lat)
	us := func(v uint32) time.Duration { return time.Duration(v) * time.Microsecond }
	s.ErrorRate = float64(s.Errors) / float64(s.Requests)
	s.P50 = us(quantileSorted(lat, 0.50))
	s.P90 = us(quantileSorted(lat, 0.90))
	s.P99 = us(quantileSorted(lat, 0.99))
	s.Max = us(lat[len(lat)-1])
	s.Mean = time.Duration(sum / float64(len(samples)) * float64(time.Microsecond))
	return s
}

// SecondPoint is one second of a series. T counts whole seconds since the
// run's start (the second a request was meant to be sent in).
type SecondPoint struct {
	T        int
	Requests int
	Errors   int
	P50      time.Duration
	P99      time.Duration
}

// PerSecond groups samples by groupBy (nil puts every sample in group "")
// and returns, per group, one point per second from the group's first to its
// last second; seconds without requests appear with zero counts so that
// charts show gaps as gaps.
func PerSecond(samples []record.Sample, groupBy func(record.Sample) string) map[string][]SecondPoint {
	type bucket struct {
		errors int
		lat    []uint32
	}
	groups := map[string]map[int]*bucket{}
	for _, x := range samples {
		key := ""
		if groupBy != nil {
			key = groupBy(x)
		}
		g := groups[key]
		if g == nil {
			g = map[int]*bucket{}
			groups[key] = g
		}
		sec := int(time.Duration(x.At) / time.Second)
		if x.At < 0 {
			sec-- // floor, so that -0.5 s lands in second -1
		}
		b := g[sec]
		if b == nil {
			b = &bucket{}
			g[sec] = b
		}
		b.lat = append(b.lat, x.LatencyUS)
		if !x.OK() {
			b.errors++
		}
	}
	out := make(map[string][]SecondPoint, len(groups))
	for key, g := range groups {
		secs := make([]int, 0, len(g))
		for s := range g {
			secs = append(secs, s)
		}
		sort.Ints(secs)
		first, last := secs[0], secs[len(secs)-1]
		pts := make([]SecondPoint, 0, last-first+1)
		for t := first; t <= last; t++ {
			p := SecondPoint{T: t}
			if b := g[t]; b != nil {
				slices.Sort(b.lat)
				p.Requests = len(b.lat)
				p.Errors = b.errors
				p.P50 = time.Duration(quantileSorted(b.lat, 0.50)) * time.Microsecond
				p.P99 = time.Duration(quantileSorted(b.lat, 0.99)) * time.Microsecond
			}
			pts = append(pts, p)
		}
		out[key] = pts
	}
	return out
}
