package memconn

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/nettest"
)

var (
	clientAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	serverAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
)

// TestConformance runs x/net's net.Conn conformance suite (the one net.Pipe
// passes): basic I/O, ping-pong, racing reads and writes, deadlines, close.
func TestConformance(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		a, b := Pipe(clientAddr, serverAddr)
		return a, b, func() { a.Close(); b.Close() }, nil
	})
}

// A write returns before the reader reads, as on a socket, up to the limit.
func TestWriteIsBuffered(t *testing.T) {
	a, b := Pipe(clientAddr, serverAddr)
	defer a.Close()
	defer b.Close()
	big := make([]byte, bufferLimit)
	if n, err := a.Write(big); n != len(big) || err != nil {
		t.Fatalf("write of the limit: %d, %v", n, err)
	}
	a.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	n, err := a.Write([]byte("x"))
	if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write beyond the limit with nobody reading: %d, %v; want a timeout", n, err)
	}
	a.SetWriteDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { _, err := a.Write([]byte("tail")); done <- err }()
	got, err := io.ReadAll(io.LimitReader(b, int64(len(big)+4)))
	if err != nil || len(got) != len(big)+4 || string(got[len(big):]) != "tail" {
		t.Fatalf("read back %d bytes (%v), tail %q", len(got), err, got[max(0, len(got)-4):])
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Closing one end: the other reads what was written, then EOF; its writes
// fail with EPIPE.
func TestCloseGivesEOFAfterData(t *testing.T) {
	a, b := Pipe(clientAddr, serverAddr)
	a.Write([]byte("last words"))
	a.Close()
	got, err := io.ReadAll(b)
	if err != nil || string(got) != "last words" {
		t.Fatalf("after close: %q, %v", got, err)
	}
	if _, err := b.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("write to a closed peer: %v, want EPIPE", err)
	}
	if err := a.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
}

// A deadline in the past interrupts a blocked read at once (net/http aborts
// its background read so).
func TestPastDeadlineInterruptsRead(t *testing.T) {
	a, b := Pipe(clientAddr, serverAddr)
	defer a.Close()
	defer b.Close()
	got := make(chan error, 1)
	go func() { _, err := b.Read(make([]byte, 1)); got <- err }()
	time.Sleep(10 * time.Millisecond)
	b.SetReadDeadline(time.Unix(1, 0))
	select {
	case err := <-got:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("read after a past deadline: %v, want a timeout net.Error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a past deadline did not interrupt the read")
	}
	b.SetReadDeadline(time.Time{})
	a.Write([]byte("y"))
	if n, err := b.Read(make([]byte, 1)); n != 1 || err != nil {
		t.Fatalf("read after clearing the deadline: %d, %v", n, err)
	}
}

// An http.Server on the listener answers an http.Client dialling it, many
// requests on one keep-alive connection, and sees the dialler's address.
func TestHTTPOverListener(t *testing.T) {
	ln := NewListener(serverAddr)
	var mu sync.Mutex
	var remotes []string
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		remotes = append(remotes, r.RemoteAddr)
		mu.Unlock()
		w.Write([]byte("hello " + r.URL.Path))
	})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	dials := 0
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		dials++
		return ln.Dial(ctx, clientAddr)
	}}}
	for i := 0; i < 50; i++ {
		resp, err := client.Get("http://" + serverAddr.String() + "/p")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "hello /p" {
			t.Fatalf("body %q", body)
		}
	}
	if dials != 1 {
		t.Errorf("%d dials for 50 sequential requests, want 1 (keep-alive)", dials)
	}
	if remotes[0] != clientAddr.String() {
		t.Errorf("server saw RemoteAddr %q, want %q", remotes[0], clientAddr)
	}
	srv.Close()
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := ln.Dial(context.Background(), clientAddr); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial after close: %v, want ECONNREFUSED", err)
	}
}

// Raw HTTP/1.1 bytes pass unchanged both ways (what Toxiproxy relays).
func TestBytesPassUnchanged(t *testing.T) {
	ln := NewListener(serverAddr)
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c) // echo
	}()
	c, err := ln.Dial(context.Background(), clientAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := strings.Repeat("GET /work HTTP/1.1\r\nHost: x\r\n\r\n", 1000)
	go c.Write([]byte(msg))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(bufio.NewReader(c), got); err != nil || string(got) != msg {
		t.Fatalf("echo differs (%v)", err)
	}
}
