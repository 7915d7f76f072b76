package toxi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/internal/memconn"
)

// memEcho is an echo server reachable only in memory, counting the
// connections it accepted and telling when one of them ends.
type memEcho struct {
	ln       *memconn.Listener
	mu       sync.Mutex
	accepted []net.Conn
	ended    chan struct{}
}

func newMemEcho(t *testing.T) *memEcho {
	e := &memEcho{ln: memconn.NewListener(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}), ended: make(chan struct{}, 16)}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := e.ln.Accept()
			if err != nil {
				return
			}
			e.mu.Lock()
			e.accepted = append(e.accepted, c)
			e.mu.Unlock()
			wg.Go(func() {
				_, _ = io.Copy(c, c)
				e.ended <- struct{}{}
			})
		}
	})
	t.Cleanup(func() {
		_ = e.ln.Close()
		e.mu.Lock()
		for _, c := range e.accepted {
			_ = c.Close()
		}
		e.mu.Unlock()
		wg.Wait()
	})
	return e
}

// The patched Toxiproxy opens upstream connections through DialUpstream:
// bytes reach an in-memory server, toxics still apply, a reset_peer toxic
// (whose set-up asserted TCP on both ends and panicked) resets the client's
// TCP connection, and disabling the proxy closes the in-memory side.
func TestDialUpstreamInMemory(t *testing.T) {
	echo := newMemEcho(t)
	var dialled []string
	var mu sync.Mutex
	s, err := StartDialing(context.Background(), nil, func(client net.Conn, upstream string) (net.Conn, error) {
		mu.Lock()
		dialled = append(dialled, upstream)
		mu.Unlock()
		return echo.ln.Dial(context.Background(), client.RemoteAddr())
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	p, err := toxiclient.NewClient(s.URL()).CreateProxy("a__b", "127.0.0.1:0", "127.0.0.1:9")
	require.NoError(t, err)

	c, err := net.Dial("tcp", p.Listen)
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)
	roundTrip(t, c, r, "through memory")
	mu.Lock()
	assert.Equal(t, []string{"127.0.0.1:9"}, dialled)
	mu.Unlock()
	echo.mu.Lock()
	require.Len(t, echo.accepted, 1)
	assert.Equal(t, c.LocalAddr().String(), echo.accepted[0].RemoteAddr().String(), "the server sees the proxied client's address")
	echo.mu.Unlock()

	const delay = 200 * time.Millisecond
	_, err = p.AddToxic("lat", "latency", "upstream", 1, toxiclient.Attributes{"latency": delay.Milliseconds()})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, roundTrip(t, c, r, "slow"), delay)
	require.NoError(t, p.RemoveToxic("lat"))

	// reset_peer on a new connection: the link starts with the toxic.
	_, err = p.AddToxic("rst", "reset_peer", "downstream", 1, toxiclient.Attributes{"timeout": 0})
	require.NoError(t, err)
	c2, err := net.Dial("tcp", p.Listen)
	require.NoError(t, err)
	defer c2.Close()
	require.NoError(t, c2.SetDeadline(time.Now().Add(10*time.Second)))
	_, _ = c2.Write([]byte("x\n"))
	_, err = c2.Read(make([]byte, 8))
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF), "reset_peer ends the client's connection: %v", err)
	require.NoError(t, p.RemoveToxic("rst"))

	// Disabling the proxy (the "down" fault) closes the in-memory upstream.
	require.NoError(t, p.Disable())
	select {
	case <-echo.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("disabling the proxy left its in-memory upstream open")
	}
}
