package router

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
)

// TestOutlierEjection: a backend that passes health checks but answers
// 5xx to work is ejected after ConsecutiveErrors, for BaseTime times its
// ejection count.
func TestOutlierEjection(t *testing.T) {
	h := newHarness(t, Config{Ejection: Ejection{ConsecutiveErrors: 3, BaseTime: 300 * time.Millisecond}})
	a, b, c := newInstance(t, "a", "v1"), newInstance(t, "b", "v1"), newInstance(t, "c", "v1")
	a.work.Store(http.StatusInternalServerError)
	h.add(a, b, c)

	// Round-robin over a, b, c: a sees every third request, so its third
	// 500 comes within 9 requests; then it is out.
	_, codes := h.countBy(9)
	assert.Equal(t, 3, codes[500])
	ev := h.waitEvent(EvInstanceEjected, "a", time.Time{})
	assert.Equal(t, 1, ev.Fields["ejections"])
	assert.Equal(t, "300ms", ev.Fields["duration"])
	st, _ := status(h.r.Backends(), "a")
	assert.True(t, st.Ejected)
	assert.True(t, st.Healthy, "ejection is not a health verdict")

	// While ejected (300ms is long next to a few local requests, but a
	// loaded machine may let it lapse: stop counting once it is back).
	by, _ := h.countBy(6)
	if h.countEvents(EvInstanceUnejected, "a") == 0 {
		assert.Zero(t, by["a"])
	}

	// It returns, fails again, and the second ejection lasts twice as long.
	h.waitEvent(EvInstanceUnejected, "a", ev.At)
	require.Eventually(t, func() bool {
		h.countBy(3)
		return h.countEvents(EvInstanceEjected, "a") == 2
	}, 10*time.Second, time.Millisecond)
	var second record.Event
	for _, e := range h.events.Events() {
		if e.Kind == EvInstanceEjected && e.Target == "a" {
			second = e
		}
	}
	assert.Equal(t, 2, second.Fields["ejections"])
	assert.Equal(t, "600ms", second.Fields["duration"])
	assert.Zero(t, h.countEvents(EvInstanceEjected, "b"))
	assert.Zero(t, h.countEvents(EvInstanceEjected, "c"))
}

// TestEjectionCap: with both backends failing and MaxPercent 50, only one
// of the two may be ejected; the other keeps serving.
func TestEjectionCap(t *testing.T) {
	h := newHarness(t, Config{Ejection: Ejection{ConsecutiveErrors: 2, BaseTime: time.Minute, MaxPercent: 50}})
	a, b := newInstance(t, "a", "v1"), newInstance(t, "b", "v1")
	a.work.Store(http.StatusBadGateway)
	b.work.Store(http.StatusServiceUnavailable)
	h.add(a, b)

	_, codes := h.countBy(40)
	assert.Equal(t, 40, codes[502]+codes[503], "the router passes 5xx through, no retry")
	ejected := 0
	for _, st := range h.r.Backends() {
		if st.Ejected {
			ejected++
		}
	}
	assert.Equal(t, 1, ejected)
	assert.Equal(t, 1, h.countEvents(EvInstanceEjected, "a")+h.countEvents(EvInstanceEjected, "b"))
	// The one left in rotation took the traffic after the ejection.
	assert.EqualValues(t, 40, a.served.Load()+b.served.Load())
	assert.True(t, a.served.Load() > 20 || b.served.Load() > 20)
}

func TestEjectionOffByDefault(t *testing.T) {
	h := newHarness(t, Config{})
	a := newInstance(t, "a", "v1")
	a.work.Store(http.StatusInternalServerError)
	h.add(a)
	_, codes := h.countBy(20)
	assert.Equal(t, map[int]int{500: 20}, codes)
	assert.Zero(t, h.countEvents(EvInstanceEjected, "a"))
}
