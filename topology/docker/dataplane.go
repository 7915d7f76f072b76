package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/topology/router"
	"github.com/firedrill/firedrill/topology/toxi"
)

// DataplaneConfig configures ServeDataplane.
type DataplaneConfig struct {
	// Control is the control API's listen address (default 0.0.0.0:7000).
	Control string
	// Toxiproxy is the Toxiproxy API's listen address (default 0.0.0.0:8474).
	Toxiproxy string
	// Log receives the Toxiproxy server's warnings (nil: discarded).
	Log io.Writer
}

// dataplane runs every router of a run and the Toxiproxy server in one
// process inside the run network; the harness drives it over the control
// API and polls what the routers recorded.
type dataplane struct {
	ctx    context.Context
	rec    *record.Recorder
	events *record.Log

	mu        sync.Mutex
	routers   map[string]*router.Router
	dir       *router.Directory // the routers, for the edge proxies' in-memory dials
	synthetic map[string]func() // running synthetic traffic by id
	nextID    int
}

// ServeDataplane serves the data plane until ctx ends, then closes every
// router and proxy. It is what `firedrill dataplane` runs.
func ServeDataplane(ctx context.Context, cfg DataplaneConfig) error {
	if cfg.Control == "" {
		cfg.Control = fmt.Sprintf("0.0.0.0:%d", controlPort)
	}
	if cfg.Toxiproxy == "" {
		cfg.Toxiproxy = fmt.Sprintf("0.0.0.0:%d", toxiproxyPort)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	toxiErr := make(chan error, 1)
	d := newDataplane(ctx)
	// The edge proxies reach the routers in memory (router.Directory): both
	// live in this process, so the loopback hop between them is pure cost.
	go func() { toxiErr <- toxi.Serve(ctx, cfg.Toxiproxy, cfg.Log, d.dir.DialUpstream) }()

	defer d.close()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Control)
	if err != nil {
		return fmt.Errorf("data plane: listen on %s: %w", cfg.Control, err)
	}
	srv := &http.Server{Handler: d.handler(), ReadHeaderTimeout: 10 * time.Second}
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err = <-srvErr:
		err = fmt.Errorf("data plane: control API stopped: %w", err)
	case err = <-toxiErr:
		err = fmt.Errorf("data plane: toxiproxy stopped: %w", err)
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer scancel()
	_ = srv.Shutdown(sctx)
	return err
}

func newDataplane(ctx context.Context) *dataplane {
	return &dataplane{
		ctx: ctx,
		// Time zero at the epoch: a sample's At is then its Unix time in
		// nanoseconds, which the harness maps onto its own recorder.
		rec:       record.NewRecorder(time.Unix(0, 0)),
		events:    record.NewLog(nil),
		routers:   map[string]*router.Router{},
		dir:       &router.Directory{},
		synthetic: map[string]func(){},
	}
}

func (d *dataplane) close() {
	d.mu.Lock()
	rs := d.routers
	d.routers = map[string]*router.Router{}
	for id, stop := range d.synthetic {
		stop()
		delete(d.synthetic, id)
	}
	d.mu.Unlock()
	for _, r := range rs {
		_ = r.Close()
	}
}

func (d *dataplane) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("POST /v1/routers", d.createRouter)
	mux.HandleFunc("POST /v1/routers/{svc}/backends", d.withRouter(d.addBackend))
	mux.HandleFunc("GET /v1/routers/{svc}/backends", d.withRouter(func(w http.ResponseWriter, _ *http.Request, r *router.Router) {
		reply(w, http.StatusOK, r.Backends())
	}))
	mux.HandleFunc("DELETE /v1/routers/{svc}/backends/{name}", d.withRouter(d.removeBackend))
	mux.HandleFunc("POST /v1/routers/{svc}/backends/{name}/healthy", d.withRouter(d.waitHealthy))
	mux.HandleFunc("PUT /v1/routers/{svc}/weights", d.withRouter(d.setWeights))
	mux.HandleFunc("GET /v1/routers/{svc}/weights", d.withRouter(func(w http.ResponseWriter, _ *http.Request, r *router.Router) {
		reply(w, http.StatusOK, r.Weights())
	}))
	mux.HandleFunc("PUT /v1/routers/{svc}/cohorts", d.withRouter(d.setCohorts))
	mux.HandleFunc("PUT /v1/routers/{svc}/mirror", d.withRouter(d.setMirror))
	mux.HandleFunc("POST /v1/routers/{svc}/synthetic", d.withRouter(d.startSynthetic))
	mux.HandleFunc("DELETE /v1/synthetic/{id}", d.stopSynthetic)
	mux.HandleFunc("PUT /v1/routers/{svc}/faults/{id}", d.withRouter(d.putFault))
	mux.HandleFunc("DELETE /v1/routers/{svc}/faults/{id}", d.withRouter(d.deleteFault))
	mux.HandleFunc("GET /v1/poll", d.poll)
	return mux
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, err error) {
	reply(w, status, apiError{Error: err.Error()})
}

func decode(w http.ResponseWriter, req *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(req.Body, 1<<20)).Decode(v); err != nil {
		fail(w, http.StatusBadRequest, fmt.Errorf("bad request body: %w", err))
		return false
	}
	return true
}

func (d *dataplane) createRouter(w http.ResponseWriter, req *http.Request) {
	var spec routerSpec
	if !decode(w, req, &spec) {
		return
	}
	if spec.Service == "" {
		fail(w, http.StatusBadRequest, errors.New("create router: no service named"))
		return
	}
	d.mu.Lock()
	if _, ok := d.routers[spec.Service]; ok {
		d.mu.Unlock()
		fail(w, http.StatusConflict, fmt.Errorf("create router: service %s has one already", spec.Service))
		return
	}
	r := router.New(router.Config{Service: spec.Service, Health: spec.Health, Recorder: d.rec, Events: d.events, Seed: spec.Seed})
	d.routers[spec.Service] = r
	d.mu.Unlock()
	addr, err := r.Start(d.ctx, spec.Listen)
	if err != nil {
		d.mu.Lock()
		delete(d.routers, spec.Service)
		d.mu.Unlock()
		_ = r.Close()
		fail(w, http.StatusInternalServerError, err)
		return
	}
	d.dir.Add(r)
	reply(w, http.StatusCreated, routerInfo{Addr: addr})
}

func (d *dataplane) withRouter(fn func(http.ResponseWriter, *http.Request, *router.Router)) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		svc := req.PathValue("svc")
		d.mu.Lock()
		r := d.routers[svc]
		d.mu.Unlock()
		if r == nil {
			fail(w, http.StatusNotFound, fmt.Errorf("no router for service %q; create it first", svc))
			return
		}
		fn(w, req, r)
	}
}

func (d *dataplane) addBackend(w http.ResponseWriter, req *http.Request, r *router.Router) {
	var b router.Backend
	if !decode(w, req, &b) {
		return
	}
	if b.Name == "" || b.Addr == "" {
		fail(w, http.StatusBadRequest, errors.New("add backend: name and addr are required"))
		return
	}
	r.Add(b)
	w.WriteHeader(http.StatusNoContent)
}

func (d *dataplane) removeBackend(w http.ResponseWriter, req *http.Request, r *router.Router) {
	drain := 5 * time.Second
	if s := req.URL.Query().Get("drain"); s != "" {
		v, err := time.ParseDuration(s)
		if err != nil {
			fail(w, http.StatusBadRequest, fmt.Errorf("drain=%q: %w", s, err))
			return
		}
		drain = v
	}
	ctx, cancel := context.WithTimeout(req.Context(), drain)
	defer cancel()
	if err := r.Remove(ctx, req.PathValue("name")); err != nil {
		// Removed all the same, unless it did not exist; say which.
		reply(w, http.StatusOK, apiError{Error: err.Error()})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (d *dataplane) waitHealthy(w http.ResponseWriter, req *http.Request, r *router.Router) {
	if err := r.WaitHealthy(req.Context(), req.PathValue("name")); err != nil {
		fail(w, http.StatusServiceUnavailable, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (d *dataplane) setWeights(w http.ResponseWriter, req *http.Request, r *router.Router) {
	var weights map[string]int
	if !decode(w, req, &weights) {
		return
	}
	if err := r.SetWeights(weights); err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (d *dataplane) setCohorts(w http.ResponseWriter, req *http.Request, r *router.Router) {
	var c router.Cohorts
	if !decode(w, req, &c) {
		return
	}
	if err := r.SetCohorts(c); err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (d *dataplane) setMirror(w http.ResponseWriter, req *http.Request, r *router.Router) {
	var m mirrorSpec
	if !decode(w, req, &m) {
		return
	}
	if err := r.SetMirror(m.Version, m.Percent); err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (d *dataplane) startSynthetic(w http.ResponseWriter, req *http.Request, r *router.Router) {
	var s syntheticSpec
	if !decode(w, req, &s) {
		return
	}
	stop, err := r.StartSynthetic(s.Version, s.Rate, s.Paths)
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	d.mu.Lock()
	d.nextID++
	id := strconv.Itoa(d.nextID)
	d.synthetic[id] = stop
	d.mu.Unlock()
	reply(w, http.StatusCreated, syntheticInfo{ID: id})
}

func (d *dataplane) stopSynthetic(w http.ResponseWriter, req *http.Request) {
	d.mu.Lock()
	stop := d.synthetic[req.PathValue("id")]
	delete(d.synthetic, req.PathValue("id"))
	d.mu.Unlock()
	if stop != nil {
		stop()
	}
	w.WriteHeader(http.StatusNoContent)
}

// maxPollSamples bounds one poll's reply; the harness asks again at once
// when it got a full batch.
const maxPollSamples = 50_000

func (d *dataplane) poll(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	after, _ := strconv.Atoi(q.Get("samples"))
	known, _ := strconv.Atoi(q.Get("names"))
	evAfter, _ := strconv.Atoi(q.Get("events"))
	out := pollReply{Samples: [][9]int64{}, NextSample: after, Names: map[int]string{}}
	top := 0
	d.rec.EachFrom(after, func(i int, s record.Sample) bool {
		out.Samples = append(out.Samples, [9]int64{s.At, int64(s.LatencyUS), int64(s.Status), int64(s.Err),
			int64(s.Service), int64(s.Version), int64(s.Instance), int64(s.Source), int64(s.Caller)})
		top = max(top, int(s.Service), int(s.Version), int(s.Instance), int(s.Caller))
		out.NextSample = i + 1
		return len(out.Samples) < maxPollSamples
	})
	for k := known; k <= top; k++ {
		out.Names[k] = d.rec.Name(uint16(k))
	}
	evs := d.events.Events()
	out.NextEvent = max(evAfter, len(evs))
	if evAfter < len(evs) {
		out.Events = evs[evAfter:]
	}
	reply(w, http.StatusOK, out)
}
