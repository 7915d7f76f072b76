package toxi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoServer answers every line with the same line, until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// roundTrip sends one line through conn and returns how long the echo took.
func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader, msg string) time.Duration {
	t.Helper()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	start := time.Now()
	_, err := c.Write([]byte(msg + "\n"))
	require.NoError(t, err)
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, msg+"\n", line)
	return time.Since(start)
}

func startServer(t *testing.T, logw io.Writer) *Server {
	t.Helper()
	s, err := Start(context.Background(), logw)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestProxyLatencyToxicAppliedAndRemoved(t *testing.T) {
	upstream := echoServer(t)
	s := startServer(t, nil)
	require.Equal(t, "http://"+s.Addr(), s.URL())

	cl := toxiclient.NewClient(s.URL())
	p, err := cl.CreateProxy("a__b", "127.0.0.1:0", upstream)
	require.NoError(t, err)
	// The server reports the port it actually bound.
	host, port, err := net.SplitHostPort(p.Listen)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", host)
	assert.NotEqual(t, "0", port)

	c, err := net.Dial("tcp", p.Listen)
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)
	roundTrip(t, c, r, "plain")

	const delay = 300 * time.Millisecond
	_, err = p.AddToxic("lat", "latency", "downstream", 1, toxiclient.Attributes{"latency": delay.Milliseconds()})
	require.NoError(t, err)
	toxics, err := p.Toxics()
	require.NoError(t, err)
	require.Len(t, toxics, 1)
	assert.Equal(t, "latency", toxics[0].Type)

	// A latency toxic holds every chunk for at least its latency: a causal
	// lower bound, not a timing measurement.
	assert.GreaterOrEqual(t, roundTrip(t, c, r, "slow"), delay)

	require.NoError(t, p.RemoveToxic("lat"))
	toxics, err = p.Toxics()
	require.NoError(t, err)
	assert.Empty(t, toxics)
	roundTrip(t, c, r, "again")

	// The proxy is visible by name, as another client would see it.
	all, err := cl.Proxies()
	require.NoError(t, err)
	require.Contains(t, all, "a__b")
	assert.Equal(t, upstream, all["a__b"].Upstream)
}

func TestDisableEnableKeepsListenAddress(t *testing.T) {
	upstream := echoServer(t)
	s := startServer(t, nil)
	cl := toxiclient.NewClient(s.URL())
	p, err := cl.CreateProxy("x__y", "127.0.0.1:0", upstream)
	require.NoError(t, err)
	addr := p.Listen

	require.NoError(t, p.Disable())
	_, err = net.DialTimeout("tcp", addr, time.Second)
	require.Error(t, err, "a disabled proxy must not accept connections")

	require.NoError(t, p.Enable())
	assert.Equal(t, addr, p.Listen)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	roundTrip(t, c, bufio.NewReader(c), "back")
}

func TestCloseLeavesNoListener(t *testing.T) {
	upstream := echoServer(t)
	var logs safeBuffer
	s := startServer(t, &logs)
	cl := toxiclient.NewClient(s.URL())
	p1, err := cl.CreateProxy("p1", "127.0.0.1:0", upstream)
	require.NoError(t, err)
	p2, err := cl.CreateProxy("p2", "127.0.0.1:0", upstream)
	require.NoError(t, err)

	// An open connection through a proxy is cut by Close too.
	c, err := net.Dial("tcp", p1.Listen)
	require.NoError(t, err)
	defer c.Close()
	roundTrip(t, c, bufio.NewReader(c), "hi")

	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")

	for _, addr := range []string{s.Addr(), p1.Listen, p2.Listen} {
		_, err := net.DialTimeout("tcp", addr, time.Second)
		assert.Error(t, err, "%s still accepts connections after Close", addr)
	}
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = c.Read(make([]byte, 1))
	assert.Error(t, err, "connection through a closed proxy must be cut")
	var ne net.Error
	if errors.As(err, &ne) {
		assert.False(t, ne.Timeout(), "connection was left open (read timed out)")
	}
}

func TestServeStopsWithContext(t *testing.T) {
	// Reserve a port, then hand it to Serve.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	upstream := echoServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- Serve(ctx, addr, nil, nil) }()

	cl := toxiclient.NewClient(addr)
	var p *toxiclient.Proxy
	require.Eventually(t, func() bool {
		p, err = cl.CreateProxy("s1", "127.0.0.1:0", upstream)
		return err == nil
	}, 10*time.Second, 20*time.Millisecond)

	cancel()
	select {
	case err := <-errc:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	for _, a := range []string{addr, p.Listen} {
		_, err := net.DialTimeout("tcp", a, time.Second)
		assert.Error(t, err, "%s still accepts connections after Serve returned", a)
	}
}

func TestServeReportsBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	err = Serve(context.Background(), ln.Addr().String(), nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "listen")
}

// safeBuffer is a log sink shared with the server's goroutines.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
