package docker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
)

// The reaper stands in for testcontainers' Ryuk, whose image cannot be
// pulled here. It runs from the firedrill image with the Docker socket
// mounted and listens on a port published on 127.0.0.1. The harness
// connects, says "HELLO <run id>" and keeps the connection open for the
// life of the run. When the connection drops (the harness died, even by
// SIGKILL: the kernel closes its sockets) and no harness says HELLO again
// within the grace period, the reaper removes every container and network
// labelled with the run id, then exits (it runs with auto-remove). A
// "STATUS <run id>" line is answered LIVE or ORPHAN (for `firedrill clean`).

// Reaper protocol lines.
const (
	reaperHello  = "HELLO"
	reaperStatus = "STATUS"
	reaperOK     = "OK"
	reaperLive   = "LIVE"
	reaperOrphan = "ORPHAN"
)

// ReaperConfig configures RunReaper.
type ReaperConfig struct {
	RunID  string
	Listen string // default 0.0.0.0:7001
	// Grace is how long a dropped harness has to come back (default 5s).
	Grace time.Duration
	// FirstContact is how long to wait for the first HELLO (default 60s).
	FirstContact time.Duration
	// Self is the reaper's own container id or its prefix (default: the
	// hostname, which Docker sets to the short id); it is removed last, by
	// exiting.
	Self string
	Log  io.Writer

	// reap replaces the removal and listener the Listen address (tests of
	// the protocol without Docker).
	reap     func(ctx context.Context) error
	listener net.Listener
}

// RunReaper serves the reaper protocol until the harness is gone for good,
// then removes the run's containers and networks and returns. It also
// returns (without removing anything) when ctx ends.
func RunReaper(ctx context.Context, cfg ReaperConfig) error {
	if cfg.RunID == "" {
		return errors.New("reaper: no run id; pass --run")
	}
	cfg.defaults()
	ln := cfg.listener
	if ln == nil {
		var err error
		if ln, err = (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Listen); err != nil {
			return fmt.Errorf("reaper: listen on %s: %w", cfg.Listen, err)
		}
	}
	defer ln.Close()
	w := &reaperWatch{cfg: cfg, lost: make(chan struct{}, 1)}
	go w.serve(ln)
	return w.watch(ctx)
}

func (cfg *ReaperConfig) defaults() {
	if cfg.Listen == "" {
		cfg.Listen = fmt.Sprintf("0.0.0.0:%d", reaperPort)
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 5 * time.Second
	}
	if cfg.FirstContact <= 0 {
		cfg.FirstContact = 60 * time.Second
	}
	if cfg.Self == "" {
		cfg.Self, _ = os.Hostname()
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.reap == nil {
		c := *cfg
		cfg.reap = func(ctx context.Context) error { return reap(ctx, c, c.Log) }
	}
}

// reaperWatch counts the harness connections holding a run alive.
type reaperWatch struct {
	cfg      ReaperConfig
	mu       sync.Mutex
	harness  int           // connections holding the run alive
	everSeen bool          // a harness said HELLO once
	lost     chan struct{} // the last connection closed
}

func (w *reaperWatch) state() (harness int, everSeen bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.harness, w.everSeen
}

// serve answers every connection until ln closes.
func (w *reaperWatch) serve(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go w.handle(conn)
	}
}

// handle answers STATUS, or holds a HELLO connection until it closes.
func (w *reaperWatch) handle(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return
	}
	verb, id, _ := strings.Cut(strings.TrimSpace(line), " ")
	if id != w.cfg.RunID {
		fmt.Fprintf(conn, "ERR wrong run\n")
		return
	}
	switch verb {
	case reaperStatus:
		if n, _ := w.state(); n > 0 {
			fmt.Fprintln(conn, reaperLive)
		} else {
			fmt.Fprintln(conn, reaperOrphan)
		}
		return
	case reaperHello:
	default:
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	w.mu.Lock()
	w.harness++
	w.everSeen = true
	w.mu.Unlock()
	fmt.Fprintf(w.cfg.Log, "reaper: harness of run %s connected from %s\n", w.cfg.RunID, conn.RemoteAddr())
	fmt.Fprintln(conn, reaperOK)
	_, _ = io.Copy(io.Discard, conn) // until the harness goes away
	w.mu.Lock()
	w.harness--
	left := w.harness
	w.mu.Unlock()
	fmt.Fprintf(w.cfg.Log, "reaper: harness connection of run %s closed (%d left)\n", w.cfg.RunID, left)
	if left == 0 {
		select {
		case w.lost <- struct{}{}:
		default:
		}
	}
}

// watch reaps when no harness came within FirstContact, or when the last
// one left and none came back within Grace; it returns when ctx ends.
func (w *reaperWatch) watch(ctx context.Context) error {
	first := time.NewTimer(w.cfg.FirstContact)
	defer first.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-first.C:
			if _, seen := w.state(); !seen {
				fmt.Fprintf(w.cfg.Log, "reaper: no harness of run %s within %s\n", w.cfg.RunID, w.cfg.FirstContact)
				return w.cfg.reap(ctx)
			}
			continue
		case <-w.lost:
		}
		// Gone: wait for it to come back.
		deadline := time.NewTimer(w.cfg.Grace)
		select {
		case <-ctx.Done():
			deadline.Stop()
			return nil
		case <-deadline.C:
		}
		if n, _ := w.state(); n == 0 {
			return w.cfg.reap(ctx)
		}
	}
}

// reap removes the run's containers (but itself) and networks.
func reap(ctx context.Context, cfg ReaperConfig, logw io.Writer) error {
	c, err := client.New(client.FromEnv)
	if err != nil {
		return fmt.Errorf("reaper: docker client: %w", err)
	}
	defer c.Close()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	n, err := removeRun(rctx, c, cfg.RunID, cfg.Self)
	fmt.Fprintf(logw, "reaper: removed %d containers and networks of run %s\n", n, cfg.RunID)
	return err
}

// heartbeat is the harness's side of the reaper connection.
type heartbeat struct{ conn net.Conn }

// holdReaper connects to the reaper at addr (127.0.0.1:PORT) and holds the
// connection until close. It retries while the reaper starts listening.
func holdReaper(ctx context.Context, addr, runID string) (*heartbeat, error) {
	var lastErr error
	for {
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
		if err == nil {
			_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
			fmt.Fprintf(conn, "%s %s\n", reaperHello, runID)
			line, rerr := bufio.NewReader(conn).ReadString('\n')
			if rerr == nil && strings.TrimSpace(line) == reaperOK {
				_ = conn.SetDeadline(time.Time{})
				return &heartbeat{conn: conn}, nil
			}
			_ = conn.Close()
			err = fmt.Errorf("reaper answered %q (%v)", strings.TrimSpace(line), rerr)
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to the reaper at %s: %w (last: %v)", addr, ctx.Err(), lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (h *heartbeat) close() {
	if h != nil {
		_ = h.conn.Close()
	}
}

// reaperStatusOf asks the reaper at addr whether a harness holds the run.
func reaperStatusOf(ctx context.Context, addr, runID string) (live bool, err error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	fmt.Fprintf(conn, "%s %s\n", reaperStatus, runID)
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return false, err
	}
	switch strings.TrimSpace(line) {
	case reaperLive:
		return true, nil
	case reaperOrphan:
		return false, nil
	}
	return false, fmt.Errorf("reaper answered %q", strings.TrimSpace(line))
}
