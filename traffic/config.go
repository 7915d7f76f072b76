// Package traffic is firedrill's open-loop load generator. Requests leave at
// their scheduled instants whether or not earlier ones have answered, and
// latency counts from each request's intended send time, so a stalled service
// shows up as latency instead of as requests that were never sent (no
// coordinated omission). Every request becomes a record.Client sample.
package traffic

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Defaults applied by Start to zero fields of Config.
const (
	DefaultTimeout     = 2 * time.Second
	DefaultMethod      = "GET"
	DefaultMaxInFlight = 10000
)

// Response headers set by firedrill's routers and fixtures; they name what
// answered a request.
const (
	HeaderVersion   = "X-Firedrill-Version"
	HeaderInstance  = "X-Firedrill-Instance"
	HeaderRequestID = "X-Request-Id"
)

// Config describes one constant-rate run against an entry router.
type Config struct {
	URL      string            // base URL of the entry router, e.g. http://127.0.0.1:4000
	Service  string            // entry service name (for samples)
	Paths    []string          // requested round-robin; default ["/"]
	Method   string            // default GET
	Rate     float64           // requests per second (constant pacing)
	Duration time.Duration     // how long to send
	Timeout  time.Duration     // per request, from its actual send; default 2s
	Warmup   time.Duration     // sent before time zero at the same rate, not recorded (may be 0)
	Headers  map[string]string // added to every request
	// Dial, when set, opens the connections to URL's host instead of a TCP
	// dial: the local runtime's entry router runs in this process and is
	// reached in memory (same bytes, no loopback hop).
	Dial func(ctx context.Context) (net.Conn, error)

	// MaxInFlight caps concurrent requests (default 10000). A request whose
	// instant comes while the cap is reached is not sent: it is recorded as
	// failed (ErrOther, status 0) and counted in Stats.Dropped.
	MaxInFlight int

	// dispatch picks how requests reach the network; tests and benchmarks
	// compare the two, users get the default.
	dispatch dispatchMode
}

// dispatchMode says which goroutine sends a request.
type dispatchMode uint8

const (
	// dispatchPool reuses idle worker goroutines and starts a new one only
	// when none is idle (never more than MaxInFlight). BenchmarkDispatch
	// found it no costlier than a goroutine per request at 10k rps on 2
	// cores, and it keeps the goroutine count at the peak concurrency.
	dispatchPool dispatchMode = iota
	// dispatchGoroutine starts one goroutine per request.
	dispatchGoroutine
)

// withDefaults returns c with zero fields filled in.
func (c Config) withDefaults() Config {
	if len(c.Paths) == 0 {
		c.Paths = []string{"/"}
	}
	if c.Method == "" {
		c.Method = DefaultMethod
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	return c
}

// validate checks a defaulted config and parses its URL.
func (c Config) validate() (*url.URL, error) {
	var errs []error
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		errs = append(errs, errors.New("traffic: URL is empty: set it to the entry router's base URL, e.g. http://127.0.0.1:4000"))
	case err != nil:
		errs = append(errs, fmt.Errorf("traffic: URL %q does not parse: %w", c.URL, err))
	case u.Scheme != "http" && u.Scheme != "https":
		errs = append(errs, fmt.Errorf("traffic: URL %q: scheme must be http or https", c.URL))
	case u.Host == "":
		errs = append(errs, fmt.Errorf("traffic: URL %q has no host: write it as http://host:port", c.URL))
	}
	if !(c.Rate > 0) || c.Rate > 1e9 { // also rejects NaN
		errs = append(errs, fmt.Errorf("traffic: rate %v req/s is out of range: give a positive rate of at most 1e9", c.Rate))
	}
	if c.Duration <= 0 {
		errs = append(errs, fmt.Errorf("traffic: duration %v must be positive", c.Duration))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("traffic: timeout %v must not be negative (0 means %v)", c.Timeout, DefaultTimeout))
	}
	if c.Warmup < 0 {
		errs = append(errs, fmt.Errorf("traffic: warmup %v must not be negative", c.Warmup))
	}
	if c.MaxInFlight < 0 {
		errs = append(errs, fmt.Errorf("traffic: max in flight %d must not be negative (0 means %d)", c.MaxInFlight, DefaultMaxInFlight))
	}
	for _, p := range c.Paths {
		if !strings.HasPrefix(p, "/") {
			errs = append(errs, fmt.Errorf("traffic: path %q must start with /", p))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return u, nil
}
