package router

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"sync/atomic"
	"time"
)

// backend is one instance with its own connection pool and proxy.
type backend struct {
	Backend
	transport *http.Transport
	proxy     *httputil.ReverseProxy
	lean      *leanProxy    // lean.go: the common request, without ReverseProxy
	stop      func()        // ends the health checks
	done      chan struct{} // closed when the health checks ended

	verIdx, instIdx uint16 // interned in the recorder

	// Hot path, atomics.
	inflight  atomic.Int64
	draining  atomic.Bool
	consecErr atomic.Int32

	// Guarded by Router.mu.
	healthy    bool
	removing   bool
	ejected    bool
	ejections  int
	ejectTimer *time.Timer
	lastErr    string
}

// drainPoll is how often Remove looks at a draining backend's in-flight count.
const drainPoll = 5 * time.Millisecond

func (r *Router) newBackend(b Backend) *backend {
	nb := &backend{Backend: b, done: make(chan struct{}), lean: newLeanProxy(b)}
	nb.transport = &http.Transport{
		Proxy:       nil, // never an environment proxy: instances are local
		DialContext: (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		// Keep many idle connections: at thousands of rps a small pool
		// churns through ephemeral ports.
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true, // pass bodies through untouched
		ExpectContinueTimeout: time.Second,
	}
	target := &url.URL{Scheme: "http", Host: b.Addr}
	nb.proxy = &httputil.ReverseProxy{
		Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport:  nb.transport,
		BufferPool: bufPool{},
		ErrorLog:   r.errLog,
		ModifyResponse: func(resp *http.Response) error {
			resp.Header.Set(HeaderBackend, b.Name)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, req *http.Request, err error) {
			r.upstreamError(nb, w, req, err)
		},
	}
	if rec := r.cfg.Recorder; rec != nil {
		nb.verIdx = rec.Intern(b.Version)
		nb.instIdx = rec.Intern(b.Name)
	}
	return nb
}

// Add registers b and starts health-checking it; it gets traffic once
// HealthyAfter checks passed. Adding a name again replaces the old backend
// at once (without draining). Add after Close does nothing.
func (r *Router) Add(b Backend) {
	nb := r.newBackend(b)
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	old := r.backends[b.Name]
	if old != nil {
		old.removing = true
		if old.ejectTimer != nil {
			old.ejectTimer.Stop()
		}
	}
	ctx, cancel := context.WithCancel(r.ctx)
	nb.stop = cancel
	r.backends[b.Name] = nb
	r.wg.Add(1) // under mu, so never concurrent with Close's Wait
	go r.healthLoop(ctx, nb)
	r.rebuildLocked()
	r.mu.Unlock()
	if old != nil {
		old.draining.Store(true) // after the rebuild, as in Remove
		old.stop()
		old.transport.CloseIdleConnections()
		old.lean.closeIdle()
	}
}

// WaitHealthy blocks until the backend called name is healthy (and not
// being removed), the context ends, or the router closes.
func (r *Router) WaitHealthy(ctx context.Context, name string) error {
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return fmt.Errorf("router %s: wait for %s: router is closed", r.cfg.Service, name)
		}
		b := r.backends[name]
		if b == nil || b.removing {
			r.mu.Unlock()
			return fmt.Errorf("router %s: wait for %s: no such backend; Add it first", r.cfg.Service, name)
		}
		if b.healthy {
			r.mu.Unlock()
			return nil
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			r.mu.Lock()
			last := b.lastErr
			r.mu.Unlock()
			return &NotHealthyError{Service: r.cfg.Service, Backend: name, Addr: b.Addr, LastCheck: last, Err: ctx.Err()}
		}
	}
}

// NotHealthyError is a backend that was not healthy when the wait for it
// ended; LastCheck is its last health check's answer ("" before any).
type NotHealthyError struct {
	Service, Backend, Addr string
	LastCheck              string
	Err                    error
}

func (e *NotHealthyError) Error() string {
	last := e.LastCheck
	if last == "" {
		last = "no check finished yet"
	}
	return fmt.Sprintf("router %s: %s at %s did not become healthy (last check: %s): %v; check the instance's log and its health settings",
		e.Service, e.Backend, e.Addr, last, e.Err)
}

func (e *NotHealthyError) Unwrap() error { return e.Err }

// Remove stops sending new requests to the backend called name, waits for
// its in-flight requests to finish (until ctx ends) and stops its health
// checks. It is removed even when ctx ends first; the error then says how
// many requests were still in flight.
func (r *Router) Remove(ctx context.Context, name string) error {
	r.mu.Lock()
	b := r.backends[name]
	if b == nil || b.removing {
		r.mu.Unlock()
		return fmt.Errorf("router %s: remove %s: no such backend", r.cfg.Service, name)
	}
	b.removing = true
	r.rebuildLocked() // new requests no longer see b ...
	r.mu.Unlock()
	// ... and a request that picked b from an older table sees this flag
	// after counting itself in flight, and picks again (see pick).
	b.draining.Store(true)

	var err error
	if n := b.inflight.Load(); n > 0 {
		t := time.NewTicker(drainPoll)
	wait:
		for {
			select {
			case <-t.C:
				if b.inflight.Load() == 0 {
					break wait
				}
			case <-ctx.Done():
				err = fmt.Errorf("router %s: remove %s: %d requests still in flight: %w; give Remove a longer deadline to drain",
					r.cfg.Service, name, b.inflight.Load(), ctx.Err())
				break wait
			}
		}
		t.Stop()
	}

	b.stop()
	<-b.done
	r.mu.Lock()
	if r.backends[name] == b {
		delete(r.backends, name)
	}
	if b.ejectTimer != nil {
		b.ejectTimer.Stop()
	}
	r.rebuildLocked()
	r.mu.Unlock()
	b.transport.CloseIdleConnections()
	b.lean.closeIdle()
	return err
}

// Backends returns the state of every backend, by name.
func (r *Router) Backends() []BackendStatus {
	r.mu.Lock()
	out := make([]BackendStatus, 0, len(r.backends))
	for _, b := range r.backends {
		out = append(out, BackendStatus{
			Name: b.Name, Version: b.Version, Addr: b.Addr,
			Healthy: b.healthy, Ejected: b.ejected, Draining: b.removing,
			Inflight: b.inflight.Load(), Ejections: b.ejections, LastError: b.lastErr,
		})
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
