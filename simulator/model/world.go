package model

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/simulator"
)

// bucket is the model's resolution: counts are kept per second of virtual
// time (the controller looks every interval, by default every second).
const bucket = time.Second

// state is what the controller has set, from at (since time zero) on.
type state struct {
	at      time.Duration
	w       [2]int // live weight (percent) of From, To
	n       [2]int // ready instances of From, To
	mirror  int    // percent of live requests copied to To
	synth   float64
	flagOff [2]bool
}

// active is an effect placed in time (step-relative ones once their step
// starts); to < 0 is for ever.
type active struct {
	Effect
	placed   bool
	from, to time.Duration
	raised   bool // instance_unhealthy added
}

// World is one trial's virtual topology: the Clock, Fleet, Router and
// Observer of the controller. It is not safe for concurrent use: one trial
// runs on one goroutine.
type World struct {
	top    *Topology
	t0     time.Time
	clock  *Clock
	seed   uint64
	src    *rand.PCG // counts
	rng    *rand.Rand
	latSrc *rand.PCG // p99 draws: a stream of their own, so counts do not depend on which windows were looked at
	states []state
	cursor int
	// Prefix sums over generated buckets: index b is the sum over buckets < b.
	req, errs    [2][]int64
	shReq, shErr []int64
	entReq       []int64
	entErr       []int64
	shift        []time.Duration // latency added in each bucket
	// mix: when partial delays (http_delay under 100%) are in force in a
	// bucket, the latency added on top of shift as a mixture; nil otherwise.
	mix     [][]component
	effects []active
	events  *record.Log
}

// NewWorld makes the world of one trial of top, all of its randomness from
// seed; t0 is time zero (traffic start).
func NewWorld(top *Topology, seed uint64, t0 time.Time) *World {
	w := &World{top: top, t0: t0, seed: seed}
	w.src = rand.NewPCG(seed, 0x9e3779b97f4a7c15)
	w.rng = rand.New(w.src)
	w.latSrc = rand.NewPCG(seed, 0xbf58476d1ce4e5b9)
	w.clock = &Clock{w: w, now: t0, end: t0.Add(top.Duration)}
	w.states = []state{{w: [2]int{100, 0}, n: [2]int{top.FromReplicas, 0}}}
	for i := range w.req {
		w.req[i], w.errs[i] = []int64{0}, []int64{0}
	}
	w.shReq, w.shErr, w.entReq, w.entErr = []int64{0}, []int64{0}, []int64{0}, []int64{0}
	for _, e := range top.Effects {
		a := active{Effect: e}
		if e.Step == 0 {
			a.place(0)
		}
		w.effects = append(w.effects, a)
	}
	if top.HealthEvents {
		w.events = record.NewLog(nil)
	}
	return w
}

func (a *active) place(base time.Duration) {
	a.placed, a.from = true, base+a.At
	a.to = -1
	if a.Dur >= 0 {
		a.to = a.from + a.Dur
	}
}

func (a *active) on(t time.Duration) bool {
	return a.placed && t >= a.from && (a.to < 0 || t < a.to)
}

// Clock is the World's virtual time. After moves time at once; past the end
// of traffic it stops there and ends the trial (the live run's controller
// stops when traffic does).
type Clock struct {
	w      *World
	now    time.Time
	end    time.Time
	cancel context.CancelFunc
}

func (c *Clock) Now() time.Time { return c.now }

// After moves time forward by d. At the end of traffic it cancels the
// trial and returns a channel that never fires, so the controller's select
// sees only the cancellation (deterministically).
func (c *Clock) After(d time.Duration) <-chan time.Time {
	if !c.advance(d) {
		return nil
	}
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// advance reports false when traffic ended first.
func (c *Clock) advance(d time.Duration) bool {
	t := c.now.Add(max(d, 0))
	if !t.Before(c.end) {
		c.now = c.end
		c.w.raise()
		if c.cancel != nil {
			c.cancel()
		}
		return false
	}
	c.now = t
	c.w.raise()
	return true
}

func (w *World) since() time.Duration { return w.clock.now.Sub(w.t0) }

// push records a new state from now on.
func (w *World) push(f func(*state)) {
	s := w.states[len(w.states)-1]
	s.at = w.since()
	f(&s)
	if last := &w.states[len(w.states)-1]; last.at == s.at {
		*last = s
		return
	}
	w.states = append(w.states, s)
}

func (w *World) cur() state { return w.states[len(w.states)-1] }

func (w *World) idx(version string) int {
	switch version {
	case w.top.From:
		return 0
	case w.top.To:
		return 1
	}
	return -1
}

// Deploy starts n instances; they are ready (and Deploy returns) after the
// start-up time.
func (w *World) Deploy(ctx context.Context, _, version string, n int, _ map[string]string, _ []string) error {
	v := w.idx(version)
	if v < 0 {
		return fmt.Errorf("model: unknown version %q", version)
	}
	if !w.clock.advance(w.top.ReadyAfter) && ctx.Err() != nil {
		return ctx.Err()
	}
	w.push(func(s *state) { s.n[v] += n })
	return nil
}

// Retire stops every instance of a version.
func (w *World) Retire(_ context.Context, _, version string) error {
	if v := w.idx(version); v >= 0 {
		w.push(func(s *state) { s.n[v] = 0 })
	}
	return nil
}

// RetireInstances stops n instances of a version.
func (w *World) RetireInstances(_ context.Context, _, version string, n int) error {
	v := w.idx(version)
	if v < 0 || n > w.cur().n[v] {
		return fmt.Errorf("model: retire %d instance(s) of %s: only %d", n, version, max(0, w.cur().n[max(v, 0)]))
	}
	w.push(func(s *state) { s.n[v] -= n })
	return nil
}

// SetWeights splits the live traffic.
func (w *World) SetWeights(_ context.Context, _ string, m map[string]int) error {
	w.push(func(s *state) { s.w = [2]int{m[w.top.From], m[w.top.To]} })
	return nil
}

// SetCohorts routes by cohort: with requests' ids at random, the split is
// the weights' all the same.
func (w *World) SetCohorts(context.Context, string, simulator.Cohorts) error { return nil }

// SetMirror copies percent of live requests to version.
func (w *World) SetMirror(_ context.Context, _, _ string, percent int) error {
	w.push(func(s *state) { s.mirror = percent })
	return nil
}

// StartSynthetic sends rate preview requests per second to the new version.
func (w *World) StartSynthetic(_ context.Context, _, _ string, rate float64) (func(), error) {
	w.push(func(s *state) { s.synth = rate })
	return func() { w.push(func(s *state) { s.synth = 0 }) }, nil
}

// SetFlag turns a feature flag: flag "bad" off ends its error rate.
func (w *World) SetFlag(_ context.Context, _, version, flag string, on bool) error {
	if v := w.idx(version); v >= 0 && flag == "bad" {
		w.push(func(s *state) { s.flagOff[v] = !on })
	}
	return nil
}

// OnStep places the effects of faults timed from a step's start.
func (w *World) OnStep(index, _ int, at time.Time) {
	for i := range w.effects {
		if a := &w.effects[i]; a.Step == index && !a.placed {
			a.place(at.Sub(w.t0))
		}
	}
}

// raise adds instance_unhealthy for instance faults on the rolled-out
// service once health checks would have noticed (only when a version of it
// had an instance to lose).
func (w *World) raise() {
	if w.events == nil {
		return
	}
	now := w.since()
	for i := range w.effects {
		a := &w.effects[i]
		if a.raised || !a.placed || !a.Instance || a.Target != w.top.Service || a.from+a.Detect > now {
			continue
		}
		a.raised = true
		v := w.idx(a.Version)
		if v < 0 || w.stateAt(a.from).n[v] == 0 {
			continue
		}
		w.events.Add(record.Event{At: w.t0.Add(a.from + a.Detect), Kind: record.EvInstanceUnhealthy, Service: w.top.Service,
			Target: fmt.Sprintf("%s-%s-0", w.top.Service, a.Version), Message: a.Kind + " (simulated)",
			Fields: map[string]any{"version": a.Version}})
	}
}

// stateAt is the state in force at t (a search: not on the hot path).
func (w *World) stateAt(t time.Duration) state {
	s := w.states[0]
	for _, x := range w.states {
		if x.at > t {
			break
		}
		s = x
	}
	return s
}

// Events is the trial's event log (nil when no trigger needs one).
func (w *World) Events() *record.Log { return w.events }

// binom draws Binomial(n, p).
func (w *World) binom(n int, p float64) int {
	switch {
	case n <= 0 || p <= 0:
		return 0
	case p >= 1:
		return n
	case n < 25:
		k := 0
		for range n {
			if w.rng.Float64() < p {
				k++
			}
		}
		return k
	}
	if m := float64(n) * min(p, 1-p); m < 40 {
		return binomInv(w.rng, n, p)
	}
	return int(distuv.Binomial{N: float64(n), P: p, Src: w.src}.Rand())
}

// binomInv draws Binomial(n, p) by inversion, walking the pmf up from 0
// (Kachitvichyanukul & Schmeiser's BINV): exact, and for the small means of
// one second's requests faster than rejection (no log-gamma per draw).
func binomInv(rng *rand.Rand, n int, p float64) int {
	flip := p > 0.5
	if flip {
		p = 1 - p
	}
	q := 1 - p
	s, a := p/q, float64(n+1)*p/q
	r := math.Pow(q, float64(n))
	u := rng.Float64()
	x := 0
	for u > r && x < n {
		u -= r
		x++
		r *= a/float64(x) - s
	}
	if flip {
		return n - x
	}
	return x
}

// arrivals is how many requests a second at rate brings: open-loop pacing
// sends rate a second; a fractional rate adds one with its fraction's chance.
func (w *World) arrivals(rate float64) int {
	n := math.Floor(rate)
	if f := rate - n; f > 0 && w.rng.Float64() < f {
		n++
	}
	return int(n)
}
