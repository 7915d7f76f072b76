package traffic

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/firedrill/firedrill/record"
)

// newClient returns a client of its own (no shared DefaultTransport state)
// tuned for many requests per second to one loopback host.
func newClient(cfg Config) *http.Client {
	dial := (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext
	if cfg.Dial != nil {
		dial = func(ctx context.Context, _, _ string) (net.Conn, error) { return cfg.Dial(ctx) }
	}
	tr := &http.Transport{
		Proxy:       nil, // never HTTP_PROXY from the environment: traffic goes to loopback only
		DialContext: dial,
		// Keep every connection that was needed once: reopening them after a
		// stall would add connect time (and TIME_WAIT sockets) to latency.
		MaxIdleConns:        0, // no global cap
		MaxIdleConnsPerHost: cfg.MaxInFlight,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true, // measure the service, not gzip
		TLSHandshakeTimeout: cfg.Timeout,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{
		Transport: tr,
		// A redirect is the entry service's answer; following it would time
		// a second request under the first one's sample.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// result is what one request produced.
type result struct {
	status   int
	err      record.ErrKind
	version  string
	instance string
	canceled bool // cut by the caller's context: not the system's doing
	noPort   bool // the dial found no free local port (EADDRNOTAVAIL)
}

// send performs req and reads the whole response body, so that latency
// covers the full response and the connection can be reused.
func send(c *http.Client, req *http.Request, parent context.Context) result {
	resp, err := c.Do(req)
	if err != nil {
		return failure(err, parent)
	}
	r := result{status: resp.StatusCode}
	if v := resp.Header[HeaderVersion]; len(v) > 0 {
		r.version = v[0]
	}
	if v := resp.Header[HeaderInstance]; len(v) > 0 {
		r.instance = v[0]
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		// The status line arrived but the body did not: the request failed.
		f := failure(err, parent)
		f.version, f.instance = r.version, r.instance
		return f
	}
	return r
}

func failure(err error, parent context.Context) result {
	if parent.Err() != nil && errors.Is(err, context.Canceled) {
		return result{canceled: true}
	}
	return result{err: classify(err), noPort: errors.Is(err, syscall.EADDRNOTAVAIL)}
}

// classify maps a transport error to the recorder's kinds.
func classify(err error) record.ErrKind {
	var ne net.Error
	switch {
	case err == nil:
		return record.ErrNone
	case errors.Is(err, syscall.ECONNREFUSED):
		return record.ErrConnRefused
	// A peer that drops the connection before answering (RST, or a close
	// read as EOF / a write to a closed socket) is reported as a reset:
	// Toxiproxy's reset_peer and a killed instance both look like this.
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return record.ErrConnReset
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return record.ErrTimeout
	default:
		return record.ErrOther
	}
}
