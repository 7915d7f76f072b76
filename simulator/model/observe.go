package model

import (
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/simulator"
)

// Start is time zero of the samples.
func (w *World) Start() time.Time { return w.t0 }

// span is the buckets [b1, b2) of q, generated.
func (w *World) span(from, to time.Time) (b1, b2 int) {
	at := func(t time.Time) int {
		return max(0, int(math.Round(float64(t.Sub(w.t0))/float64(bucket))))
	}
	b1, b2 = at(from), at(to)
	if b2 > b1 {
		w.fill(b2)
	}
	return b1, b2
}

// series are the prefix sums q reads: one pair per version it covers
// (k of them; arrays, so that a look allocates nothing).
func (w *World) series(q simulator.Query) (req, errs [2][]int64, vs [2]int, k int) {
	if q.Shadow {
		if q.Version != "" && w.idx(q.Version) != 1 {
			return req, errs, vs, 0
		}
		req[0], errs[0], vs[0] = w.shReq, w.shErr, 1
		return req, errs, vs, 1
	}
	for v := range 2 {
		if q.Version == "" || w.idx(q.Version) == v {
			req[k], errs[k], vs[k] = w.req[v], w.errs[v], v
			k++
		}
	}
	return req, errs, vs, k
}

// Stats counts q from the prefix sums; p99 draws the window's p99.
func (w *World) Stats(q simulator.Query, p99 bool) simulator.WindowStats {
	var s simulator.WindowStats
	if q.Service != w.top.Service {
		return s
	}
	b1, b2 := w.span(q.From, q.To)
	if b2 <= b1 {
		return s
	}
	req, errs, vs, k := w.series(q)
	for i := range k {
		s.Requests += int(req[i][b2] - req[i][b1])
		s.Errors += int(errs[i][b2] - errs[i][b1])
	}
	if p99 && s.Requests > 0 {
		s.P99 = w.p99(req[:k], vs[:k], b1, b2, s.Requests)
	}
	return s
}

// regime is a latency distribution that n of a window's requests had.
type regime struct {
	shift  time.Duration
	median time.Duration
	sigma  float64
	n      float64 // requests (a share of a bucket's, under a partial delay)
}

// p99 draws the nearest-rank p99 of the window's n latencies: it is the
// k-th order statistic (k = ceil(0.99 n)), whose probability integral
// transform is Beta(k, n-k+1); the latency is that quantile of the
// window's mixture of log-normals.
func (w *World) p99(req [][]int64, vs []int, b1, b2, n int) time.Duration {
	var buf [4]regime
	rs := buf[:0]
	for i, v := range vs {
		beh := w.top.Old
		if v == 1 {
			beh = w.top.New
		}
		for b := b1; b < b2; b++ {
			c := int(req[i][b+1] - req[i][b])
			if c == 0 {
				continue
			}
			sh := w.shift[b] + w.top.DepsLatency
			if w.mix[b] == nil {
				rs = addRegime(rs, regime{shift: sh, median: beh.Median, sigma: beh.sigma(), n: float64(c)})
				continue
			}
			for _, m := range w.mix[b] {
				rs = addRegime(rs, regime{shift: sh + m.Add, median: beh.Median, sigma: beh.sigma(), n: m.W * float64(c)})
			}
		}
	}
	k := int(math.Ceil(0.99 * float64(n)))
	u := distuv.Beta{Alpha: float64(k), Beta: float64(n - k + 1), Src: w.latSrc}.Rand()
	return mixtureQuantile(rs, n, u)
}

// addRegime merges r into the last regime when they are the same
// distribution.
func addRegime(rs []regime, r regime) []regime {
	if j := len(rs) - 1; j >= 0 && rs[j].shift == r.shift && rs[j].median == r.median && rs[j].sigma == r.sigma {
		rs[j].n += r.n
		return rs
	}
	return append(rs, r)
}

// mixtureQuantile solves F(x) = u for the mixture of the regimes (by
// bisection; in closed form for one log-normal).
func mixtureQuantile(rs []regime, n int, u float64) time.Duration {
	if len(rs) == 1 && rs[0].sigma > 0 {
		r := rs[0]
		return r.shift + time.Duration(float64(r.median)*math.Exp(r.sigma*distuv.UnitNormal.Quantile(u)))
	}
	cdf := func(x float64) float64 {
		f := 0.0
		for _, r := range rs {
			y := x - float64(r.shift)
			switch {
			case y <= 0:
			case r.sigma == 0:
				if y >= float64(r.median) {
					f += r.n
				}
			default:
				f += r.n * distuv.UnitNormal.CDF(math.Log(y/float64(r.median))/r.sigma)
			}
		}
		return f / float64(n)
	}
	lo, hi := 0.0, float64(time.Millisecond)
	for cdf(hi) < u && hi < float64(time.Hour) {
		hi *= 2
	}
	for range 60 {
		mid := (lo + hi) / 2
		if cdf(mid) >= u {
			hi = mid
		} else {
			lo = mid
		}
	}
	return time.Duration(hi)
}

// Samples lists q's requests, drawn afresh from each second's counts
// (the same second always gives the same samples): for the judges and
// triggers that need every request (the statistical judge's rank test, the
// burn-rate alert).
func (w *World) Samples(q simulator.Query) []record.Sample {
	if q.Service != w.top.Service {
		return nil
	}
	b1, b2 := w.span(q.From, q.To)
	if b2 <= b1 {
		return nil
	}
	req, errs, vs, k := w.series(q)
	src := record.Hop
	if q.Shadow {
		src = record.Shadow
	}
	var out []record.Sample
	for i, v := range vs[:k] {
		beh := w.top.Old
		if v == 1 {
			beh = w.top.New
		}
		for b := b1; b < b2; b++ {
			n, e := int(req[i][b+1]-req[i][b]), int(errs[i][b+1]-errs[i][b])
			out = w.bucketSamples(out, b, v, q.Shadow, n, e, beh, src)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}

func (w *World) bucketSamples(out []record.Sample, b, v int, shadow bool, n, e int, beh Behaviour, src record.Source) []record.Sample {
	stream := uint64(b)<<2 | uint64(v)
	if shadow {
		stream |= 2
	}
	rng := rand.New(rand.NewPCG(w.seed^0x94d049bb133111eb, stream))
	var mixRng *rand.Rand
	if w.mix[b] != nil {
		mixRng = rand.New(rand.NewPCG(w.seed^0x2545f4914f6cdd1d, stream))
	}
	sigma := beh.sigma()
	base := float64(beh.Median)
	for j := range n {
		lat := base
		if sigma > 0 {
			lat *= math.Exp(sigma * rng.NormFloat64())
		}
		lat += float64(w.shift[b] + w.top.DepsLatency)
		if mix := w.mix[b]; mix != nil {
			// Its own stream: samples of buckets without a partial delay
			// stay the same draws they were.
			lat += float64(pick(mix, mixRng.Float64()))
		}
		status := int16(200)
		if rng.IntN(n-j) < e { // e of the remaining n-j fail: a uniform choice
			status, e = 500, e-1
		}
		at := time.Duration(b)*bucket + time.Duration(j)*bucket/time.Duration(n)
		out = append(out, record.Sample{At: int64(at), LatencyUS: uint32(min(lat/1e3, math.MaxUint32)), Status: status, Source: src})
	}
	return out
}
