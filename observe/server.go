package observe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ErrNotLoopback is returned for a listen address another machine could reach.
var ErrNotLoopback = errors.New("observe: --listen must be a loopback address")

// CheckLoopback refuses an address that is not on the loopback interface
// (the metrics and the dashboard's decisions are for this machine only;
// a team's Prometheus on another host scrapes through its own tunnel).
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w (use host:port, e.g. 127.0.0.1:9464)", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %q binds beyond this machine; use 127.0.0.1:PORT or [::1]:PORT", ErrNotLoopback, addr)
	}
	return nil
}

// Server serves a run's /metrics (and, when given, more handlers).
type Server struct {
	srv  *http.Server
	addr string
	done chan struct{}
}

// Serve listens on addr (loopback only) and serves m on /metrics and the
// extra handlers by pattern.
func Serve(addr string, m *Metrics, extra map[string]http.Handler) (*Server, error) {
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s for metrics: %w (pick another port)", addr, err)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(m); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("register the run's metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	for pattern, h := range extra {
		mux.Handle(pattern, h)
	}
	s := &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, addr: ln.Addr().String(), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// Addr is the address actually bound (useful with port 0).
func (s *Server) Addr() string { return s.addr }

// Close stops serving, letting scrapes in flight finish for up to a second.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	<-s.done
}
