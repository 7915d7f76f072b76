// Package keepalive is the connection machinery shared by the lean
// HTTP/1.1 GET clients (router, traffic generator, httpsvc fixture): a
// pool of idle keep-alive connections, the test for a connection its peer
// closed while idle, interim-response skipping and interrupting a blocked
// connection when a context ends. Each client writes its own request and
// handles its own response; only this part is common.
package keepalive

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// Conn is one connection with its buffers.
type Conn struct {
	net.Conn
	R *bufio.Reader
	W *bufio.Writer
}

// Pool keeps idle connections to one address, last in first out. The
// zero MaxIdle keeps none. A Pool must not be copied after first use.
type Pool struct {
	Addr    string
	Dialer  net.Dialer
	MaxIdle int
	// Dial, when set, opens connections instead of Dialer (e.g. in memory
	// to a router of this process).
	Dial func(ctx context.Context) (net.Conn, error)

	mu     sync.Mutex
	idle   []*Conn
	closed bool
}

// Get returns an idle connection (reused) or dials a new one.
func (p *Pool) Get(ctx context.Context) (c *Conn, reused bool, err error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		c = p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, true, nil
	}
	p.mu.Unlock()
	var nc net.Conn
	if p.Dial != nil {
		nc, err = p.Dial(ctx)
	} else {
		nc, err = p.Dialer.DialContext(ctx, "tcp", p.Addr)
	}
	if err != nil {
		return nil, false, err
	}
	return &Conn{Conn: nc, R: bufio.NewReader(nc), W: bufio.NewWriter(nc)}, false, nil
}

// Put keeps c for a later Get, or closes it when MaxIdle are kept or the
// pool was closed.
func (p *Pool) Put(c *Conn) {
	p.mu.Lock()
	if !p.closed && len(p.idle) < p.MaxIdle {
		p.idle = append(p.idle, c)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	_ = c.Close()
}

// Release puts c back when keep, else closes it.
func (p *Pool) Release(c *Conn, keep bool) {
	if keep {
		p.Put(c)
		return
	}
	_ = c.Close()
}

// CloseIdle closes the idle connections and keeps none from now on;
// connections in use are closed when they are put back.
func (p *Pool) CloseIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		_ = c.Close()
	}
}

// Idle is the number of idle connections kept.
func (p *Pool) Idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

// Stale says whether err is that of a kept-alive connection its peer
// closed meanwhile: a GET on a reused connection may be sent again on a
// new one, as http.Transport does.
func Stale(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// aLongTimeAgo is a deadline already past: blocked reads and writes fail
// at once.
var aLongTimeAgo = time.Unix(1, 0)

// Interrupt makes the end of ctx fail c's blocked reads and writes (a
// past deadline), until stop is called. stop reports false when ctx ended
// first: c is then unusable.
func Interrupt(ctx context.Context, c *Conn) (stop func() bool) {
	return context.AfterFunc(ctx, func() { _ = c.SetDeadline(aLongTimeAgo) })
}

// ReadResponse reads the final response to req (which may be nil),
// skipping interim 1xx answers as http.Transport does; 101 Switching
// Protocols is final.
func ReadResponse(r *bufio.Reader, req *http.Request) (*http.Response, error) {
	resp, err := http.ReadResponse(r, req)
	for err == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
		resp, err = http.ReadResponse(r, req)
	}
	return resp, err
}
