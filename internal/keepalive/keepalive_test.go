package keepalive

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// peer accepts connections on loopback and reports each accepted one; it
// answers nothing by itself.
func peer(t *testing.T) (addr string, accepted chan net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepted = make(chan net.Conn, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		close(accepted)
		for c := range accepted {
			_ = c.Close()
		}
	})
	return ln.Addr().String(), accepted
}

func TestPoolReusesLastPut(t *testing.T) {
	addr, accepted := peer(t)
	p := &Pool{Addr: addr, MaxIdle: 2}
	t.Cleanup(p.CloseIdle)
	ctx := context.Background()

	a, reused, err := p.Get(ctx)
	require.NoError(t, err)
	assert.False(t, reused, "first Get dials")
	b, reused, err := p.Get(ctx)
	require.NoError(t, err)
	assert.False(t, reused, "no idle connection while a is in use")
	srvA, srvB := <-accepted, <-accepted
	t.Cleanup(func() { _ = srvA.Close(); _ = srvB.Close() })

	p.Put(a)
	p.Put(b)
	assert.Equal(t, 2, p.Idle())
	got, reused, err := p.Get(ctx)
	require.NoError(t, err)
	assert.True(t, reused)
	assert.Same(t, b, got, "last in, first out")
	got, reused, err = p.Get(ctx)
	require.NoError(t, err)
	assert.True(t, reused)
	assert.Same(t, a, got)
	assert.Zero(t, p.Idle())
	p.Put(a)
	p.Put(b)
}

// closedByPut says whether c was closed (a write on it fails as closed).
func closedByPut(c *Conn) bool {
	_, err := c.Write([]byte("x"))
	return errors.Is(err, net.ErrClosed)
}

func TestPoolKeepsAtMostMaxIdle(t *testing.T) {
	addr, _ := peer(t)
	p := &Pool{Addr: addr, MaxIdle: 1}
	t.Cleanup(p.CloseIdle)
	a, _, err := p.Get(context.Background())
	require.NoError(t, err)
	b, _, err := p.Get(context.Background())
	require.NoError(t, err)
	p.Put(a)
	p.Put(b)
	assert.Equal(t, 1, p.Idle())
	assert.False(t, closedByPut(a), "kept")
	assert.True(t, closedByPut(b), "over MaxIdle: closed")

	c, _, err := p.Get(context.Background())
	require.NoError(t, err)
	p.Release(c, false)
	assert.True(t, closedByPut(c), "released without keep: closed")
	assert.Zero(t, p.Idle())
}

func TestPoolCloseIdleKeepsNoneAfterwards(t *testing.T) {
	addr, _ := peer(t)
	p := &Pool{Addr: addr, MaxIdle: 4}
	inUse, _, err := p.Get(context.Background())
	require.NoError(t, err)
	idle, _, err := p.Get(context.Background())
	require.NoError(t, err)
	p.Put(idle)

	p.CloseIdle()
	assert.True(t, closedByPut(idle), "the idle connection is closed")
	assert.False(t, closedByPut(inUse), "a connection in use is left to its user")
	p.Release(inUse, true)
	assert.True(t, closedByPut(inUse), "put back after CloseIdle: closed")
	assert.Zero(t, p.Idle())
}

func TestPoolDialError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	_, _, err = (&Pool{Addr: addr}).Get(context.Background())
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
}

// TestStaleAfterPeerClose: a kept connection the peer closed fails the
// next exchange with an error Stale recognizes, and a new connection
// from the pool then works, which is the retry the clients make.
func TestStaleAfterPeerClose(t *testing.T) {
	addr, accepted := peer(t)
	p := &Pool{Addr: addr, MaxIdle: 1}
	t.Cleanup(p.CloseIdle)
	c, _, err := p.Get(context.Background())
	require.NoError(t, err)
	p.Put(c)
	require.NoError(t, (<-accepted).Close())

	c, reused, err := p.Get(context.Background())
	require.NoError(t, err)
	require.True(t, reused)
	_, err = c.W.WriteString("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	err = c.W.Flush()
	if err == nil {
		_, err = ReadResponse(c.R, nil)
	}
	require.Error(t, err)
	assert.True(t, Stale(err), "%v", err)
	p.Release(c, false)

	c, reused, err = p.Get(context.Background())
	require.NoError(t, err)
	assert.False(t, reused, "the retry dials anew")
	srv := <-accepted
	t.Cleanup(func() { _ = srv.Close() })
	_, err = srv.Write([]byte("HTTP/1.1 204 No Content\r\n\r\n"))
	require.NoError(t, err)
	resp, err := ReadResponse(c.R, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	p.Release(c, false)
}

func TestStale(t *testing.T) {
	for _, err := range []error{io.EOF, io.ErrUnexpectedEOF, syscall.ECONNRESET, syscall.EPIPE,
		&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}} {
		assert.True(t, Stale(err), "%v", err)
	}
	for _, err := range []error{os.ErrDeadlineExceeded, context.Canceled, syscall.ECONNREFUSED, errors.New("malformed")} {
		assert.False(t, Stale(err), "%v", err)
	}
}

func TestReadResponseSkipsInterim(t *testing.T) {
	wire := "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" +
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n"
	r := bufio.NewReader(strings.NewReader(wire))
	resp, err := ReadResponse(r, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Link"), "interim headers are not kept")
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "ok", string(body))
	resp, err = ReadResponse(r, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode, "101 is final")
}

// TestInterruptEndsABlockedRead: the peer never answers; the end of the
// context fails the blocked read at once, and stop says the context won.
func TestInterruptEndsABlockedRead(t *testing.T) {
	addr, _ := peer(t)
	p := &Pool{Addr: addr, MaxIdle: 1}
	t.Cleanup(p.CloseIdle)
	c, _, err := p.Get(context.Background())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	stop := Interrupt(ctx, c)
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = ReadResponse(c.R, nil)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.Less(t, time.Since(start), 10*time.Second, "interrupted, not a read timeout of its own")
	assert.False(t, Stale(err), "an interrupted connection is not retried")
	assert.False(t, stop(), "the context ended first")
	p.Release(c, false)

	c, _, err = p.Get(context.Background())
	require.NoError(t, err)
	stop = Interrupt(context.Background(), c)
	assert.True(t, stop(), "stopped before any end")
	p.Release(c, false)
}
