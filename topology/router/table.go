package router

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"sync/atomic"
)

// table is an immutable snapshot of who gets traffic. It is rebuilt (under
// Router.mu) on every change of weights, membership, health or ejection and
// read lock-free by every request.
type table struct {
	explicit bool

	// Explicit weights: versions with weight > 0, by name.
	slots []slot
	total int
	// live are the slots with an eligible backend, for fallback.
	live      []*slot
	liveTotal int

	// Default weights: every eligible backend, round-robin, which splits
	// traffic between versions by backend count.
	all   []*backend
	allRR *atomic.Uint64

	// cohorts, when set, draws the version from the hash of a request's
	// header or cookie over slots in cohort order (see cohort.go).
	cohorts *Cohorts
	order   []int // indices into slots, in cohort order
	// ready lists every version's eligible backends, weighted or not
	// (mirroring and synthetic traffic reach versions without weight).
	ready map[string]*slot
	// mirror is the mirroring in force (nil: none).
	mirror *mirrorSpec
}

type slot struct {
	version string
	weight  int
	known   bool       // has any backend at all, eligible or not
	ready   []*backend // healthy, not ejected, not being removed
	rr      *atomic.Uint64
}

func eligible(b *backend) bool { return b.healthy && !b.ejected && !b.removing }

// rebuildLocked publishes a new table and wakes waiters. r.mu must be held.
func (r *Router) rebuildLocked() {
	names := slices.Sorted(maps.Keys(r.backends))
	known := map[string]bool{}
	ready := map[string][]*backend{}
	t := &table{explicit: r.weights != nil}
	for _, n := range names {
		b := r.backends[n]
		known[b.Version] = true
		if eligible(b) {
			ready[b.Version] = append(ready[b.Version], b)
			t.all = append(t.all, b)
		}
	}
	t.ready = map[string]*slot{}
	for v, bs := range ready {
		t.ready[v] = &slot{version: v, known: true, ready: bs, rr: r.counterLocked(v)}
	}
	t.mirror = r.mirror
	if t.explicit {
		for _, v := range slices.Sorted(maps.Keys(r.weights)) {
			w := r.weights[v]
			if w <= 0 {
				continue
			}
			t.slots = append(t.slots, slot{version: v, weight: w, known: known[v], ready: ready[v], rr: r.counterLocked(v)})
			t.total += w
		}
		for i := range t.slots {
			if len(t.slots[i].ready) > 0 {
				t.live = append(t.live, &t.slots[i])
				t.liveTotal += t.slots[i].weight
			}
		}
		if r.cohorts != nil {
			t.cohorts = r.cohorts
			t.order = cohortOrder(t.slots, r.cohorts.Order)
		}
	} else {
		t.allRR = r.counterLocked("")
	}
	r.table.Store(t)
	r.broadcastLocked()
}

// counterLocked returns the round-robin counter of a version; counters
// outlive tables so that a rebuild does not restart the rotation.
func (r *Router) counterLocked(version string) *atomic.Uint64 {
	c := r.rr[version]
	if c == nil {
		c = new(atomic.Uint64)
		r.rr[version] = c
	}
	return c
}

// choose picks a backend given a uniform random x, or nil. With explicit
// weights a version is drawn by weight; if it has backends but none is
// eligible, the draw falls back to the versions that have one (by weight).
// A version that has no backends at all gets nil: its share of requests is
// answered 503, so a weight on a version that is not deployed shows.
func (t *table) choose(x uint64) *backend {
	if !t.explicit {
		if len(t.all) == 0 {
			return nil
		}
		return t.all[(t.allRR.Add(1)-1)%uint64(len(t.all))]
	}
	if t.total == 0 {
		return nil
	}
	p := int(x % uint64(t.total))
	var s *slot
	for i := range t.slots {
		if p < t.slots[i].weight {
			s = &t.slots[i]
			break
		}
		p -= t.slots[i].weight
	}
	return t.fromSlot(s, x)
}

// fromSlot returns a backend of s, falling back to the versions that have
// one when s has none eligible.
func (t *table) fromSlot(s *slot, x uint64) *backend {
	if len(s.ready) == 0 {
		if !s.known || t.liveTotal == 0 {
			return nil
		}
		// Other bits of x than the version draw used.
		p := int((x >> 32) % uint64(t.liveTotal))
		for _, l := range t.live {
			if p < l.weight {
				s = l
				break
			}
			p -= l.weight
		}
	}
	return s.ready[(s.rr.Add(1)-1)%uint64(len(s.ready))]
}

// splitmix64 is the SplitMix64 finaliser (Steele, Lea, Flood 2014): a
// cheap, well-mixed hash of a counter, so that drawing a version needs no
// lock and the n-th draw depends only on the seed and n.
func splitmix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func (r *Router) draw() uint64 {
	return splitmix64(uint64(r.cfg.Seed) + r.seq.Add(1)*0x9E3779B97F4A7C15)
}

// pick chooses a backend for req and counts it in flight; the caller must
// release it.
func (r *Router) pick(req *http.Request) *backend {
	// A retry or two suffices: Remove publishes a table without the backend
	// before it sets draining, so a retry loads a newer table.
	for range 3 {
		t := r.table.Load()
		var b *backend
		if x, ok := t.cohortDraw(req); ok {
			b = t.chooseCohort(x)
		} else {
			b = t.choose(r.draw())
		}
		if b == nil {
			return nil
		}
		b.inflight.Add(1)
		if !b.draining.Load() {
			return b
		}
		b.inflight.Add(-1)
	}
	return nil
}

// SetWeights routes traffic by version: percent per version, summing to
// 100. Versions without backends are allowed; their share is answered 503.
func (r *Router) SetWeights(w map[string]int) error {
	sum := 0
	for v, p := range w {
		if v == "" {
			return fmt.Errorf("router %s: set weights: empty version name; name each version", r.cfg.Service)
		}
		if p < 0 || p > 100 {
			return fmt.Errorf("router %s: set weights: %s=%d: a weight is a percent from 0 to 100", r.cfg.Service, v, p)
		}
		sum += p
	}
	if sum != 100 {
		return fmt.Errorf("router %s: set weights %v: they sum to %d; give the versions percents that add up to 100", r.cfg.Service, w, sum)
	}
	r.mu.Lock()
	r.weights = maps.Clone(w)
	r.rebuildLocked()
	r.mu.Unlock()
	return nil
}

// Weights returns the weights set, or, when none were, the current default
// split (percent of eligible backends per version, summing to 100; empty
// when no backend is eligible).
func (r *Router) Weights() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.weights != nil {
		return maps.Clone(r.weights)
	}
	counts := map[string]int{}
	for _, b := range r.table.Load().all {
		counts[b.Version]++
	}
	return proportional(counts)
}

// proportional turns counts into percents summing to 100 by the largest
// remainder method (ties go to the smaller name, for determinism).
func proportional(counts map[string]int) map[string]int {
	total := 0
	for _, c := range counts {
		total += c
	}
	out := map[string]int{}
	if total == 0 {
		return out
	}
	type rem struct {
		v string
		r int
	}
	var rems []rem
	given := 0
	for v, c := range counts {
		out[v] = c * 100 / total
		given += out[v]
		rems = append(rems, rem{v, c * 100 % total})
	}
	sort.Slice(rems, func(i, j int) bool {
		if rems[i].r != rems[j].r {
			return rems[i].r > rems[j].r
		}
		return rems[i].v < rems[j].v
	})
	for i := 0; given < 100; i++ {
		out[rems[i].v]++
		given++
	}
	return out
}
