// Package memconn is an in-process connection: a buffered, full-duplex
// net.Conn pair and a net.Listener handing out their server ends. It carries
// what a loopback TCP connection between two parts of one process would,
// without the kernel: on the machines firedrill runs on, a loopback hop's
// syscalls, wake-ups and context switches cost more than the HTTP work on
// either side of it.
//
// Like a socket, a write returns once its bytes are buffered (up to
// bufferLimit per direction), a read returns what is buffered, deadlines
// interrupt blocked calls with os.ErrDeadlineExceeded, and closing one end
// gives the other EOF after what was already written. One reader and one
// writer per end at a time, as net/http and Toxiproxy use a connection.
package memconn

import (
	"context"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// bufferLimit bounds what one direction holds unread, as a socket's buffer
// does: a writer blocks beyond it until the reader catches up.
const bufferLimit = 1 << 20

// backlog is how many dialled connections wait for Accept.
const backlog = 128

// Listener hands out the server ends of connections made by Dial.
type Listener struct {
	addr  net.Addr
	conns chan *Conn
	done  chan struct{}
	once  sync.Once
}

// NewListener returns a listener reporting addr as its address (and as the
// local address of the connections it accepts).
func NewListener(addr net.Addr) *Listener {
	return &Listener{addr: addr, conns: make(chan *Conn, backlog), done: make(chan struct{})}
}

// Accept waits for the next connection.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops Accept and refuses further dials; connections already
// accepted stay open. Connections dialled but not yet accepted are closed.
func (l *Listener) Close() error {
	l.once.Do(func() {
		close(l.done)
		for {
			select {
			case c := <-l.conns:
				_ = c.Close()
			default:
				return
			}
		}
	})
	return nil
}

// Addr is the address given to NewListener.
func (l *Listener) Addr() net.Addr { return l.addr }

// Dial connects to l as remote (the address its accepted end reports as
// RemoteAddr) and returns the client end. It fails with ECONNREFUSED once l
// is closed, as a TCP dial to a closed port does.
func (l *Listener) Dial(ctx context.Context, remote net.Addr) (net.Conn, error) {
	client, server := Pipe(remote, l.addr)
	select {
	case <-l.done:
		return nil, refused(l.addr)
	default:
	}
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, refused(l.addr)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func refused(addr net.Addr) error {
	return &net.OpError{Op: "dial", Net: "memory", Addr: addr, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

// Pipe returns the two ends of a connection between client and server
// addresses: what one writes, the other reads.
func Pipe(clientAddr, serverAddr net.Addr) (client, server *Conn) {
	a, b := newBuffer(), newBuffer() // a: client -> server, b: server -> client
	client = &Conn{rx: b, tx: a, local: clientAddr, remote: serverAddr, closed: make(chan struct{})}
	server = &Conn{rx: a, tx: b, local: serverAddr, remote: clientAddr, closed: make(chan struct{})}
	client.rd.init()
	client.wd.init()
	server.rd.init()
	server.wd.init()
	return client, server
}

// buffer is one direction of a connection.
type buffer struct {
	mu       sync.Mutex
	data     []byte
	off      int           // data[off:] is unread
	eof      bool          // the writing end closed: EOF once drained
	gone     bool          // the reading end closed: writes fail
	readable chan struct{} // a token after each write or close (capacity 1)
	writable chan struct{} // a token after each read or close (capacity 1)
}

func newBuffer() *buffer {
	return &buffer{readable: make(chan struct{}, 1), writable: make(chan struct{}, 1)}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Conn is one end of a connection made by Pipe or Listener.Dial.
type Conn struct {
	rx, tx        *buffer
	local, remote net.Addr
	rd, wd        deadline
	closeOnce     sync.Once
	closed        chan struct{}
}

var _ net.Conn = (*Conn)(nil)

// Read reads what the other end wrote, waiting for it if none is buffered.
func (c *Conn) Read(p []byte) (int, error) {
	for {
		if err := c.usable(&c.rd); err != nil {
			return 0, err
		}
		if len(p) == 0 {
			return 0, nil
		}
		b := c.rx
		b.mu.Lock()
		if unread := len(b.data) - b.off; unread > 0 {
			n := copy(p, b.data[b.off:])
			b.off += n
			if b.off == len(b.data) {
				b.data, b.off = b.data[:0], 0
			}
			b.mu.Unlock()
			signal(b.writable)
			return n, nil
		}
		eof := b.eof
		b.mu.Unlock()
		if eof {
			return 0, io.EOF
		}
		select {
		case <-b.readable:
		case <-c.rd.wait():
		case <-c.closed:
		}
	}
}

// Write buffers p for the other end, waiting while bufferLimit bytes are
// unread.
func (c *Conn) Write(p []byte) (int, error) {
	n := 0
	for {
		if err := c.usable(&c.wd); err != nil {
			return n, err
		}
		b := c.tx
		b.mu.Lock()
		if b.gone {
			b.mu.Unlock()
			return n, &net.OpError{Op: "write", Net: "memory", Addr: c.remote, Err: os.NewSyscallError("write", syscall.EPIPE)}
		}
		if space := bufferLimit - (len(b.data) - b.off); space > 0 && n < len(p) {
			if b.off > 0 && b.off >= len(b.data)/2 { // reuse the front once half is read
				b.data = b.data[:copy(b.data, b.data[b.off:])]
				b.off = 0
			}
			k := min(space, len(p)-n)
			b.data = append(b.data, p[n:n+k]...)
			n += k
		}
		b.mu.Unlock()
		signal(b.readable)
		if n == len(p) {
			return n, nil
		}
		select {
		case <-b.writable:
		case <-c.wd.wait():
		case <-c.closed:
		}
	}
}

// usable is the error a call on c meets before doing anything: c closed,
// or the deadline d passed.
func (c *Conn) usable(d *deadline) error {
	select {
	case <-c.closed:
		return net.ErrClosed
	default:
	}
	select {
	case <-d.wait():
		return os.ErrDeadlineExceeded
	default:
	}
	return nil
}

// Close closes this end: the other end reads EOF after what was written,
// and its writes fail. Blocked calls on this end return net.ErrClosed.
func (c *Conn) Close() error {
	first := false
	c.closeOnce.Do(func() {
		first = true
		close(c.closed)
		c.rx.mu.Lock()
		c.rx.gone, c.rx.data, c.rx.off = true, nil, 0
		c.rx.mu.Unlock()
		signal(c.rx.writable)
		c.tx.mu.Lock()
		c.tx.eof = true
		c.tx.mu.Unlock()
		signal(c.tx.readable)
	})
	if !first {
		return net.ErrClosed
	}
	return nil
}

func (c *Conn) LocalAddr() net.Addr  { return c.local }
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

func (c *Conn) SetDeadline(t time.Time) error {
	c.rd.set(t)
	c.wd.set(t)
	return nil
}

func (c *Conn) SetReadDeadline(t time.Time) error  { c.rd.set(t); return nil }
func (c *Conn) SetWriteDeadline(t time.Time) error { c.wd.set(t); return nil }

// deadline is a channel closed when a time passes (as net.Pipe's).
type deadline struct {
	mu     sync.Mutex
	timer  *time.Timer
	cancel chan struct{}
}

func (d *deadline) init() { d.cancel = make(chan struct{}) }

// set arms the deadline at t; the zero time disarms it.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.cancel // the timer fired: wait for its close
	}
	d.timer = nil
	passed := isClosed(d.cancel)
	if t.IsZero() {
		if passed {
			d.cancel = make(chan struct{})
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if passed {
			d.cancel = make(chan struct{})
		}
		cancel := d.cancel
		d.timer = time.AfterFunc(dur, func() { close(cancel) })
		return
	}
	if !passed {
		close(d.cancel)
	}
}

// wait is closed once the deadline passed.
func (d *deadline) wait() chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cancel
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
