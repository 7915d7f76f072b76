package router

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// healthSpec is scenarios.Health with defaults applied.
type healthSpec struct {
	path           string // "" for a TCP connect check
	interval       time.Duration
	timeout        time.Duration
	unhealthyAfter int
	healthyAfter   int
}

func newHealthSpec(h scenarios.Health) healthSpec {
	s := healthSpec{
		interval:       h.Interval.D(),
		timeout:        h.Timeout.D(),
		unhealthyAfter: h.UnhealthyAfter,
		healthyAfter:   h.HealthyAfter,
	}
	if h.HTTP != "" && !h.TCP {
		s.path = h.HTTP
		if !strings.HasPrefix(s.path, "/") {
			s.path = "/" + s.path
		}
	}
	if s.interval <= 0 {
		s.interval = DefaultInterval
	}
	if s.timeout <= 0 {
		s.timeout = DefaultCheckTimeout
	}
	if s.unhealthyAfter <= 0 {
		s.unhealthyAfter = DefaultUnhealthyAfter
	}
	if s.healthyAfter <= 0 {
		s.healthyAfter = DefaultHealthyAfter
	}
	return s
}

// FirstRetry is the first pause between the checks of a backend that was
// never healthy yet; it doubles up to the interval. A process just started
// is seldom listening at the first check, and waiting a whole interval
// for the second one would make every start-up (and every deploy) last an
// interval per dependency level.
const FirstRetry = 10 * time.Millisecond

// healthLoop checks b at once and then every interval until ctx ends
// (after a failed check of a b that was never healthy: after FirstRetry,
// doubling up to the interval). A check that hangs (a paused process) fails by its timeout.
func (r *Router) healthLoop(ctx context.Context, b *backend) {
	defer r.wg.Done()
	defer close(b.done)
	var ok, fail int
	retry, everHealthy := FirstRetry, false
	for {
		started := time.Now()
		err := r.check(ctx, b)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			ok, fail = ok+1, 0
		} else {
			ok, fail = 0, fail+1
		}
		r.healthResult(b, err, ok, fail)
		wait := r.health.interval
		if !everHealthy {
			r.mu.Lock()
			everHealthy = b.healthy
			r.mu.Unlock()
			if !everHealthy && err != nil && retry < wait { // passes keep the interval: healthy_after means apart
				wait, retry = retry, 2*retry
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(0, wait-time.Since(started))):
		}
	}
}

// healthResult applies one check's outcome given the consecutive counts.
func (r *Router) healthResult(b *backend, err error, ok, fail int) {
	r.mu.Lock()
	if r.closed || b.removing {
		r.mu.Unlock()
		return
	}
	if err != nil {
		b.lastErr = err.Error()
	} else {
		b.lastErr = ""
	}
	var kind string
	switch {
	case !b.healthy && ok >= r.health.healthyAfter:
		b.healthy, kind = true, record.EvInstanceHealthy
	case b.healthy && fail >= r.health.unhealthyAfter:
		b.healthy, kind = false, record.EvInstanceUnhealthy
	}
	if kind != "" {
		r.rebuildLocked()
	}
	r.mu.Unlock()
	switch kind {
	case record.EvInstanceHealthy:
		r.event(kind, b, fmt.Sprintf("%d checks passed", ok), nil)
	case record.EvInstanceUnhealthy:
		r.event(kind, b, fmt.Sprintf("%d checks failed: %v", fail, err), map[string]any{"error": err.Error()})
	}
}

// check runs one health check: HTTP GET expecting 2xx, or a TCP connect.
func (r *Router) check(ctx context.Context, b *backend) error {
	ctx, cancel := context.WithTimeout(ctx, r.health.timeout)
	defer cancel()
	if r.health.path == "" {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", b.Addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+b.Addr+r.health.path, nil)
	if err != nil {
		return err
	}
	resp, err := r.checker.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("GET %s: status %d", r.health.path, resp.StatusCode)
	}
	return nil
}
