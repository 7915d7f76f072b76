package router

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/firedrill/firedrill/record"
)

// ServeHTTP forwards one request to a backend chosen by weight and records
// a Hop sample for it. It never retries.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	caller := r.callerIdx(req.Header.Get(HeaderCaller))
	if fs := r.faults.load(); fs != nil && r.applyFaults(w, req, fs, start, caller) {
		return
	}
	b := r.pick(req)
	if b == nil {
		w.Header().Set(HeaderRouter, NoHealthyBackend)
		http.Error(w, "firedrill router "+r.cfg.Service+": no healthy backend", http.StatusServiceUnavailable)
		r.observe(start, nil, http.StatusServiceUnavailable, record.ErrNone, caller)
		return
	}
	r.maybeMirror(req) // shadow.go; before the live request reads the body
	sw := writerPool.Get().(*statusWriter)
	sw.ResponseWriter = w
	ctx, cancel := context.WithTimeout(req.Context(), r.timeout)
	finished := false
	defer func() {
		// Also runs when ReverseProxy aborts a broken body copy by panicking
		// with http.ErrAbortHandler; the panic goes on to net/http.
		status, kind := sw.status, sw.err
		if !finished {
			status, kind = 0, abortKind(ctx, req.Context())
		}
		cancel()
		b.inflight.Add(-1)
		*sw = statusWriter{}
		writerPool.Put(sw)
		if status == 0 && kind == record.ErrNone {
			kind = record.ErrOther // nothing was written at all
		}
		// A caller that went away says nothing about the backend.
		if req.Context().Err() == nil {
			r.noteResult(b, kind != record.ErrNone || status >= 500)
		}
		r.observe(start, b, status, kind, caller)
	}()
	b.forward(sw, req, ctx, r) // lean.go
	finished = true
}

// upstreamError answers 502 for a transport error and remembers its kind.
func (r *Router) upstreamError(b *backend, w http.ResponseWriter, req *http.Request, err error) {
	kind := classify(err)
	if sw, ok := w.(*statusWriter); ok {
		sw.err = kind
	}
	w.Header().Set(HeaderBackend, b.Name)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusBadGateway)
	what := kindName(kind)
	if errors.Is(err, syscall.EADDRNOTAVAIL) {
		what = noPortMessage
	}
	_, _ = io.WriteString(w, "firedrill router "+r.cfg.Service+": backend "+b.Name+": "+what+"\n")
}

// observe records one Hop sample; the version and instance are the chosen
// backend's (none for the router's own 503), caller the interned
// service@version of the calling instance.
func (r *Router) observe(start time.Time, b *backend, status int, kind record.ErrKind, caller uint16) {
	r.observeAs(record.Hop, start, b, status, kind, caller)
}

// callerIdx interns a caller header once per distinct value: a few
// service@version pairs per run, looked up on every request without the
// recorder's lock.
func (r *Router) callerIdx(h string) uint16 {
	if h == "" || r.cfg.Recorder == nil {
		return 0
	}
	if i, ok := r.callers.Load(h); ok {
		return i.(uint16)
	}
	i := r.cfg.Recorder.Intern(h)
	r.callers.Store(h, i)
	return i
}

// observeVersion records a sample of version without a backend (a shadow
// request that found none).
func (r *Router) observeVersion(src record.Source, start time.Time, version string, status int) {
	if rec := r.cfg.Recorder; rec != nil {
		rec.Observe(record.Observation{Source: src, Service: r.cfg.Service, Version: version, Intended: start,
			Latency: time.Since(start), Status: status})
	}
}

// observeAs records one sample from src.
func (r *Router) observeAs(src record.Source, start time.Time, b *backend, status int, kind record.ErrKind, caller uint16) {
	rec := r.cfg.Recorder
	if rec == nil {
		return
	}
	us := time.Since(start).Microseconds()
	if us > int64(^uint32(0)) {
		us = int64(^uint32(0))
	}
	if kind != record.ErrNone {
		status = 0
	}
	s := record.Sample{
		At:        int64(start.Sub(rec.Start())),
		LatencyUS: uint32(us),
		Status:    int16(status),
		Err:       kind,
		Source:    src,
		Service:   r.svcIdx,
		Caller:    caller,
	}
	if b != nil {
		s.Version, s.Instance = b.verIdx, b.instIdx
	}
	rec.Add(s)
}

// classify maps a transport error to a record.ErrKind.
func classify(err error) record.ErrKind {
	var ne net.Error
	switch {
	case err == nil:
		return record.ErrNone
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return record.ErrTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return record.ErrConnRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return record.ErrConnReset
	default: // includes context.Canceled: the caller went away
		return record.ErrOther
	}
}

// abortKind classifies a response whose body copy broke after the status
// was sent; ReverseProxy does not hand us the cause.
func abortKind(upstream, caller context.Context) record.ErrKind {
	switch {
	case caller.Err() != nil:
		return record.ErrOther
	case errors.Is(upstream.Err(), context.DeadlineExceeded):
		return record.ErrTimeout
	default:
		return record.ErrConnReset
	}
}

// noPortMessage explains a dial that found no free local port.
const noPortMessage = "no free local port to connect from (EADDRNOTAVAIL: ephemeral ports exhausted by sockets in TIME_WAIT); " +
	"connections should be reused: look for callers that close them, or widen net.ipv4.ip_local_port_range"

func kindName(k record.ErrKind) string {
	switch k {
	case record.ErrTimeout:
		return "timeout"
	case record.ErrConnRefused:
		return "connection refused"
	case record.ErrConnReset:
		return "connection reset"
	default:
		return "upstream error"
	}
}

// statusWriter remembers the final status written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
	err    record.ErrKind
}

var writerPool = sync.Pool{New: func() any { return new(statusWriter) }}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 { // 1xx are interim
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController (used by ReverseProxy to flush)
// reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// bufPool recycles ReverseProxy's copy buffers.
type bufPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufPool) Get() []byte  { return *buffers.Get().(*[]byte) }
func (bufPool) Put(b []byte) { buffers.Put(&b) }
