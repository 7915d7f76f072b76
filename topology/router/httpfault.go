package router

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firedrill/firedrill/record"
)

// HeaderFault is set on a response the router answered itself because of an
// HTTP fault (http_abort); its value is the fault's ID.
const HeaderFault = "X-Firedrill-Fault"

// HTTPFault is an HTTP-level fault the router applies to the requests it
// receives, before choosing a backend: no extra hop, and the effect is
// measured where canary analysis looks (the hop samples).
type HTTPFault struct {
	// ID names the fault; RemoveFault takes it out.
	ID string `json:"id"`
	// Caller limits the fault to requests from this service (the service
	// part of X-Firedrill-Caller): a fault on the edge Caller -> service.
	// "" matches every request, callers and traffic alike.
	Caller string `json:"caller,omitempty"`
	// Abort is the status answered instead of forwarding (0: none).
	Abort int `json:"abort,omitempty"`
	// Delay is waited before forwarding (or aborting).
	Delay time.Duration `json:"delay,omitempty"`
	// Percent of the matching requests are hit, drawn per request from
	// the router's seed (0 or 100: all of them).
	Percent float64 `json:"percent,omitempty"`
	// PathPrefix limits the fault to request paths starting with it.
	PathPrefix string `json:"path_prefix,omitempty"`
	// Header limits the fault to requests carrying it; with HeaderValue,
	// with that value.
	Header      string `json:"header,omitempty"`
	HeaderValue string `json:"header_value,omitempty"`
}

// activeFault is an HTTPFault with its own draw sequence, so that the n-th
// draw of a fault depends only on the seed, the fault's ID and n.
type activeFault struct {
	HTTPFault
	threshold uint64 // a draw below it hits; max for 100%
	salt      uint64
	seq       atomic.Uint64
}

func (f *activeFault) matches(req *http.Request) bool {
	if f.Caller != "" {
		c := req.Header.Get(HeaderCaller)
		if c != f.Caller && !(strings.HasPrefix(c, f.Caller) && len(c) > len(f.Caller) && c[len(f.Caller)] == '@') {
			return false
		}
	}
	if f.PathPrefix != "" && !strings.HasPrefix(req.URL.Path, f.PathPrefix) {
		return false
	}
	if f.Header != "" {
		vs := req.Header.Values(f.Header)
		if len(vs) == 0 || (f.HeaderValue != "" && !slices.Contains(vs, f.HeaderValue)) {
			return false
		}
	}
	return true
}

func (f *activeFault) hit() bool {
	if f.threshold == ^uint64(0) {
		return true
	}
	return splitmix64(f.salt+f.seq.Add(1)*0x9E3779B97F4A7C15) < f.threshold
}

// httpFaults is the router's set of HTTP faults: copied on write, read
// without a lock on every request.
type httpFaults struct {
	mu   sync.Mutex
	list atomic.Pointer[[]*activeFault]
}

func (h *httpFaults) load() []*activeFault {
	if p := h.list.Load(); p != nil {
		return *p
	}
	return nil
}

// AddFault applies f to the requests the router receives from now on,
// replacing a fault with the same ID.
func (r *Router) AddFault(f HTTPFault) error {
	if err := f.check(); err != nil {
		return fmt.Errorf("router %s: fault %q: %w", r.cfg.Service, f.ID, err)
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(f.ID))
	a := &activeFault{HTTPFault: f, threshold: ^uint64(0), salt: uint64(r.cfg.Seed) ^ h.Sum64()}
	if f.Percent > 0 && f.Percent < 100 {
		a.threshold = uint64(f.Percent / 100 * (1 << 63) * 2)
	}
	r.faults.mu.Lock()
	defer r.faults.mu.Unlock()
	list := slices.DeleteFunc(slices.Clone(r.faults.load()), func(o *activeFault) bool { return o.ID == f.ID })
	list = append(list, a)
	r.faults.list.Store(&list)
	return nil
}

// RemoveFault stops applying the fault with this ID; requests already
// waiting out its delay finish it. It reports whether there was one.
func (r *Router) RemoveFault(id string) bool {
	r.faults.mu.Lock()
	defer r.faults.mu.Unlock()
	old := r.faults.load()
	list := slices.DeleteFunc(slices.Clone(old), func(o *activeFault) bool { return o.ID == id })
	if len(list) == 0 {
		r.faults.list.Store(nil)
	} else {
		r.faults.list.Store(&list)
	}
	return len(list) < len(old)
}

// Faults lists the HTTP faults applied now.
func (r *Router) Faults() []HTTPFault {
	var out []HTTPFault
	for _, f := range r.faults.load() {
		out = append(out, f.HTTPFault)
	}
	return out
}

func (f HTTPFault) check() error {
	switch {
	case f.ID == "":
		return fmt.Errorf("no id; name the fault")
	case f.Abort == 0 && f.Delay <= 0:
		return fmt.Errorf("neither abort nor delay; set one")
	case f.Abort != 0 && (f.Abort < 200 || f.Abort > 599):
		return fmt.Errorf("abort status %d is not a final HTTP status (200-599)", f.Abort)
	case f.Percent < 0 || f.Percent > 100:
		return fmt.Errorf("percent %v is not within 0-100", f.Percent)
	}
	return nil
}

// applyFaults applies the matching faults to req: it waits out their
// delays, then answers the first abort that hits itself and records it. It
// reports whether the request was answered (the caller must not forward).
func (r *Router) applyFaults(w http.ResponseWriter, req *http.Request, fs []*activeFault, start time.Time, caller uint16) bool {
	for _, f := range fs {
		if !f.matches(req) || !f.hit() {
			continue
		}
		if f.Delay > 0 && !r.wait(req, f.Delay) {
			// The caller went away while delayed: nothing was answered.
			r.observe(start, nil, 0, record.ErrOther, caller)
			return true
		}
		if f.Abort != 0 {
			w.Header().Set(HeaderFault, f.ID)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(f.Abort)
			_, _ = fmt.Fprintf(w, "firedrill router %s: http_abort %s\n", r.cfg.Service, f.ID)
			r.observe(start, nil, f.Abort, record.ErrNone, caller)
			return true
		}
	}
	return false
}

// wait sleeps d unless the request's context or the router ends first.
func (r *Router) wait(req *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-req.Context().Done():
		return false
	case <-r.ctx.Done():
		return false
	}
}
