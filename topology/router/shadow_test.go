package router

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
)

// recordingInstance answers work with a fixed status and body and keeps
// what it received.
type recordingInstance struct {
	srv    *httptest.Server
	status atomic.Int32
	block  chan struct{} // nil: answer at once
	mu     sync.Mutex
	got    []received
}

type received struct {
	method, path, body string
	header             http.Header
}

func newRecordingInstance(t *testing.T, status int, body string, block chan struct{}) *recordingInstance {
	t.Helper()
	ri := &recordingInstance{block: block}
	ri.status.Store(int32(status))
	ri.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/healthz" {
			return
		}
		b, _ := io.ReadAll(req.Body)
		ri.mu.Lock()
		ri.got = append(ri.got, received{req.Method, req.URL.RequestURI(), string(b), req.Header.Clone()})
		ri.mu.Unlock()
		if ri.block != nil {
			select {
			case <-ri.block:
			case <-req.Context().Done():
				return
			}
		}
		w.WriteHeader(int(ri.status.Load()))
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(ri.srv.Close)
	return ri
}

func (ri *recordingInstance) received() []received {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	return append([]received(nil), ri.got...)
}

func (ri *recordingInstance) backend(name, version string) Backend {
	return Backend{Name: name, Version: version, Addr: ri.srv.Listener.Addr().String()}
}

func samplesOf(rec *record.Recorder, src record.Source, version string) []record.Sample {
	return rec.Select(record.Filter{Source: src, Service: "svc", Version: version})
}

// Mirrored traffic never reaches the client: every caller gets the live
// version's answer, while the mirror receives a copy of each request (body
// and headers included, marked as a mirror) whose 500s are recorded as
// Shadow samples of the mirror version, not as served requests.
func TestMirrorNeverReachesClientAndIsMeasured(t *testing.T) {
	h := newHarness(t, Config{})
	live := newRecordingInstance(t, http.StatusOK, "live", nil)
	dark := newRecordingInstance(t, http.StatusInternalServerError, "dark", nil)
	h.addBackends(live.backend("live-0", "v1"), dark.backend("dark-0", "v2"))
	require.NoError(t, h.r.SetWeights(map[string]int{"v1": 100}))
	require.NoError(t, h.r.SetMirror("v2", 100))

	const n = 40
	for i := range n {
		var resp *http.Response
		var err error
		if i%2 == 0 {
			resp, err = h.client.Post(h.url+"/orders?i="+string(rune('a'+i%26)), "text/plain", strings.NewReader("order body"))
		} else {
			resp, err = h.client.Get(h.url + "/items")
		}
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "live", string(body))
		assert.Equal(t, "live-0", resp.Header.Get(HeaderBackend))
	}
	require.Eventually(t, func() bool { return len(samplesOf(h.rec, record.Shadow, "v2")) == n }, 10*time.Second, 5*time.Millisecond)

	got := dark.received()
	require.Len(t, got, n)
	posts := 0
	for _, g := range got {
		assert.Equal(t, "1", g.header.Get(HeaderMirror))
		if g.method == http.MethodPost {
			posts++
			assert.Equal(t, "order body", g.body, "the copy carries the body")
			assert.True(t, strings.HasPrefix(g.path, "/orders?i="))
		}
	}
	assert.Equal(t, n/2, posts)
	for _, g := range live.received() {
		if g.method == http.MethodPost {
			assert.Equal(t, "order body", g.body, "and so does the live request")
		}
		assert.Empty(t, g.header.Get(HeaderMirror))
	}

	shadow := samplesOf(h.rec, record.Shadow, "v2")
	for _, s := range shadow {
		assert.Equal(t, int16(500), s.Status, "measured")
	}
	assert.Len(t, samplesOf(h.rec, record.Hop, "v1"), n)
	assert.Empty(t, samplesOf(h.rec, record.Hop, "v2"), "mirrored requests are not served requests")
	assert.Equal(t, int64(n), h.r.Shadow().Mirrored)

	// Off again: no more copies.
	require.NoError(t, h.r.SetMirror("", 0))
	h.countBy(10)
	assert.Len(t, dark.received(), n)
}

// A mirror that hangs does not hold up callers, and mirroring a share of
// requests copies about that share.
func TestSlowMirrorDoesNotDelayCallers(t *testing.T) {
	h := newHarness(t, Config{Timeout: 5 * time.Second})
	block := make(chan struct{})
	live := newRecordingInstance(t, http.StatusOK, "live", nil)
	dark := newRecordingInstance(t, http.StatusOK, "dark", block)
	h.addBackends(live.backend("live-0", "v1"), dark.backend("dark-0", "v2"))
	require.NoError(t, h.r.SetWeights(map[string]int{"v1": 100}))
	require.NoError(t, h.r.SetMirror("v2", 30))

	by, codes := h.countBy(200)
	assert.Equal(t, map[int]int{200: 200}, codes, "every caller answered while every mirror copy hangs")
	assert.Equal(t, map[string]int{"live-0": 200}, by)
	mirrored := h.r.Shadow().Mirrored
	assert.InDelta(t, 60, mirrored, 25, "about 30%% of 200")
	assert.Empty(t, samplesOf(h.rec, record.Shadow, "v2"), "the copies are still hanging")
	close(block)
	require.Eventually(t, func() bool { return int64(len(samplesOf(h.rec, record.Shadow, "v2"))) == mirrored }, 10*time.Second, 5*time.Millisecond)
}

// Synthetic traffic reaches a version without weight, is marked, measured
// as Shadow samples, and stops when told.
func TestSyntheticTraffic(t *testing.T) {
	h := newHarness(t, Config{})
	live := newRecordingInstance(t, http.StatusOK, "live", nil)
	preview := newRecordingInstance(t, http.StatusOK, "preview", nil)
	h.addBackends(live.backend("live-0", "v1"), preview.backend("preview-0", "v2"))
	require.NoError(t, h.r.SetWeights(map[string]int{"v1": 100}))

	_, err := h.r.StartSynthetic("v2", 0, nil)
	require.Error(t, err)
	stop, err := h.r.StartSynthetic("v2", 100, []string{"/a", "/b"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(samplesOf(h.rec, record.Shadow, "v2")) >= 10 }, 10*time.Second, 5*time.Millisecond)
	stop()
	// Once stopped, what was sent settles and nothing more comes.
	var settled int
	require.Eventually(t, func() bool {
		n := len(preview.received())
		ok := n == settled && int64(len(samplesOf(h.rec, record.Shadow, "v2"))) == h.r.Shadow().Synthetic
		settled = n
		return ok
	}, 10*time.Second, 100*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	assert.Len(t, preview.received(), settled)

	paths := map[string]int{}
	for _, g := range preview.received() {
		paths[g.path]++
		assert.Equal(t, "1", g.header.Get(HeaderSynthetic))
		assert.True(t, strings.HasPrefix(g.header.Get("X-Request-Id"), "synthetic-svc-"))
	}
	assert.Positive(t, paths["/a"])
	assert.Positive(t, paths["/b"])
	assert.Empty(t, live.received(), "synthetic requests go to the preview only")
	assert.Empty(t, samplesOf(h.rec, record.Hop, "v2"))
}
