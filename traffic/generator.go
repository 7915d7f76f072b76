package traffic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firedrill/firedrill/record"
)

// Stats sums up a run. Only the measured window counts: warmup requests are
// in none of these figures.
type Stats struct {
	Sent      int64 // handed to the transport
	Completed int64 // sent and ended (a response or a transport error), each one a sample
	Errors    int64 // completed with a transport error or a status >= 500
	Dropped   int64 // not sent because MaxInFlight was reached; each one a failed sample
	Canceled  int64 // sent, then cut because the context given to Start ended; not recorded
	// NoPort counts requests whose connection could not be made because no
	// local port was free (EADDRNOTAVAIL: ephemeral ports exhausted, most
	// likely by sockets in TIME_WAIT after connections were not reused).
	NoPort int64

	Start   time.Time // time zero of the schedule: request i was due at Start + i/Rate
	End     time.Time // when sending stopped: Start+Duration (later if the harness fell behind, earlier after Stop)
	Drained time.Time // when the last in-flight request ended

	AchievedRPS float64 // Sent / (End - Start)

	// Lag is how late requests left compared with their intended instant
	// (timer granularity, a busy CPU). It is part of every latency: a large
	// MaxLag means the harness, not the service, was slow.
	MeanLag, MaxLag time.Duration
}

// Generator sends one Config's requests. Create it with Start.
type Generator struct {
	cfg    Config
	rec    *record.Recorder
	client *http.Client
	lean   *leanClient     // lean.go; nil: every request through client
	reqs   []*http.Request // one template per path
	header []headerField   // fixed headers, canonical keys
	idPre  string          // X-Request-Id prefix, unique per generator

	ctx      context.Context // ends every in-flight request when it ends
	stop     chan struct{}
	stopOnce sync.Once
	start    time.Time

	// Scheduler-only state.
	seq     uint64
	workers int
	fine    *fineTimer // nil: Go timers only
	end     time.Time  // written before schedDone closes

	jobs      chan job       // idle pool workers wait here
	wg        sync.WaitGroup // goroutines sending requests
	schedDone chan struct{}

	inflight                                         atomic.Int64
	sent, completed, errs, dropped, canceled, noPort atomic.Int64
	lagSum, lagMax                                   atomic.Int64
	waitOnce                                         sync.Once
	stats                                            Stats
}

type headerField struct {
	key string
	val []string // shared by all requests; the transport only reads it
}

// job is one scheduled request.
type job struct {
	at   time.Time // intended send instant
	seq  uint64
	warm bool
}

// Start validates cfg and begins sending; it returns at once.
//
// Time zero is rec.Start(), so samples line up with everything else the
// recorder holds. When that instant has passed (or leaves no room for the
// warmup), time zero becomes now + Warmup instead: time before Start was
// called is never made up with a burst. Warmup requests go out during the
// Warmup before time zero and are not recorded.
//
// Ending ctx stops sending and cuts in-flight requests (counted in
// Stats.Canceled, not recorded); Stop ends gracefully.
func Start(ctx context.Context, cfg Config, rec *record.Recorder) (*Generator, error) {
	if rec == nil {
		return nil, errors.New("traffic: recorder is nil: pass the run's *record.Recorder")
	}
	cfg = cfg.withDefaults()
	if _, err := cfg.validate(); err != nil {
		return nil, err
	}
	g := &Generator{
		cfg:       cfg,
		rec:       rec,
		client:    newClient(cfg),
		ctx:       ctx,
		stop:      make(chan struct{}),
		jobs:      make(chan job),
		schedDone: make(chan struct{}),
	}
	host := ""
	for k, v := range cfg.Headers {
		k = textproto.CanonicalMIMEHeaderKey(k)
		if k == "Host" { // net/http ignores a Host header field; it takes Request.Host
			host = v
			continue
		}
		g.header = append(g.header, headerField{key: k, val: []string{v}})
	}
	base := strings.TrimSuffix(cfg.URL, "/")
	for _, p := range cfg.Paths {
		req, err := http.NewRequestWithContext(context.Background(), cfg.Method, base+p, nil)
		if err != nil {
			return nil, fmt.Errorf("traffic: request %s %s%s: %w: fix the method or path", cfg.Method, base, p, err)
		}
		if host != "" {
			req.Host = host
		}
		g.reqs = append(g.reqs, req)
	}
	g.lean = newLeanClient(cfg, g.reqs, g.header)

	now := time.Now()
	g.start = rec.Start()
	if earliest := now.Add(cfg.Warmup); g.start.Before(earliest) {
		g.start = earliest
	}
	g.idPre = strconv.FormatInt(now.UnixNano(), 36) + "-"
	go g.schedule()
	return g, nil
}

// Stop ends sending early (Ctrl-C). Requests already sent finish, each
// bounded by Timeout; Wait returns what was done. Safe to call more than once.
func (g *Generator) Stop() { g.stopOnce.Do(func() { close(g.stop) }) }

// Progress returns how many measured requests were sent and completed so far.
func (g *Generator) Progress() (sent, completed int64) {
	return g.sent.Load(), g.completed.Load()
}

// Wait blocks until sending is over (Duration, Stop or the context's end)
// and every in-flight request has ended, then returns the run's figures.
// Every goroutine the generator started has ended when it returns.
func (g *Generator) Wait() Stats {
	g.waitOnce.Do(func() {
		<-g.schedDone
		g.wg.Wait()
		drained := time.Now()
		g.client.CloseIdleConnections() // ends the transport's per-connection goroutines
		g.lean.closeIdle()
		s := Stats{
			Sent:      g.sent.Load(),
			Completed: g.completed.Load(),
			Errors:    g.errs.Load(),
			Dropped:   g.dropped.Load(),
			Canceled:  g.canceled.Load(),
			NoPort:    g.noPort.Load(),
			Start:     g.start,
			End:       g.end,
			Drained:   drained,
			MaxLag:    time.Duration(g.lagMax.Load()),
		}
		if s.Sent > 0 {
			s.MeanLag = time.Duration(g.lagSum.Load() / s.Sent)
		}
		if span := s.End.Sub(s.Start).Seconds(); span > 0 {
			s.AchievedRPS = float64(s.Sent) / span
		}
		g.stats = s
	})
	return g.stats
}

// schedule is the pacer loop: it sleeps until the next instant and sends
// every request whose instant has passed, each with its own intended time,
// so a late wake-up (timer granularity, a busy CPU) becomes a burst instead
// of fewer requests.
func (g *Generator) schedule() {
	defer close(g.schedDone)
	defer close(g.jobs) // idle pool workers exit
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	g.fine = newFineTimer()
	defer g.fine.close()
	ok := true
	if g.cfg.Warmup > 0 {
		ok = g.phase(timer, g.start.Add(-g.cfg.Warmup), g.cfg.Warmup, true)
	}
	if ok {
		ok = g.phase(timer, g.start, g.cfg.Duration, false)
	}
	if ok {
		g.sleepUntil(timer, g.start.Add(g.cfg.Duration)) // the window is Duration long, not up to its last instant
	}
	g.end = time.Now()
}

// phase sends the instants of [base, base+span); false when stopped.
func (g *Generator) phase(timer *time.Timer, base time.Time, span time.Duration, warm bool) bool {
	p := pacer{rate: g.cfg.Rate}
	for i := int64(0); ; i++ {
		off := p.offset(i)
		if off >= span {
			return true
		}
		at := base.Add(off)
		if !g.sleepUntil(timer, at) {
			return false
		}
		g.dispatch(job{at: at, warm: warm})
	}
}

// sleepUntil waits for at; false when stopped or the context ended. The
// last fineSleepMax of a wait is slept on the fine timer.
func (g *Generator) sleepUntil(timer *time.Timer, at time.Time) bool {
	for {
		d := time.Until(at)
		switch {
		case d <= 0:
			select {
			case <-g.stop:
				return false
			case <-g.ctx.Done():
				return false
			default:
				return true
			}
		case d <= fineSleepMax && g.fine != nil:
			if g.fine.sleep(d) {
				continue
			}
			g.fine = nil // broken: Go timers from now on
		}
		if g.fine != nil {
			d -= fineSleepMax // the rest on the fine timer, next time round
		}
		timer.Reset(d)
		select {
		case <-timer.C:
			continue
		case <-g.stop:
		case <-g.ctx.Done():
		}
		timer.Stop()
		return false
	}
}

// dispatch hands j to a sender, or records it as dropped at the cap. Only
// the scheduler calls it, so the in-flight check cannot race with another
// dispatch.
func (g *Generator) dispatch(j job) {
	j.seq = g.seq
	g.seq++
	if g.inflight.Load() >= int64(g.cfg.MaxInFlight) {
		if !j.warm {
			g.dropped.Add(1)
			g.rec.Observe(record.Observation{
				Source: record.Client, Service: g.cfg.Service, Intended: j.at,
				Latency: time.Since(j.at), Err: record.ErrOther,
			})
		}
		return
	}
	g.inflight.Add(1)
	if !j.warm {
		g.sent.Add(1)
	}
	if g.cfg.dispatch == dispatchGoroutine {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			g.do(j)
		}()
		return
	}
	select {
	case g.jobs <- j: // an idle worker took it
		return
	default:
	}
	if g.workers >= g.cfg.MaxInFlight {
		// Every worker exists and fewer than MaxInFlight are busy, so one
		// is about to come back for work: wait for it.
		g.jobs <- j
		return
	}
	g.workers++
	g.wg.Add(1)
	go g.worker(j)
}

// worker sends j, then whatever the scheduler hands it until jobs closes.
func (g *Generator) worker(j job) {
	defer g.wg.Done()
	for ok := true; ok; j, ok = <-g.jobs {
		g.do(j)
	}
}

// do sends one request and records its sample.
func (g *Generator) do(j job) {
	defer g.inflight.Add(-1)
	if !j.warm {
		g.noteLag(time.Since(j.at))
	}
	ctx, cancel := context.WithTimeout(g.ctx, g.cfg.Timeout)
	r := g.send(ctx, j.seq) // lean.go
	latency := time.Since(j.at)
	cancel()
	if j.warm {
		return
	}
	if r.canceled {
		g.canceled.Add(1)
		return
	}
	if r.err != record.ErrNone {
		r.status = 0
	}
	g.rec.Observe(record.Observation{
		Source: record.Client, Service: g.cfg.Service, Version: r.version, Instance: r.instance,
		Intended: j.at, Latency: latency, Status: r.status, Err: r.err,
	})
	if r.err != record.ErrNone || r.status >= 500 {
		g.errs.Add(1)
	}
	if r.noPort {
		g.noPort.Add(1)
	}
	g.completed.Add(1)
}

func (g *Generator) headers(seq uint64) http.Header {
	h := make(http.Header, len(g.header)+1)
	for _, f := range g.header {
		h[f.key] = f.val
	}
	h[HeaderRequestID] = []string{g.idPre + strconv.FormatUint(seq, 10)}
	return h
}

func (g *Generator) noteLag(d time.Duration) {
	if d < 0 {
		d = 0
	}
	g.lagSum.Add(int64(d))
	for {
		m := g.lagMax.Load()
		if int64(d) <= m || g.lagMax.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}
