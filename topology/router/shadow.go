package router

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firedrill/firedrill/record"
)

// Shadow requests are sent by the router itself and no caller waits for
// them: mirrored copies of live requests (a dark launch) and synthetic
// requests (a preview's own traffic). Their responses are read, measured
// as record.Shadow samples and discarded; they never reach a caller.

// Headers marking shadow requests to the instance that receives them.
const (
	HeaderMirror    = "X-Firedrill-Mirror"
	HeaderSynthetic = "X-Firedrill-Synthetic"
)

const (
	// maxMirrorBody is the largest request body copied to a mirror; a
	// larger one is sent live only (and counted as dropped).
	maxMirrorBody = 1 << 20
	// maxShadowInflight bounds shadow requests in flight: a slow mirror
	// must not eat the harness's memory. Beyond it they are dropped.
	maxShadowInflight = 512
)

// mirrorSpec is the mirroring in force.
type mirrorSpec struct {
	version string
	percent int
}

// ShadowStats counts shadow requests since the router started.
type ShadowStats struct {
	Mirrored  int64 // copies sent
	Synthetic int64 // synthetic requests sent
	Dropped   int64 // not sent: too many in flight, body too large, or no eligible backend
}

// tracker runs shadow requests in goroutines that Close waits for.
type tracker struct {
	mu     sync.Mutex
	closed bool
	n      int
	wg     sync.WaitGroup

	mirrored, synthetic, dropped atomic.Int64
}

// tryGo runs f unless the tracker is closed or limit (> 0) goroutines run.
func (t *tracker) tryGo(limit int, f func()) bool {
	t.mu.Lock()
	if t.closed || (limit > 0 && t.n >= limit) {
		t.mu.Unlock()
		return false
	}
	t.n++
	t.wg.Add(1)
	t.mu.Unlock()
	go func() {
		defer func() {
			t.mu.Lock()
			t.n--
			t.mu.Unlock()
			t.wg.Done()
		}()
		f()
	}()
	return true
}

func (t *tracker) close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.wg.Wait()
}

// Shadow returns the shadow request counts.
func (r *Router) Shadow() ShadowStats {
	return ShadowStats{Mirrored: r.shadow.mirrored.Load(), Synthetic: r.shadow.synthetic.Load(), Dropped: r.shadow.dropped.Load()}
}

// SetMirror copies percent of live requests (0 stops) to the eligible
// backends of version, whatever its weight. The caller's answer comes from
// the live backend only.
func (r *Router) SetMirror(version string, percent int) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("router %s: mirror %d%%: a percent from 0 to 100", r.cfg.Service, percent)
	}
	if percent > 0 && version == "" {
		return fmt.Errorf("router %s: mirror: name the version to mirror to", r.cfg.Service)
	}
	r.mu.Lock()
	if percent == 0 {
		r.mirror = nil
	} else {
		r.mirror = &mirrorSpec{version: version, percent: percent}
	}
	r.rebuildLocked()
	r.mu.Unlock()
	return nil
}

// mirrorDraw is a draw independent of the version draw (another stream
// of the same seeded generator).
func (r *Router) mirrorDraw() uint64 {
	return splitmix64(uint64(r.cfg.Seed) ^ 0x5DEECE66D + r.mirrorSeq.Add(1)*0x9E3779B97F4A7C15)
}

// maybeMirror sends a copy of req to the mirror version when mirroring
// applies to it. It may replace req.Body (with the same bytes) so that the
// live request still reads the whole body.
func (r *Router) maybeMirror(req *http.Request) {
	m := r.table.Load().mirror
	if m == nil {
		return
	}
	if m.percent < 100 && int(r.mirrorDraw()%100) >= m.percent {
		return
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		if req.ContentLength > maxMirrorBody {
			r.shadow.dropped.Add(1)
			return
		}
		b, err := io.ReadAll(io.LimitReader(req.Body, maxMirrorBody+1))
		// The live request gets every byte, read here or not.
		req.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(b), req.Body), req.Body}
		if err != nil || len(b) > maxMirrorBody {
			r.shadow.dropped.Add(1)
			return
		}
		body = b
	}
	b := r.shadowBackend(m.version)
	if b == nil {
		r.shadow.dropped.Add(1)
		return
	}
	h := req.Header.Clone()
	for _, k := range hopHeaders {
		h.Del(k)
	}
	h.Set(HeaderMirror, "1")
	method, uri := req.Method, req.URL.RequestURI()
	if !r.shadow.tryGo(maxShadowInflight, func() { r.sendShadow(b, method, uri, h, body) }) {
		r.shadow.dropped.Add(1)
		return
	}
	r.shadow.mirrored.Add(1)
}

// hopHeaders are connection-level headers a copied request must not carry.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// shadowBackend picks an eligible backend of version round-robin.
func (r *Router) shadowBackend(version string) *backend {
	s := r.table.Load().ready[version]
	if s == nil || len(s.ready) == 0 {
		return nil
	}
	b := s.ready[(s.rr.Add(1)-1)%uint64(len(s.ready))]
	if b.draining.Load() {
		return nil
	}
	return b
}

// sendShadow sends one shadow request straight to b, reads and discards
// the answer, and records a Shadow sample.
func (r *Router) sendShadow(b *backend, method, uri string, h http.Header, body []byte) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+b.Addr+uri, rd)
	if err != nil {
		r.observeAs(record.Shadow, start, b, 0, record.ErrOther, 0)
		return
	}
	req.Header = h
	resp, err := b.transport.RoundTrip(req)
	if err != nil {
		if r.ctx.Err() == nil { // a closing router says nothing about the backend
			r.observeAs(record.Shadow, start, b, 0, classify(err), 0)
		}
		return
	}
	_, cerr := io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	status, kind := resp.StatusCode, record.ErrNone
	if cerr != nil {
		if kind = classify(cerr); kind == record.ErrNone {
			kind = record.ErrOther
		}
	}
	r.observeAs(record.Shadow, start, b, status, kind, 0)
}

// StartSynthetic sends rate requests per second (GET, paths in turn,
// paced open loop) straight to the eligible backends of version until stop
// is called or the router closes. A request finding no eligible backend is
// recorded as a 503 of that version: the preview could not answer.
func (r *Router) StartSynthetic(version string, rate float64, paths []string) (stop func(), err error) {
	if !(rate > 0) || rate > 10000 {
		return nil, fmt.Errorf("router %s: synthetic traffic at %v rps: use a rate above 0 and at most 10000", r.cfg.Service, rate)
	}
	if version == "" {
		return nil, fmt.Errorf("router %s: synthetic traffic: name the version to send it to", r.cfg.Service)
	}
	if len(paths) == 0 {
		paths = []string{"/"}
	}
	ctx, cancel := context.WithCancel(r.ctx)
	if !r.shadow.tryGo(0, func() { r.syntheticLoop(ctx, version, rate, paths) }) {
		cancel()
		return nil, fmt.Errorf("router %s: synthetic traffic: router is closed", r.cfg.Service)
	}
	return cancel, nil
}

func (r *Router) syntheticLoop(ctx context.Context, version string, rate float64, paths []string) {
	interval := time.Duration(float64(time.Second) / rate)
	next := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for n := 0; ; n++ {
		next = next.Add(interval)
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		b := r.shadowBackend(version)
		if b == nil {
			r.shadow.dropped.Add(1)
			r.observeVersion(record.Shadow, time.Now(), version, http.StatusServiceUnavailable)
			continue
		}
		h := http.Header{}
		h.Set(HeaderSynthetic, "1")
		h.Set("X-Request-Id", "synthetic-"+r.cfg.Service+"-"+strconv.Itoa(n))
		path := paths[n%len(paths)]
		if !r.shadow.tryGo(maxShadowInflight, func() { r.sendShadow(b, http.MethodGet, path, h, nil) }) {
			r.shadow.dropped.Add(1)
			continue
		}
		r.shadow.synthetic.Add(1)
	}
}
