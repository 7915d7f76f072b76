package traffic

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firedrill/firedrill/internal/keepalive"
)

// leanClient sends the generator's GETs on keep-alive connections of its
// own, in the worker's goroutine. http.Transport hands every round trip to
// the connection's write and read goroutines and derives a context per
// request; at thousands of requests per second that costs about what the
// syscalls do. The bytes on the wire are what the Transport wrote
// (TestLeanSendsWhatTransportSends); other methods keep the http.Client.
type leanClient struct {
	pool keepalive.Pool
	// heads[i] is path i's request head split around the X-Request-Id value.
	heads [][2]string
}

// newLeanClient returns nil when the requests need what only the
// http.Client does (another method or scheme, an unusual host).
func newLeanClient(cfg Config, reqs []*http.Request, fixed []headerField) *leanClient {
	if cfg.Method != http.MethodGet || len(reqs) == 0 {
		return nil
	}
	c := &leanClient{pool: keepalive.Pool{
		Dialer:  net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second},
		MaxIdle: cfg.MaxInFlight,
		Dial:    cfg.Dial,
	}}
	ua := "Go-http-client/1.1"
	var lines []string // sorted as Header.Write sorts them
	for _, f := range fixed {
		v := textproto.TrimString(strings.NewReplacer("\n", " ", "\r", " ").Replace(f.val[0]))
		switch f.key {
		case "User-Agent":
			ua = v
		case HeaderRequestID, "Content-Length", "Transfer-Encoding", "Trailer":
			return nil // rare; the Transport's handling applies
		default:
			lines = append(lines, f.key+": "+v+"\r\n")
		}
	}
	lines = append(lines, HeaderRequestID+": ")
	slices.Sort(lines)
	at := slices.Index(lines, HeaderRequestID+": ")
	for _, req := range reqs {
		host := req.Host
		if host == "" {
			host = req.URL.Host
		}
		addr := req.URL.Host
		if req.URL.Port() == "" {
			addr = net.JoinHostPort(req.URL.Hostname(), "80")
		}
		if req.URL.Scheme != "http" || !plainHost(host) || (c.pool.Addr != "" && c.pool.Addr != addr) {
			return nil
		}
		c.pool.Addr = addr
		head := "GET " + req.URL.RequestURI() + " HTTP/1.1\r\nHost: " + host + "\r\n"
		if ua != "" {
			head += "User-Agent: " + ua + "\r\n"
		}
		c.heads = append(c.heads, [2]string{head + strings.Join(lines[:at+1], ""), "\r\n" + strings.Join(lines[at+1:], "") + "\r\n"})
	}
	return c
}

// plainHost is a host the Transport sends unchanged.
func plainHost(h string) bool {
	if h == "" {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_:[]", r)) {
			return false
		}
	}
	_, err := url.Parse("http://" + h)
	return err == nil
}

// send is one request of path i with request id idPre+seq, bounded by
// ctx; parent is the generator's context (its end is a cancellation).
func (c *leanClient) send(ctx, parent context.Context, i int, idPre string, seq uint64) result {
	for {
		lc, reused, err := c.pool.Get(ctx)
		if err != nil {
			return failure(ctxErr(ctx, err), parent)
		}
		stop := keepalive.Interrupt(ctx, lc)
		r, keep, err := c.exchange(lc, i, idPre, seq)
		stopped := stop()
		c.pool.Release(lc, err == nil && keep && stopped)
		if err == nil {
			return r
		}
		err = ctxErr(ctx, err)
		if r.status == 0 && reused && ctx.Err() == nil && keepalive.Stale(err) {
			continue // a kept-alive connection the server closed: again on a new one
		}
		f := failure(err, parent)
		f.version, f.instance = r.version, r.instance
		return f
	}
}

// ctxErr prefers the context's end to the interrupted connection's error.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

// exchange writes the request and reads the whole response; keep says
// whether lc may be reused.
func (c *leanClient) exchange(lc *keepalive.Conn, i int, idPre string, seq uint64) (r result, keep bool, err error) {
	h := c.heads[i]
	bw := lc.W
	bw.WriteString(h[0])
	bw.WriteString(idPre)
	var num [20]byte
	bw.Write(strconv.AppendUint(num[:0], seq, 10))
	bw.WriteString(h[1])
	if err := bw.Flush(); err != nil {
		return r, false, err
	}
	resp, err := keepalive.ReadResponse(lc.R, nil)
	if err != nil {
		return r, false, err
	}
	r.status = resp.StatusCode
	if v := resp.Header[HeaderVersion]; len(v) > 0 {
		r.version = v[0]
	}
	if v := resp.Header[HeaderInstance]; len(v) > 0 {
		r.instance = v[0]
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return r, false, err
	}
	return r, !resp.Close && resp.StatusCode != http.StatusSwitchingProtocols, nil
}

// closeIdle closes the idle connections and keeps none from now on.
func (c *leanClient) closeIdle() {
	if c == nil {
		return
	}
	c.pool.CloseIdle()
}

// send is request seq through the lean client when it can take it.
func (g *Generator) send(ctx context.Context, seq uint64) result {
	i := seq % uint64(len(g.reqs))
	if g.lean != nil {
		return g.lean.send(ctx, g.ctx, int(i), g.idPre, seq)
	}
	req := g.reqs[i].WithContext(ctx)
	req.Header = g.headers(seq)
	return send(g.client, req, g.ctx)
}
