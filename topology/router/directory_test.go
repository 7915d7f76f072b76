package router

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A connection from the directory reaches the router in memory and is
// served as one accepted on its TCP address: the backend answers, the
// request is recorded like any other.
func TestDirectoryDialsRouterInMemory(t *testing.T) {
	h := newHarness(t, Config{})
	h.add(newInstance(t, "a", "v1"))
	var d Directory
	d.Add(h.r)

	peer := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40001}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(_ context.Context, _, addr string) (net.Conn, error) {
			c, err := d.DialUpstream(fakeClient{peer}, addr)
			if err == nil {
				if _, tcp := c.(*net.TCPConn); tcp {
					t.Errorf("dial to the router's own address went over TCP")
				}
			}
			return c, err
		}}}
	before := h.rec.Len()
	for range 3 {
		resp, err := client.Get(h.url + "/orders")
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		assert.Equal(t, "a", resp.Header.Get(HeaderBackend))
	}
	assert.Equal(t, before+3, h.rec.Len(), "in-memory requests are recorded like TCP ones")

	// An address no router of the directory serves is dialled over TCP.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	c, err := d.DialUpstream(fakeClient{peer}, ln.Addr().String())
	require.NoError(t, err)
	_, tcp := c.(*net.TCPConn)
	assert.True(t, tcp, "unknown address: a TCP dial")
	c.Close()

	// A closed router refuses, as its closed port would.
	require.NoError(t, h.r.Close())
	_, err = d.DialUpstream(fakeClient{peer}, h.r.Addr())
	assert.True(t, errors.Is(err, syscall.ECONNREFUSED), "dial to a closed router: %v", err)
}

// A router listening on all addresses is found at the loopback address.
func TestDirectoryFindsWildcardListenerAtLoopback(t *testing.T) {
	r := New(Config{Service: "svc", Health: fastHealth})
	addr, err := r.Start(context.Background(), "0.0.0.0:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	var d Directory
	d.Add(r)
	_, port, _ := net.SplitHostPort(addr)
	c, err := d.DialUpstream(fakeClient{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}}, net.JoinHostPort("127.0.0.1", port))
	require.NoError(t, err)
	defer c.Close()
	_, tcp := c.(*net.TCPConn)
	assert.False(t, tcp, "127.0.0.1:%s should be the wildcard router, in memory", port)
}

// fakeClient is the proxied client connection: DialUpstream reads only its
// address.
type fakeClient struct{ addr net.Addr }

func (f fakeClient) RemoteAddr() net.Addr { return f.addr }

func (fakeClient) Read([]byte) (int, error)         { return 0, io.EOF }
func (fakeClient) Write(p []byte) (int, error)      { return len(p), nil }
func (fakeClient) Close() error                     { return nil }
func (f fakeClient) LocalAddr() net.Addr            { return f.addr }
func (fakeClient) SetDeadline(time.Time) error      { return nil }
func (fakeClient) SetReadDeadline(time.Time) error  { return nil }
func (fakeClient) SetWriteDeadline(time.Time) error { return nil }
