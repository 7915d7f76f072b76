package analysis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// fakeBreaker is a textbook circuit breaker for generating test traffic:
// it opens after `threshold` consecutive failures, stays open for openFor,
// then lets one probe through (half-open).
type fakeBreaker struct {
	threshold  int
	openFor    time.Duration
	neverClose bool // bug: stays open forever
	leakEvery  int  // bug: lets every n-th call through while open
	none       bool // no breaker at all
}

const callEvery = 10 * time.Millisecond

// drive sends a call every 10 ms for 30 s; the dependency is down in
// [10s, 20s) and, with noise, every 100th call before 10 s also fails.
func (b fakeBreaker) drive(noise bool) (calls []Call, arrivals []time.Duration) {
	down := func(t time.Duration) bool { return t >= 10*time.Second && t < 20*time.Second }
	failures := 0
	open := false
	var until time.Duration
	for i := 0; i < 3000; i++ {
		t := time.Duration(i) * callEvery
		if open && (b.neverClose || t < until) && !(b.leakEvery > 0 && i%b.leakEvery == 0) {
			calls = append(calls, Call{At: t, Latency: time.Millisecond})
			continue
		}
		probe := open
		arrivals = append(arrivals, t)
		fail := down(t) || (noise && i%100 == 50 && t < 10*time.Second)
		c := Call{At: t, Latency: 5 * time.Millisecond, OK: !fail}
		if fail {
			c.Latency = 200 * time.Millisecond
		}
		calls = append(calls, c)
		if b.none {
			continue
		}
		switch {
		case probe && fail:
			until = t + b.openFor
		case probe:
			open, failures = false, 0
		case fail:
			failures++
			if failures >= b.threshold {
				open, until = true, t+b.openFor
			}
		default:
			failures = 0
		}
	}
	return calls, arrivals
}

func verify(b fakeBreaker) BreakerReport {
	calls, arr := b.drive(false)
	return VerifyBreaker(BreakerInput{Calls: calls, Arrivals: arr, FaultFrom: 10 * time.Second, FaultTo: 20 * time.Second})
}

func TestVerifyBreakerHealthy(t *testing.T) {
	// Five failures at 10.00..10.04 s open it; fast-fails from 10.05 s;
	// probes at 12.04, 14.04, 16.04, 18.04 s fail and re-open it; the probe
	// at 20.04 s succeeds and it stays closed.
	r := verify(fakeBreaker{threshold: 5, openFor: 2 * time.Second})
	assert.True(t, r.Tripped)
	assert.Equal(t, 10050*time.Millisecond, r.TripAt)
	assert.Equal(t, 5, r.CallsBeforeTrip)
	assert.Equal(t, time.Millisecond, r.FastFailP99)
	assert.Equal(t, 999-4, r.FastFails) // calls 10.05..20.03 s less 4 probes
	assert.Equal(t, 4, r.ProbesSeen)
	assert.Equal(t, 4, r.ArrivalsWhileOpen)
	assert.Equal(t, 5, r.Opens)
	assert.True(t, r.Reclosed)
	assert.Equal(t, 20040*time.Millisecond, r.RecloseAt)
	assert.Equal(t, 40*time.Millisecond, r.RecloseDelay)
	assert.Equal(t, 9990*time.Millisecond, r.OpenDuration)

	exp := BreakerExpect{MaxCallsBeforeTrip: 10, MaxFastFailP99: 5 * time.Millisecond, MaxArrivalsWhileOpen: 5, MustReclose: true, MaxRecloseDelay: 3 * time.Second}
	for _, f := range r.Check(exp) {
		assert.True(t, f.OK, "%+v", f)
	}
}

func TestVerifyBreakerMisconfigured(t *testing.T) {
	exp := BreakerExpect{MaxCallsBeforeTrip: 10, MaxArrivalsWhileOpen: 5, MustReclose: true}
	failed := func(r BreakerReport) []string {
		var out []string
		for _, f := range r.Check(exp) {
			if !f.OK {
				out = append(out, f.Check)
			}
		}
		return out
	}

	none := verify(fakeBreaker{none: true})
	assert.False(t, none.Tripped)
	assert.Contains(t, none.Detail, "never opened")
	assert.Contains(t, failed(none), "breaker trips")

	stuck := verify(fakeBreaker{threshold: 5, openFor: 2 * time.Second, neverClose: true})
	assert.True(t, stuck.Tripped)
	assert.False(t, stuck.Reclosed)
	assert.Contains(t, stuck.Detail, "never reclosed")
	assert.Equal(t, []string{"recloses"}, failed(stuck))

	leaky := verify(fakeBreaker{threshold: 5, openFor: 2 * time.Second, leakEvery: 10})
	assert.Greater(t, leaky.ArrivalsWhileOpen, 50)
	assert.Contains(t, failed(leaky), "arrivals while open")

	slow := verify(fakeBreaker{threshold: 50, openFor: 2 * time.Second})
	assert.Equal(t, 50, slow.CallsBeforeTrip)
	assert.Contains(t, failed(slow), "calls before trip")
}

func TestBreakerIgnoresHarmlessNoise(t *testing.T) {
	noise := Window{0, 10 * time.Second}
	calls, _ := fakeBreaker{threshold: 5, openFor: 2 * time.Second}.drive(true)
	assert.Equal(t, 0, FastFailsIn(calls, noise, 0), "1% isolated errors must not trip a 5-in-a-row breaker")
	touchy, _ := fakeBreaker{threshold: 1, openFor: 2 * time.Second}.drive(true)
	assert.Greater(t, FastFailsIn(touchy, noise, 0), 0, "a breaker that opens on one error trips on noise")
}
