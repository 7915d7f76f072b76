// Package toxi embeds a Toxiproxy v2 server in the harness (local runtime) or
// runs it standalone (docker runtime). Proxies are driven only through the
// toxiproxy client package, so the same code drives an embedded server and a
// Toxiproxy container.
package toxi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"
)

// shutdownTimeout bounds how long Close waits for in-flight API calls.
const shutdownTimeout = 5 * time.Second

// Server is a Toxiproxy API server that, unlike toxiproxy.ApiServer.Listen,
// can be stopped: Close shuts the API down and closes every proxy listener.
type Server struct {
	api  *toxiproxy.ApiServer
	srv  *http.Server
	addr string
	done chan struct{} // closed when Serve of srv returned

	log      *gatedWriter
	once     sync.Once
	closeErr error
}

// gatedWriter drops writes once closed: proxy goroutines may still log while
// they wind down after Close, when the caller has closed the log file.
type gatedWriter struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return len(p), nil
	}
	return g.w.Write(p)
}

func (g *gatedWriter) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// DialUpstream opens a proxy's upstream connection for an accepted client
// (the patched Toxiproxy's ApiServer.DialUpstream); nil dials TCP.
type DialUpstream func(client net.Conn, upstream string) (net.Conn, error)

// Start starts a Toxiproxy server whose API listens on 127.0.0.1 at a random
// port. ctx bounds only the start; the server runs until Close. Logs at warn
// level and above go to logw (nil discards them).
func Start(ctx context.Context, logw io.Writer) (*Server, error) {
	return start(ctx, "127.0.0.1:0", logw, nil)
}

// StartDialing is Start with the proxies' upstream connections opened by
// dial (e.g. router.Directory.DialUpstream: in memory to routers of this
// process).
func StartDialing(ctx context.Context, logw io.Writer, dial DialUpstream) (*Server, error) {
	return start(ctx, "127.0.0.1:0", logw, dial)
}

// Serve runs a Toxiproxy server on listen (host:port) until ctx ends, then
// stops it and every proxy. It returns nil after a clean stop. dial opens
// the proxies' upstream connections (nil: TCP).
func Serve(ctx context.Context, listen string, logw io.Writer, dial DialUpstream) error {
	s, err := start(ctx, listen, logw, dial)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return s.Close()
	case <-s.done:
		// The HTTP server stopped on its own (listener failure).
		_ = s.Close()
		return fmt.Errorf("toxiproxy API on %s stopped unexpectedly; see the toxiproxy log", listen)
	}
}

func start(ctx context.Context, listen string, logw io.Writer, dial DialUpstream) (*Server, error) {
	if logw == nil {
		logw = io.Discard
	}
	gate := &gatedWriter{w: logw}
	logger := zerolog.New(gate).Level(zerolog.WarnLevel).With().Timestamp().Logger()
	api := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), logger)
	api.DialUpstream = dial // before any proxy exists: proxies read it unlocked

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("toxiproxy API: listen on %s: %w (is the port in use?)", listen, err)
	}
	s := &Server{
		log:  gate,
		api:  api,
		addr: ln.Addr().String(),
		done: make(chan struct{}),
		srv: &http.Server{
			Handler:           handler(api, logger),
			ReadHeaderTimeout: 10 * time.Second,
			WriteTimeout:      30 * time.Second,
		},
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error().Err(err).Msg("toxiproxy API server stopped")
		}
	}()
	return s, nil
}

// handler mirrors the routes of toxiproxy.ApiServer.Listen (v2.5.0) so that
// the stock client works against it.
func handler(api *toxiproxy.ApiServer, logger zerolog.Logger) http.Handler {
	r := mux.NewRouter()
	// The exported handlers log through zerolog.Ctx(request.Context()).
	r.Use(hlog.NewHandler(logger))
	r.Use(func(next http.Handler) http.Handler {
		return http.TimeoutHandler(next, 25*time.Second, "")
	})
	r.HandleFunc("/reset", api.ResetState).Methods("POST").Name("ResetState")
	r.HandleFunc("/proxies", api.ProxyIndex).Methods("GET").Name("ProxyIndex")
	r.HandleFunc("/proxies", api.ProxyCreate).Methods("POST").Name("ProxyCreate")
	r.HandleFunc("/populate", api.Populate).Methods("POST").Name("Populate")
	r.HandleFunc("/proxies/{proxy}", api.ProxyShow).Methods("GET").Name("ProxyShow")
	r.HandleFunc("/proxies/{proxy}", api.ProxyUpdate).Methods("POST").Name("ProxyUpdate")
	r.HandleFunc("/proxies/{proxy}", api.ProxyDelete).Methods("DELETE").Name("ProxyDelete")
	r.HandleFunc("/proxies/{proxy}/toxics", api.ToxicIndex).Methods("GET").Name("ToxicIndex")
	r.HandleFunc("/proxies/{proxy}/toxics", api.ToxicCreate).Methods("POST").Name("ToxicCreate")
	r.HandleFunc("/proxies/{proxy}/toxics/{toxic}", api.ToxicShow).Methods("GET").Name("ToxicShow")
	r.HandleFunc("/proxies/{proxy}/toxics/{toxic}", api.ToxicUpdate).Methods("POST").Name("ToxicUpdate")
	r.HandleFunc("/proxies/{proxy}/toxics/{toxic}", api.ToxicDelete).Methods("DELETE").Name("ToxicDelete")
	r.HandleFunc("/version", api.Version).Methods("GET").Name("Version")
	return r
}

// URL is the API endpoint, http://127.0.0.1:PORT.
func (s *Server) URL() string { return "http://" + s.addr }

// Addr is the API's host:port.
func (s *Server) Addr() string { return s.addr }

// Close stops the API and every proxy (their listeners and connections). It
// is idempotent and safe for concurrent use.
func (s *Server) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		// Stop the API first so no proxy is created after the Clear below.
		if err := s.srv.Shutdown(ctx); err != nil {
			_ = s.srv.Close()
		}
		<-s.done
		if err := s.api.Collection.Clear(); err != nil {
			s.closeErr = fmt.Errorf("toxiproxy: close proxies: %w", err)
		}
		s.log.close()
	})
	return s.closeErr
}
