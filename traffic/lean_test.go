package traffic

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/internal/keepalive/keepalivetest"
	"github.com/firedrill/firedrill/record"
)

// leanFor builds the generator's requests for cfg as Start does.
func leanFor(t *testing.T, cfg Config) (*leanClient, []*http.Request, []headerField) {
	cfg = cfg.withDefaults()
	var fixed []headerField
	host := ""
	for k, v := range cfg.Headers {
		k = textproto.CanonicalMIMEHeaderKey(k)
		if k == "Host" {
			host = v
			continue
		}
		fixed = append(fixed, headerField{key: k, val: []string{v}})
	}
	var reqs []*http.Request
	for _, p := range cfg.Paths {
		req, err := http.NewRequest(cfg.Method, strings.TrimSuffix(cfg.URL, "/")+p, nil)
		require.NoError(t, err)
		if host != "" {
			req.Host = host
		}
		reqs = append(reqs, req)
	}
	return newLeanClient(cfg, reqs, fixed), reqs, fixed
}

func TestLeanSendsWhatTransportSends(t *testing.T) {
	addr, heads := keepalivetest.HeadPeer(t, "HTTP/1.1 200 OK\r\nX-Firedrill-Version: v2\r\nX-Firedrill-Instance: api-1\r\nContent-Length: 2\r\n\r\nok", 0)
	for _, hdr := range []map[string]string{
		nil,
		{"user-agent": "drill/1", "accept": "*/*", "authorization": " Bearer x ", "zz-last": "", "host": "api.example"},
		{"User-Agent": "", "A-First": "1"},
	} {
		cfg := Config{URL: "http://" + addr, Paths: []string{"/a?x=1", "/b%2Fc/d e"}, Headers: hdr, Timeout: 5 * time.Second}
		lean, reqs, fixed := leanFor(t, cfg)
		require.NotNil(t, lean, "%v", hdr)
		t.Cleanup(lean.closeIdle)
		tr := newClient(cfg.withDefaults())
		t.Cleanup(tr.CloseIdleConnections)
		g := &Generator{header: fixed, idPre: "id-"}
		for i, req := range reqs {
			seq := uint64(40 + i)
			want := req.Clone(context.Background())
			want.Header = g.headers(seq)
			r := send(tr, want, context.Background())
			require.Equal(t, http.StatusOK, r.status)
			wantHead := <-heads
			for range 2 { // the second time on a kept-alive connection
				got := lean.send(context.Background(), context.Background(), i, "id-", seq)
				assert.Equal(t, r, got)
				assert.Equal(t, wantHead, <-heads, "%v %s", hdr, req.URL)
			}
		}
		assert.Equal(t, 1, lean.pool.Idle(), "one connection, kept alive and reused")
	}
}

func TestLeanOnlyWhereTheTransportIsNotNeeded(t *testing.T) {
	for name, cfg := range map[string]Config{
		"post":       {URL: "http://127.0.0.1:1", Method: http.MethodPost},
		"https":      {URL: "https://127.0.0.1:1"},
		"own req id": {URL: "http://127.0.0.1:1", Headers: map[string]string{"X-Request-Id": "mine"}},
		"odd host":   {URL: "http://127.0.0.1:1", Headers: map[string]string{"Host": "bücher.example"}},
	} {
		lean, _, _ := leanFor(t, cfg)
		assert.Nil(t, lean, name)
	}
}

func TestLeanRetriesAConnectionThePeerClosed(t *testing.T) {
	addr, heads := keepalivetest.HeadPeer(t, "HTTP/1.1 204 No Content\r\n\r\n", 1)
	lean, _, _ := leanFor(t, Config{URL: "http://" + addr, Timeout: 5 * time.Second})
	t.Cleanup(lean.closeIdle)
	for i := range 3 {
		r := lean.send(context.Background(), context.Background(), 0, "id-", uint64(i))
		assert.Equal(t, result{status: http.StatusNoContent}, r, "request %d", i)
		<-heads
		time.Sleep(20 * time.Millisecond) // the peer's close arrives
	}
}

func TestLeanFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // accepts (backlog), never answers
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	lean, _, _ := leanFor(t, Config{URL: "http://" + ln.Addr().String(), Timeout: 5 * time.Second})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.Equal(t, result{err: classify(context.DeadlineExceeded)}, lean.send(ctx, context.Background(), 0, "id-", 1), "timeout")

	parent, stop := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, stop)
	assert.Equal(t, result{canceled: true}, lean.send(parent, parent, 0, "id-", 2), "the generator's end")

	refused, _, _ := leanFor(t, Config{URL: "http://127.0.0.1:1", Timeout: time.Second})
	r := refused.send(context.Background(), context.Background(), 0, "id-", 3)
	assert.Equal(t, record.ErrConnRefused, r.err, "a refused connection")
}

// BenchmarkLeanSend is one generator GET on a kept-alive connection to a
// loopback server: an allocation guard for the lean client (the server's
// allocations count too).
func BenchmarkLeanSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()[HeaderVersion] = []string{"v1"}
		_, _ = w.Write([]byte("ok"))
	}))
	b.Cleanup(srv.Close)
	cfg := Config{URL: srv.URL, Paths: []string{"/a", "/b"}, Timeout: 5 * time.Second}.withDefaults()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/a", nil)
	lean := newLeanClient(cfg, []*http.Request{req}, nil)
	b.Cleanup(lean.closeIdle)
	ctx := context.Background()
	b.ReportAllocs()
	var seq uint64
	for b.Loop() {
		seq++
		rctx, cancel := context.WithTimeout(ctx, cfg.Timeout) // as Generator.do
		r := lean.send(rctx, ctx, 0, "id-", seq)
		cancel()
		if r.status != http.StatusOK {
			b.Fatalf("%+v", r)
		}
	}
}

// BenchmarkTransportSend is BenchmarkLeanSend through the http.Client the
// generator keeps for other requests: the reference the lean client beats.
func BenchmarkTransportSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()[HeaderVersion] = []string{"v1"}
		_, _ = w.Write([]byte("ok"))
	}))
	b.Cleanup(srv.Close)
	cfg := Config{URL: srv.URL, Timeout: 5 * time.Second}.withDefaults()
	client := newClient(cfg)
	b.Cleanup(client.CloseIdleConnections)
	g := &Generator{idPre: "id-"}
	tmpl, _ := http.NewRequest(http.MethodGet, srv.URL+"/a", nil)
	ctx := context.Background()
	b.ReportAllocs()
	var seq uint64
	for b.Loop() {
		seq++
		rctx, cancel := context.WithTimeout(ctx, cfg.Timeout) // as Generator.do
		req := tmpl.WithContext(rctx)
		req.Header = g.headers(seq)
		r := send(client, req, ctx)
		cancel()
		if r.status != http.StatusOK {
			b.Fatalf("%+v", r)
		}
	}
}
