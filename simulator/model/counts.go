package model

import (
	"math"
	"time"
)

// fill generates the buckets before index k: each second's requests at the
// rolled-out service, split between its versions by the weights in force,
// their errors, the preview's (shadow) requests and the entry's.
func (w *World) fill(k int) {
	for b := len(w.shift); b < k; b++ {
		start := time.Duration(b) * bucket
		for w.cursor+1 < len(w.states) && w.states[w.cursor+1].at <= start {
			w.cursor++
		}
		st := w.states[w.cursor]
		live := start < w.top.Duration
		n := 0
		if live {
			n = w.arrivals(w.top.Rate)
		}
		fail, shift, entryFail, mix := w.effectsAt(start, st)
		w.mix = append(w.mix, mix)
		var nv, ev [2]int
		nv[1] = w.binom(n, float64(st.w[1])/float64(max(1, st.w[0]+st.w[1])))
		nv[0] = n - nv[1]
		var p [2]float64
		for v := range p {
			own := w.top.Old.errorRate(st.flagOff[0])
			if v == 1 {
				own = w.top.New.errorRate(st.flagOff[1])
			}
			if st.n[v] == 0 {
				own = 1 // weight on a version with no instance: nothing answers
			}
			p[v] = 1 - (1-own)*(1-w.top.DepsErr)*(1-fail[v])
			ev[v] = w.binom(nv[v], p[v])
			w.req[v] = append(w.req[v], w.req[v][b]+int64(nv[v]))
			w.errs[v] = append(w.errs[v], w.errs[v][b]+int64(ev[v]))
		}
		ns := 0
		if live {
			ns = w.binom(n, float64(st.mirror)/100) + w.arrivals(st.synth)
		}
		es := w.binom(ns, p[1])
		w.shReq = append(w.shReq, w.shReq[b]+int64(ns))
		w.shErr = append(w.shErr, w.shErr[b]+int64(es))
		ne, ee := n, ev[0]+ev[1]
		if w.top.Scenario.Traffic.Entry != w.top.Service {
			ne = 0
			if live {
				ne = w.arrivals(w.top.EntryRate)
			}
			pS := 0.0
			if n > 0 {
				pS = float64(ev[0]+ev[1]) / float64(n)
			}
			pe := 1 - math.Pow(1-pS, float64(w.top.Paths))*(1-w.top.RestErr)*(1-entryFail)
			ee = w.binom(ne, pe)
		}
		w.entReq = append(w.entReq, w.entReq[b]+int64(ne))
		w.entErr = append(w.entErr, w.entErr[b]+int64(ee))
		w.shift = append(w.shift, shift)
	}
}

// effectsAt sums the faults in force at t: the extra failure probability
// of each version's requests, the latency added to them, and the extra
// failure probability of the entry's requests outside the rolled-out
// service.
func (w *World) effectsAt(t time.Duration, st state) (fail [2]float64, shift time.Duration, entry float64, mix []component) {
	ok := [2]float64{1, 1}
	okEntry := 1.0
	for i := range w.effects {
		a := &w.effects[i]
		if !a.on(t) {
			continue
		}
		p := a.ErrProb
		if a.Instance {
			// One instance of n stops answering: its share fails until
			// health checks take it out, then only if none is left.
			n := a.Replicas
			if a.Target == w.top.Service {
				v := w.idx(a.Version)
				if v < 0 || st.n[v] == 0 {
					continue
				}
				n = st.n[v]
				share := 1.0 / float64(n)
				if t >= a.from+a.Detect && n > 1 {
					share = 0
				}
				ok[v] *= 1 - share
				continue
			}
			p = 1 / float64(max(n, 1))
			if t >= a.from+a.Detect && n > 1 {
				p = 0
			}
		}
		switch a.Scope {
		case ScopeService:
			ok[0] *= 1 - p
			ok[1] *= 1 - p
			if a.LatShare > 0 && a.LatShare < 1 {
				mix = split(mix, a.LatShare, a.LatAdd)
			} else {
				shift += a.LatAdd
			}
		case ScopeEntry:
			okEntry *= 1 - p
		}
	}
	return [2]float64{1 - ok[0], 1 - ok[1]}, shift, 1 - okEntry, mix
}

// component is a share W of a bucket's requests that had Add more latency.
type component struct {
	W   float64
	Add time.Duration
}

// split adds an independent delay d on the share s of the requests to
// the mixture (nil: no delay yet).
func split(mix []component, s float64, d time.Duration) []component {
	if mix == nil {
		mix = []component{{W: 1}}
	}
	out := make([]component, 0, 2*len(mix))
	for _, c := range mix {
		out = append(out, component{W: c.W * (1 - s), Add: c.Add}, component{W: c.W * s, Add: c.Add + d})
	}
	return out
}

// pick is the component the uniform draw u falls in.
func pick(mix []component, u float64) time.Duration {
	for _, c := range mix {
		if u < c.W {
			return c.Add
		}
		u -= c.W
	}
	return mix[len(mix)-1].Add
}
