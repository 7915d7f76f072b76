package router

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
)

func TestProportional(t *testing.T) {
	cases := []struct {
		in   map[string]int
		want map[string]int
	}{
		{map[string]int{}, map[string]int{}},
		{map[string]int{"v1": 3}, map[string]int{"v1": 100}},
		{map[string]int{"v1": 1, "v2": 1}, map[string]int{"v1": 50, "v2": 50}},
		// 66.67 / 33.33: the larger remainder (v1's .67) gets the spare point.
		{map[string]int{"v1": 2, "v2": 1}, map[string]int{"v1": 67, "v2": 33}},
		// 33.33 each: equal remainders, the spare point goes to the first name.
		{map[string]int{"a": 1, "b": 1, "c": 1}, map[string]int{"a": 34, "b": 33, "c": 33}},
		// 9 of 10 = 90 / 10 exactly.
		{map[string]int{"v1": 9, "v2": 1}, map[string]int{"v1": 90, "v2": 10}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, proportional(c.in), "counts %v", c.in)
	}
}

func TestSetWeightsValidation(t *testing.T) {
	r := New(Config{Service: "svc"})
	t.Cleanup(func() { _ = r.Close() })
	bad := []map[string]int{
		nil,
		{},
		{"v1": 0, "v2": 0},
		{"v1": 90},
		{"v1": 60, "v2": 60},
		{"v1": 110, "v2": -10},
		{"": 100},
	}
	for _, w := range bad {
		assert.Error(t, r.SetWeights(w), "weights %v", w)
	}
	assert.Empty(t, r.Weights(), "a rejected SetWeights must not change the weights")

	require.NoError(t, r.SetWeights(map[string]int{"v1": 100, "v2": 0}))
	require.NoError(t, r.SetWeights(map[string]int{"v1": 75, "ghost": 25}), "unknown versions are allowed")
	assert.Equal(t, map[string]int{"v1": 75, "ghost": 25}, r.Weights())
}

// TestChooseDistribution checks the lock-free weighted draw alone, with
// backends that are plain structs (no I/O).
func TestChooseDistribution(t *testing.T) {
	r := New(Config{Service: "svc", Seed: 7})
	t.Cleanup(func() { _ = r.Close() })
	r.mu.Lock()
	for i, v := range []string{"a", "b", "c"} {
		b := r.newBackend(Backend{Name: fmt.Sprint(v, i), Version: v, Addr: "127.0.0.1:1"})
		b.healthy = true
		r.backends[b.Name] = b
	}
	r.weights = map[string]int{"a": 50, "b": 30, "c": 20}
	r.rebuildLocked()
	r.mu.Unlock()

	const n = 100000
	got := map[string]int{}
	for i := 0; i < n; i++ {
		got[r.table.Load().choose(r.draw()).Version]++
	}
	// Binomial(n=100000, p): sd = sqrt(n p (1-p)); 4 sd bounds:
	//   p=.5: sd=158.1 -> 632; p=.3: sd=144.9 -> 580; p=.2: sd=126.5 -> 506.
	assert.InDelta(t, 50000, got["a"], 632)
	assert.InDelta(t, 30000, got["b"], 580)
	assert.InDelta(t, 20000, got["c"], 506)
}

func TestWeightedSplitOverHTTP(t *testing.T) {
	h := newHarness(t, Config{Seed: 42})
	v1, v2 := newInstance(t, "svc-v1-0", "v1"), newInstance(t, "svc-v2-0", "v2")
	h.add(v1, v2)
	require.NoError(t, h.r.SetWeights(map[string]int{"v1": 90, "v2": 10}))

	// Concurrent senders: the version counts still depend only on the seed,
	// since draw n is a function of (seed, n) whatever request gets it.
	const n, workers = 2000, 4
	var next atomic.Int64
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= n {
				resp, err := h.client.Get(h.url + "/work")
				if !assert.NoError(t, err) {
					return
				}
				resp.Body.Close()
				mu.Lock()
				got[resp.Header.Get(HeaderBackend)]++
				mu.Unlock()
				assert.Equal(t, http.StatusOK, resp.StatusCode)
			}
		}()
	}
	wg.Wait()

	// Binomial(2000, 0.1): mean 200, sd = sqrt(2000*0.1*0.9) = 13.42,
	// 4 sd = 53.7, so v2 gets 147..253 requests.
	assert.Equal(t, n, got["svc-v1-0"]+got["svc-v2-0"])
	assert.InDelta(t, 200, got["svc-v2-0"], 53.7)
	assert.EqualValues(t, got["svc-v1-0"], v1.served.Load())
	assert.EqualValues(t, got["svc-v2-0"], v2.served.Load())

	// The router's own samples agree with what the backends saw.
	assert.Len(t, h.rec.Select(record.Filter{Source: record.Hop, Service: "svc", Version: "v2"}), got["svc-v2-0"])
	assert.Len(t, h.rec.Select(record.Filter{Source: record.Hop, Service: "svc", Version: "v1"}), got["svc-v1-0"])
}

func TestDefaultWeightsFollowBackendCount(t *testing.T) {
	h := newHarness(t, Config{})
	a, b, c := newInstance(t, "a", "v1"), newInstance(t, "b", "v1"), newInstance(t, "c", "v2")
	h.add(a, b, c)
	assert.Equal(t, map[string]int{"v1": 67, "v2": 33}, h.r.Weights())

	// Sequential requests go round-robin over the three backends: exactly
	// 100 each, so v1 gets 2/3 of the traffic.
	by, st := h.countBy(300)
	assert.Equal(t, map[int]int{200: 300}, st)
	assert.Equal(t, map[string]int{"a": 100, "b": 100, "c": 100}, by)
}

func TestFallbackToWeightedVersionWithHealthyBackend(t *testing.T) {
	h := newHarness(t, Config{Seed: 1})
	v1, v2 := newInstance(t, "v1-0", "v1"), newInstance(t, "v2-0", "v2")
	h.add(v1, v2)
	require.NoError(t, h.r.SetWeights(map[string]int{"v1": 50, "v2": 50}))
	from := time.Now()
	v2.health.Store(http.StatusInternalServerError)
	h.waitEvent(record.EvInstanceUnhealthy, "v2-0", from)

	by, st := h.countBy(60)
	assert.Equal(t, map[int]int{200: 60}, st, "v2's share falls back to v1")
	assert.Equal(t, map[string]int{"v1-0": 60}, by)
}

func TestNoBackend503(t *testing.T) {
	h := newHarness(t, Config{Seed: 3})

	// No backend at all.
	code, hdr, _ := h.get("/x")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, NoHealthyBackend, hdr.Get(HeaderRouter))

	// A weight on a version that has no backends: its share is 503.
	v1 := newInstance(t, "v1-0", "v1")
	h.add(v1)
	require.NoError(t, h.r.SetWeights(map[string]int{"v1": 50, "ghost": 50}))
	by, st := h.countBy(100)
	assert.Equal(t, 100, st[200]+st[503])
	assert.Positive(t, st[503])
	assert.Positive(t, st[200])
	assert.Equal(t, st[503], by[""], "the router's own 503s name no backend")

	samples := h.rec.Select(record.Filter{Source: record.Hop, Service: "svc"})
	require.Len(t, samples, 101)
	n503 := 0
	for _, s := range samples {
		if s.Status == 503 {
			n503++
			assert.Equal(t, "", h.rec.Name(s.Version))
			assert.Equal(t, "", h.rec.Name(s.Instance))
		}
	}
	assert.Equal(t, st[503]+1, n503)
}
