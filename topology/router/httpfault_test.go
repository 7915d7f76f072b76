package router

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
)

// do sends one GET with headers and returns status and the fault header.
func (h *harness) do(path string, hdr map[string]string) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.url+path, nil)
	require.NoError(h.t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := h.client.Do(req)
	require.NoError(h.t, err)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get(HeaderFault)
}

// A share of requests is aborted: the count is binomial(n, p), and with a
// fixed seed it falls within 4 standard deviations of n*p (closed form).
func TestHTTPAbortShare(t *testing.T) {
	h := newHarness(t, Config{Seed: 7})
	inst := newInstance(t, "a-0", "v1")
	h.add(inst)
	require.NoError(t, h.r.AddFault(HTTPFault{ID: "ab", Abort: 503, Percent: 30}))

	const n, p = 2000, 0.30
	aborted := 0
	for i := 0; i < n; i++ {
		code, id := h.do("/work", nil)
		if code == 503 {
			assert.Equal(t, "ab", id)
			aborted++
		} else {
			require.Equal(t, 200, code)
		}
	}
	sd := math.Sqrt(n * p * (1 - p))
	assert.InDelta(t, n*p, aborted, 4*sd, "aborted %d of %d", aborted, n)
	assert.EqualValues(t, n-aborted, inst.served.Load(), "aborted requests never reach the backend")

	hops := h.rec.Select(record.Filter{Source: record.Hop})
	got503 := 0
	for _, s := range hops {
		if s.Status == 503 {
			got503++
			assert.Zero(t, s.Version, "an aborted request is recorded without a backend")
		}
	}
	assert.Equal(t, aborted, got503, "every aborted request is a hop sample")

	require.True(t, h.r.RemoveFault("ab"))
	assert.False(t, h.r.RemoveFault("ab"))
	for i := 0; i < 50; i++ {
		code, _ := h.do("/work", nil)
		require.Equal(t, 200, code, "reverted")
	}
	assert.Empty(t, h.r.Faults())
}

// A fault on an edge matches only requests from that caller service; path
// and header narrow it further.
func TestHTTPFaultMatching(t *testing.T) {
	h := newHarness(t, Config{})
	h.add(newInstance(t, "a-0", "v1"))
	require.NoError(t, h.r.AddFault(HTTPFault{ID: "edge", Caller: "checkout", Abort: 500}))
	require.NoError(t, h.r.AddFault(HTTPFault{ID: "path", PathPrefix: "/pay", Header: "X-Tenant", HeaderValue: "blue", Abort: 429}))

	cases := []struct {
		path string
		hdr  map[string]string
		want int
	}{
		{"/x", map[string]string{HeaderCaller: "checkout@v1"}, 500},
		{"/x", map[string]string{HeaderCaller: "checkout"}, 500},
		{"/x", map[string]string{HeaderCaller: "checkoutx@v1"}, 200},
		{"/x", map[string]string{HeaderCaller: "gateway@v1"}, 200},
		{"/x", nil, 200},
		{"/pay/1", map[string]string{"X-Tenant": "blue"}, 429},
		{"/pay/1", map[string]string{"X-Tenant": "red"}, 200},
		{"/pay/1", nil, 200},
		{"/other", map[string]string{"X-Tenant": "blue"}, 200},
	}
	for _, c := range cases {
		code, _ := h.do(c.path, c.hdr)
		assert.Equal(t, c.want, code, "%s %v", c.path, c.hdr)
	}
	require.Error(t, h.r.AddFault(HTTPFault{ID: "bad"}), "neither abort nor delay")
	require.Error(t, h.r.AddFault(HTTPFault{ID: "bad", Abort: 99}))
	require.Error(t, h.r.AddFault(HTTPFault{ID: "bad", Delay: time.Second, Percent: 101}))
}

// A delay shows in the hop latency and the request still reaches a backend.
func TestHTTPDelay(t *testing.T) {
	h := newHarness(t, Config{})
	inst := newInstance(t, "a-0", "v1")
	h.add(inst)
	const d = 80 * time.Millisecond
	require.NoError(t, h.r.AddFault(HTTPFault{ID: "slow", Delay: d}))
	for i := 0; i < 5; i++ {
		code, _ := h.do("/work", nil)
		require.Equal(t, 200, code)
	}
	h.r.RemoveFault("slow")
	for i := 0; i < 5; i++ {
		code, _ := h.do("/work", nil)
		require.Equal(t, 200, code)
	}
	hops := h.rec.Select(record.Filter{Source: record.Hop})
	require.Len(t, hops, 10)
	for i, s := range hops {
		if i < 5 {
			assert.GreaterOrEqual(t, s.Latency(), d, "delayed request %d", i)
		} else {
			assert.Less(t, s.Latency(), d, "request %d after the revert", i)
		}
	}
	assert.EqualValues(t, 10, inst.served.Load())
}
