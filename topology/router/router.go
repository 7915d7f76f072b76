package router

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firedrill/firedrill/internal/memconn"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// Event kinds the router adds to record's set.
const (
	EvInstanceEjected   = "instance_ejected"
	EvInstanceUnejected = "instance_unejected"
)

// Response headers the router sets.
const (
	HeaderBackend = "X-Firedrill-Backend"
	HeaderRouter  = "X-Firedrill-Router"
	// HeaderCaller is the calling instance's service@version, which the
	// fixture sends on every dependency call; hop samples keep it so that
	// version-skew expectations can tell crossing requests apart.
	HeaderCaller = "X-Firedrill-Caller"
	// NoHealthyBackend is HeaderRouter's value on the router's own 503.
	NoHealthyBackend = "no-healthy-backend"
)

// Defaults for zero Config and Health fields.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultInterval       = time.Second
	DefaultCheckTimeout   = 500 * time.Millisecond
	DefaultUnhealthyAfter = 2
	DefaultHealthyAfter   = 1
	DefaultEjectBaseTime  = 5 * time.Second
	DefaultEjectMaxPct    = 50
)

// Backend is one instance of a service.
type Backend struct {
	Name    string
	Version string
	Addr    string // host:port
}

// Ejection configures passive outlier ejection.
type Ejection struct {
	// ConsecutiveErrors 5xx responses or transport errors in a row eject a
	// backend; 0 turns ejection off.
	ConsecutiveErrors int
	// BaseTime times the number of ejections so far is how long an ejection
	// lasts (default 5s).
	BaseTime time.Duration
	// MaxPercent caps the share of the service's backends ejected at once
	// (default 50).
	MaxPercent int
}

// Config configures a Router.
type Config struct {
	Service  string
	Health   scenarios.Health
	Recorder *record.Recorder // may be nil
	Events   *record.Log      // may be nil
	Seed     int64            // seeds the weighted choice of version
	Timeout  time.Duration    // per upstream request (default 30s)
	Ejection Ejection
}

// BackendStatus is a snapshot of one backend.
type BackendStatus struct {
	Name     string
	Version  string
	Addr     string
	Healthy  bool
	Ejected  bool
	Draining bool
	Inflight int64
	// Ejections counts how often the backend was ejected so far.
	Ejections int
	// LastError is the last failed health check's error ("" after a pass).
	LastError string
}

// Router is a reverse proxy in front of one service's instances.
type Router struct {
	cfg     Config
	health  healthSpec
	timeout time.Duration

	ctx    context.Context // ends on Close; parent of health checks
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// Hot path state, read without locks.
	table     atomic.Pointer[table]
	seq       atomic.Uint64
	mirrorSeq atomic.Uint64

	checker *http.Client
	errLog  *log.Logger
	svcIdx  uint16
	callers sync.Map // caller header -> interned index (proxy.go)

	mu       sync.Mutex
	backends map[string]*backend
	weights  map[string]int // nil: split by healthy backend count
	rr       map[string]*atomic.Uint64
	cohorts  *Cohorts      // nil: versions drawn at random by weight
	mirror   *mirrorSpec   // nil: no mirroring
	changed  chan struct{} // closed and replaced on every state change
	closed   bool
	srv      *http.Server
	addr     string
	mem      *memconn.Listener // in-process connections (DialMemory), served by srv too
	stopCtx  func() bool       // unregisters Start's context.AfterFunc

	// shadow runs mirrored and synthetic requests (see shadow.go).
	shadow tracker
	// faults are the HTTP faults applied to requests (see httpfault.go).
	faults httpFaults

	closeOnce sync.Once
}

// New returns a router for cfg.Service. It serves nothing until Start, but
// backends may be added (and health-checked) before.
func New(cfg Config) *Router {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Ejection.BaseTime <= 0 {
		cfg.Ejection.BaseTime = DefaultEjectBaseTime
	}
	if cfg.Ejection.MaxPercent <= 0 {
		cfg.Ejection.MaxPercent = DefaultEjectMaxPct
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Router{
		cfg:      cfg,
		health:   newHealthSpec(cfg.Health),
		timeout:  cfg.Timeout,
		ctx:      ctx,
		cancel:   cancel,
		errLog:   log.New(io.Discard, "", 0), // failures are recorded as samples, not logged
		backends: map[string]*backend{},
		rr:       map[string]*atomic.Uint64{},
		changed:  make(chan struct{}),
	}
	r.checker = &http.Client{
		// A fresh connection per check: a kept-alive connection would keep
		// passing after the instance closed its listener.
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	if cfg.Recorder != nil {
		r.svcIdx = cfg.Recorder.Intern(cfg.Service)
	}
	r.mu.Lock()
	r.rebuildLocked()
	r.mu.Unlock()
	return r
}

// Start listens on listen (e.g. "127.0.0.1:0") and serves until ctx ends or
// Close is called. It returns the address it listens on.
func (r *Router) Start(ctx context.Context, listen string) (string, error) {
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return "", fmt.Errorf("router %s: start: router is closed; create a new one with New", r.cfg.Service)
	}
	if r.srv != nil {
		return "", fmt.Errorf("router %s: start: already serving on %s", r.cfg.Service, r.addr)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", listen)
	if err != nil {
		return "", fmt.Errorf("router %s: listen on %s: %w; pick a free port or use port 0", r.cfg.Service, listen, err)
	}
	r.srv = &http.Server{
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       90 * time.Second,
		ErrorLog:          r.errLog,
	}
	r.addr = ln.Addr().String()
	r.mem = memconn.NewListener(ln.Addr())
	srv, mem := r.srv, r.mem
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		_ = srv.Serve(ln) // returns on Close
	}()
	go func() {
		defer r.wg.Done()
		_ = srv.Serve(mem) // returns on Close, which closes every listener it serves
	}()
	r.stopCtx = context.AfterFunc(ctx, func() { _ = r.Close() })
	return r.addr, nil
}

// Addr is the address Start listens on ("" before Start).
func (r *Router) Addr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr
}

// DialMemory opens a connection to the router inside this process, as if
// from remote, served like one accepted on its address. An edge proxy in the
// same process uses it instead of a loopback TCP connection: the bytes are
// the same, the kernel's part of the hop is gone. It fails like a refused
// TCP dial before Start and after Close.
func (r *Router) DialMemory(ctx context.Context, remote net.Addr) (net.Conn, error) {
	r.mu.Lock()
	mem := r.mem
	r.mu.Unlock()
	if mem == nil {
		return nil, fmt.Errorf("router %s: not serving (Start first)", r.cfg.Service)
	}
	return mem.Dial(ctx, remote)
}

// Close stops serving, health checks and ejection timers, and waits for the
// router's goroutines. In-flight requests are cut. It is idempotent.
func (r *Router) Close() error {
	var err error
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		srv, stop := r.srv, r.stopCtx
		bs := make([]*backend, 0, len(r.backends))
		for _, b := range r.backends {
			bs = append(bs, b)
			if b.ejectTimer != nil {
				b.ejectTimer.Stop()
			}
		}
		r.broadcastLocked() // wakes WaitHealthy
		r.mu.Unlock()

		if stop != nil {
			stop()
		}
		r.cancel()
		r.shadow.close() // mirrored and synthetic requests end with r.ctx
		if srv != nil {
			if cerr := srv.Close(); cerr != nil && !errors.Is(cerr, http.ErrServerClosed) {
				err = fmt.Errorf("router %s: close: %w", r.cfg.Service, cerr)
			}
		}
		r.wg.Wait()
		for _, b := range bs {
			b.transport.CloseIdleConnections()
			b.lean.closeIdle()
		}
		r.checker.CloseIdleConnections()
	})
	return err
}

// broadcastLocked wakes everyone waiting for a state change.
func (r *Router) broadcastLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// event adds an event about b; call it without r.mu held, since the log
// calls its subscribers synchronously and they may call back into r.
func (r *Router) event(kind string, b *backend, msg string, fields map[string]any) {
	if r.cfg.Events == nil {
		return
	}
	if fields == nil {
		fields = map[string]any{}
	}
	fields["version"] = b.Version
	fields["addr"] = b.Addr
	r.cfg.Events.Add(record.Event{Kind: kind, Service: r.cfg.Service, Target: b.Name, Message: msg, Fields: fields})
}
