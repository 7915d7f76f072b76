package router

import (
	"context"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/firedrill/firedrill/internal/keepalive"
)

// leanProxy forwards the common request (HTTP/1.x GET without body,
// upgrade, Expect or hop-by-hop headers) to one backend on keep-alive
// connections of its own, in the handler's goroutine. http.Transport hands
// every round trip to a write and a read goroutine of the connection and
// httputil.ReverseProxy clones the request and its headers; on a loopback
// hop those wake-ups and allocations cost about what the syscalls do. What
// reaches the backend and the client is what ReverseProxy (with SetURL)
// sends (TestLeanMatchesReverseProxy); other requests still go through it.
type leanProxy struct {
	addr    string
	backend []string // HeaderBackend value
	pool    keepalive.Pool
}

// leanMaxIdle matches the Transport's MaxIdleConnsPerHost.
const leanMaxIdle = 1024

func newLeanProxy(b Backend) *leanProxy {
	return &leanProxy{addr: b.Addr, backend: []string{b.Name}, pool: keepalive.Pool{
		Addr: b.Addr, Dialer: net.Dialer{KeepAlive: 30 * time.Second}, MaxIdle: leanMaxIdle,
	}}
}

// leanEligible says whether req can take the lean path. hopHeaders
// (shadow.go) are those ReverseProxy removes in both directions.
func leanEligible(req *http.Request) bool {
	if req.Method != http.MethodGet || req.ProtoMajor != 1 || req.ContentLength != 0 ||
		(req.Body != nil && req.Body != http.NoBody) || req.URL.Opaque != "" ||
		!strings.HasPrefix(req.URL.Path, "/") || len(req.TransferEncoding) > 0 {
		return false
	}
	h := req.Header
	for _, k := range hopHeaders {
		if _, ok := h[k]; ok {
			return false
		}
	}
	_, expect := h["Expect"]
	return !expect
}

// forward sends req upstream (lean when eligible) under ctx, and answers w.
func (b *backend) forward(w http.ResponseWriter, req *http.Request, ctx context.Context, r *Router) {
	if !leanEligible(req) {
		b.proxy.ServeHTTP(w, req.WithContext(ctx))
		return
	}
	b.lean.serve(w, req, ctx, func(err error) { r.upstreamError(b, w, req, err) })
}

// serve is one lean round trip; upstreamErr answers a failure before any
// response arrived.
func (p *leanProxy) serve(w http.ResponseWriter, req *http.Request, ctx context.Context, upstreamErr func(error)) {
	lc, resp, stop, err := p.roundTrip(ctx, w, req)
	if err != nil {
		upstreamErr(err)
		return
	}
	ok := p.copyResponse(w, resp)
	stopped := stop()
	p.pool.Release(lc, ok && stopped && !resp.Close)
	if !ok && req.Context().Value(http.ServerContextKey) != nil {
		// As ReverseProxy: the status went out, only aborting tells the
		// client the body broke.
		panic(http.ErrAbortHandler)
	}
}

// roundTrip writes req and reads the response head, on an idle connection
// or a new one. A reused connection the backend closed meanwhile is
// retried on a new one, as http.Transport does for a GET. Until stop, the
// end of ctx interrupts the connection.
func (p *leanProxy) roundTrip(ctx context.Context, w http.ResponseWriter, req *http.Request) (*keepalive.Conn, *http.Response, func() bool, error) {
	for {
		lc, reused, err := p.pool.Get(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		stop := keepalive.Interrupt(ctx, lc)
		resp, err := p.exchange(lc, w, req)
		if err == nil {
			return lc, resp, stop, nil
		}
		stop()
		_ = lc.Close()
		if cerr := ctx.Err(); cerr != nil {
			return nil, nil, nil, cerr // the deadline or the caller, not the connection
		}
		if !reused || !keepalive.Stale(err) {
			return nil, nil, nil, err
		}
	}
}

// exchange writes the request head as ReverseProxy's outgoing request
// would be written and reads the final response head, forwarding 1xx.
func (p *leanProxy) exchange(lc *keepalive.Conn, w http.ResponseWriter, req *http.Request) (*http.Response, error) {
	bw := lc.W
	bw.WriteString(req.Method)
	bw.WriteByte(' ')
	bw.WriteString(req.URL.RequestURI())
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(p.addr)
	bw.WriteString("\r\n")
	if ua := req.Header["User-Agent"]; len(ua) > 0 && ua[0] != "" {
		bw.WriteString("User-Agent: ")
		bw.WriteString(ua[0])
		bw.WriteString("\r\n")
	}
	for k, vs := range req.Header {
		switch k {
		case "User-Agent", "Content-Length", "Host", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto":
			continue
		}
		for _, v := range vs {
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(textproto.TrimString(v))
			bw.WriteString("\r\n")
		}
	}
	bw.WriteString("\r\n")
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	for {
		resp, err := http.ReadResponse(lc.R, req)
		if err != nil {
			return nil, err
		}
		switch {
		case resp.StatusCode == http.StatusSwitchingProtocols:
			return nil, errors.New("backend switched protocols on a request that asked for no upgrade")
		case resp.StatusCode >= 200:
			return resp, nil
		}
		// An interim answer, forwarded as ReverseProxy does; the headers
		// are not kept for the final one.
		h := w.Header()
		for k, vs := range resp.Header {
			h[k] = append(h[k], vs...)
		}
		w.WriteHeader(resp.StatusCode)
		for k := range resp.Header {
			delete(h, k)
		}
	}
}

// copyResponse answers w with resp as ReverseProxy does; false when the
// body copy broke after the status was sent.
func (p *leanProxy) copyResponse(w http.ResponseWriter, resp *http.Response) bool {
	removeHopHeaders(resp.Header)
	resp.Header["X-Firedrill-Backend"] = p.backend
	h := w.Header()
	for k, vs := range resp.Header {
		if len(h[k]) == 0 {
			h[k] = vs // resp is ours alone and dropped after this request
			continue
		}
		h[k] = append(h[k], vs...)
	}
	announced := len(resp.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range resp.Trailer {
			keys = append(keys, k)
		}
		h.Add("Trailer", strings.Join(keys, ", "))
	}
	w.WriteHeader(resp.StatusCode)
	if err := copyBody(w, resp); err != nil {
		return false
	}
	if len(resp.Trailer) > 0 {
		_ = http.NewResponseController(w).Flush() // force chunking, as ReverseProxy
	}
	if len(resp.Trailer) == announced {
		for k, vs := range resp.Trailer {
			h[k] = append(h[k], vs...)
		}
		return true
	}
	for k, vs := range resp.Trailer {
		for _, v := range vs {
			h.Add(http.TrailerPrefix+k, v)
		}
	}
	return true
}

// copyBody copies the body with a pooled buffer, flushing after every
// write when the length is unknown or it is an event stream (as
// ReverseProxy's flushInterval).
func copyBody(w http.ResponseWriter, resp *http.Response) error {
	flush := resp.ContentLength == -1 || eventStream(resp.Header.Get("Content-Type"))
	buf := bufPool{}.Get()
	defer bufPool{}.Put(buf)
	rc := http.NewResponseController(w)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if flush {
				_ = rc.Flush()
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// eventStream says whether ct is text/event-stream, parsing only what
// starts like it.
func eventStream(ct string) bool {
	const es = "text/event-stream"
	if len(ct) < len(es) || !strings.EqualFold(ct[:len(es)], es) {
		return false
	}
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == es
}

// removeHopHeaders drops the headers ReverseProxy drops from a response.
func removeHopHeaders(h http.Header) {
	for _, f := range h["Connection"] {
		for _, sf := range strings.Split(f, ",") {
			if sf = textproto.TrimString(sf); sf != "" {
				h.Del(sf)
			}
		}
	}
	for _, k := range hopHeaders {
		delete(h, k)
	}
}

// closeIdle closes the idle connections; connections in use are closed
// when their request ends. The backend is going away.
func (p *leanProxy) closeIdle() { p.pool.CloseIdle() }
