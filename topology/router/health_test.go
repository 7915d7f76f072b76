package router

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

func TestUnhealthyBackendLeavesAndReturns(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := newInstance(t, "a", "v1"), newInstance(t, "b", "v1")
	h.add(a, b)
	require.Equal(t, 1, h.countEvents(record.EvInstanceHealthy, "a"))

	switched := time.Now()
	a.health.Store(http.StatusInternalServerError)
	ev := h.waitEvent(record.EvInstanceUnhealthy, "a", time.Time{})
	// Cause before effect, and it takes at least UnhealthyAfter-1 intervals
	// after the first failing check (2 failures, 50ms apart).
	assert.True(t, ev.At.After(switched), "unhealthy at %v, switched at %v", ev.At, switched)
	assert.Contains(t, ev.Message, "status 500")
	st, _ := status(h.r.Backends(), "a")
	assert.False(t, st.Healthy)
	assert.Contains(t, st.LastError, "status 500")

	// The table was rebuilt before the event: no request reaches a now.
	servedBefore := a.served.Load()
	by, codes := h.countBy(40)
	assert.Equal(t, map[int]int{200: 40}, codes)
	assert.Equal(t, map[string]int{"b": 40}, by)
	assert.Equal(t, servedBefore, a.served.Load())

	recovered := time.Now()
	a.health.Store(http.StatusOK)
	back := h.waitEvent(record.EvInstanceHealthy, "a", recovered)
	assert.True(t, back.At.After(ev.At))
	by, _ = h.countBy(40)
	assert.Equal(t, map[string]int{"a": 20, "b": 20}, by, "round-robin again")
}

func TestClosedListenerIsUnhealthy(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := newInstance(t, "a", "v1"), newInstance(t, "b", "v1")
	h.add(a, b)
	h.countBy(10) // leaves kept-alive connections to a in the router's pool

	// Close only the listener: established connections live on, as with a
	// process that stopped accepting. Health checks use fresh connections,
	// so they see it.
	from := time.Now()
	require.NoError(t, a.srv.Listener.Close())
	h.waitEvent(record.EvInstanceUnhealthy, "a", from)
	st, _ := status(h.r.Backends(), "a")
	assert.Contains(t, st.LastError, "connection refused")

	by, codes := h.countBy(20)
	assert.Equal(t, map[int]int{200: 20}, codes)
	assert.Equal(t, map[string]int{"b": 20}, by)
}

func TestTCPHealthCheck(t *testing.T) {
	hc := fastHealth
	hc.HTTP, hc.TCP = "", true
	h := newHarness(t, Config{Health: hc})
	a := newInstance(t, "a", "v1")
	a.health.Store(http.StatusInternalServerError) // ignored by a TCP check
	h.add(a)

	from := time.Now()
	a.srv.Close()
	h.waitEvent(record.EvInstanceUnhealthy, "a", from)
	code, hdr, _ := h.get("/x")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, NoHealthyBackend, hdr.Get(HeaderRouter))
}

func TestWaitHealthy(t *testing.T) {
	r := New(Config{Service: "svc", Health: fastHealth})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	assert.ErrorContains(t, r.WaitHealthy(ctx, "nobody"), "no such backend")

	sick := newInstance(t, "sick", "v1")
	sick.health.Store(http.StatusServiceUnavailable)
	r.Add(sick.backend())
	err := r.WaitHealthy(ctx, "sick")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "status 503", "the error carries the last check's failure")

	// Close wakes a waiter.
	done := make(chan error, 1)
	go func() { done <- r.WaitHealthy(context.Background(), "sick") }()
	require.NoError(t, r.Close())
	select {
	case err := <-done:
		assert.ErrorContains(t, err, "closed")
	case <-time.After(10 * time.Second):
		t.Fatal("WaitHealthy did not return after Close")
	}
}

func TestHealthDefaults(t *testing.T) {
	s := newHealthSpec(scenarios.Health{HTTP: "ready"})
	assert.Equal(t, healthSpec{path: "/ready", interval: DefaultInterval, timeout: DefaultCheckTimeout,
		unhealthyAfter: DefaultUnhealthyAfter, healthyAfter: DefaultHealthyAfter}, s)
	assert.Equal(t, "", newHealthSpec(scenarios.Health{}).path, "no path: TCP check")
}

// A backend that is not answering yet when it is added (a process just
// started) is checked again after a short backoff, not a whole interval:
// with a 30 s interval, it is healthy long before the second interval
// check would have run. Once healthy, failures wait for the interval.
func TestFirstChecksBackOffShortly(t *testing.T) {
	hc := fastHealth
	hc.Interval = scenarios.Duration(30 * time.Second)
	h := newHarness(t, Config{Health: hc})
	a := newInstance(t, "a", "v1")
	a.health.Store(http.StatusServiceUnavailable)
	h.r.Add(a.backend())
	time.Sleep(50 * time.Millisecond) // a few failed checks
	a.health.Store(http.StatusOK)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, h.r.WaitHealthy(ctx, "a"), "healthy after the short backoff, not after the 30 s interval")
	// The event is logged just after the waiters are woken (outside the lock).
	require.Eventually(t, func() bool { return h.countEvents(record.EvInstanceHealthy, "a") >= 1 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, 1, h.countEvents(record.EvInstanceHealthy, "a"))
}

// A wait that ends names the backend's last health answer (a rollout's
// not_ready event).
func TestWaitHealthySaysTheLastAnswer(t *testing.T) {
	h := newHarness(t, Config{})
	a := newInstance(t, "a", "v1")
	a.health.Store(http.StatusServiceUnavailable)
	h.r.Add(a.backend())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := h.r.WaitHealthy(ctx, "a")
	nh, ok := errors.AsType[*NotHealthyError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "a", nh.Backend)
	assert.Contains(t, nh.LastCheck, "status 503")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
