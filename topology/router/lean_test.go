package router

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoUpstream answers with what it received (request line, Host, sorted
// headers) and with hop-by-hop, multi-valued and trailer headers of its own;
// /stream answers without a length, flushing in between.
func echoUpstream(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var lines []string
		for k, vs := range r.Header {
			lines = append(lines, k+": "+strings.Join(vs, " | "))
		}
		slices.Sort(lines)
		h := w.Header()
		h.Set("Connection", "X-Drop")
		h.Set("X-Drop", "1")
		h.Set("Keep-Alive", "timeout=5")
		h["X-Multi"] = []string{"a", "b"}
		h.Set("Trailer", "X-Sum")
		w.WriteHeader(http.StatusTeapot)
		if r.URL.Path == "/stream" {
			_, _ = io.WriteString(w, "part one\n")
			_ = http.NewResponseController(w).Flush()
		}
		_, _ = fmt.Fprintf(w, "%s %s\nHost: %s\n%s\n", r.Method, r.RequestURI, r.Host, strings.Join(lines, "\n"))
		h.Set("X-Sum", "42")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestLeanMatchesReverseProxy sends the same requests through the lean path
// and through httputil.ReverseProxy: the backend must see the same request
// and the client the same answer.
func TestLeanMatchesReverseProxy(t *testing.T) {
	up := echoUpstream(t)
	r := New(Config{Service: "svc"})
	t.Cleanup(func() { _ = r.Close() })
	b := r.newBackend(Backend{Name: "a", Version: "v1", Addr: up.Listener.Addr().String()})
	t.Cleanup(b.lean.closeIdle)
	t.Cleanup(b.transport.CloseIdleConnections)

	newReq := func(target string, h map[string][]string) *http.Request {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		for k, vs := range h {
			req.Header[k] = vs
		}
		return req
	}
	cases := []struct {
		target string
		header map[string][]string
	}{
		{"http://svc/orders/1?b=2&a=1", map[string][]string{"User-Agent": {"gen/1"}, "X-Request-Id": {"r-1"}}},
		{"http://svc/p%2Fq/x%20y?", map[string][]string{"X-Forwarded-For": {"10.0.0.1"}, "X-Forwarded-Host": {"h"},
			"X-Multi": {"1", "2"}, "Accept-Encoding": {"gzip"}}}, // no User-Agent at all
		{"http://svc/stream", map[string][]string{"User-Agent": {""}, HeaderCaller: {"gw@v1"}}},
	}
	for _, c := range cases {
		for range 2 { // the second time on a kept-alive connection
			viaProxy, viaLean := httptest.NewRecorder(), httptest.NewRecorder()
			req := newReq(c.target, c.header)
			require.True(t, leanEligible(req), c.target)
			b.proxy.ServeHTTP(viaProxy, req)
			req = newReq(c.target, c.header)
			b.lean.serve(viaLean, req, req.Context(), func(err error) { t.Fatalf("%s: %v", c.target, err) })

			want, got := viaProxy.Result(), viaLean.Result()
			want.Header.Del("Date") // the two may straddle a second
			got.Header.Del("Date")
			assert.Equal(t, want.StatusCode, got.StatusCode, c.target)
			assert.Equal(t, want.Header, got.Header, c.target)
			assert.Equal(t, want.Trailer, got.Trailer, c.target)
			assert.Equal(t, viaProxy.Body.String(), viaLean.Body.String(), c.target)
		}
	}
	assert.Equal(t, 1, b.lean.pool.Idle(), "one connection, kept alive and reused")
}

func TestLeanEligible(t *testing.T) {
	plain := httptest.NewRequest(http.MethodGet, "http://svc/x", nil)
	assert.True(t, leanEligible(plain))
	for name, req := range map[string]*http.Request{
		"post":       httptest.NewRequest(http.MethodPost, "http://svc/x", strings.NewReader("body")),
		"head":       httptest.NewRequest(http.MethodHead, "http://svc/x", nil),
		"upgrade":    withHeader(plain, "Upgrade", "websocket"),
		"connection": withHeader(plain, "Connection", "close"),
		"te":         withHeader(plain, "Te", "trailers"),
		"expect":     withHeader(plain, "Expect", "100-continue"),
	} {
		assert.False(t, leanEligible(req), name)
	}
}

func withHeader(r *http.Request, k, v string) *http.Request {
	c := r.Clone(r.Context())
	c.Header.Set(k, v)
	return c
}

func TestEventStream(t *testing.T) {
	for ct, want := range map[string]bool{
		"text/event-stream": true, "Text/Event-Stream; charset=utf-8": true, " text/event-stream": false,
		"text/event-streamx": false, "application/json": false, "": false,
	} {
		assert.Equal(t, want, eventStream(ct), ct)
	}
}
