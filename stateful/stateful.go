// Package stateful runs the databases of a rehearsal: the scenario's
// PostgreSQL clusters start before the topology (services reach them
// through proxies to the current primary), a write ledger runs alongside
// the traffic, replication is sampled every second, failover is watched
// for, and the database faults and actions (failover, backup, migration)
// act on them. All of it is the state of one Run; what it observed is
// handed to the verdict as evidence (evidence.go).
//
// Files: stateful.go (lifecycle), faults.go (faults, actions, failover),
// backup.go, migrate.go, evidence.go.
package stateful

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/firedrill/firedrill/faults"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology/pg"
	"github.com/firedrill/firedrill/topology/pg/pgdocker"
	"github.com/firedrill/firedrill/topology/toxi"
	"github.com/firedrill/firedrill/traffic"
)

// Event kinds of the stateful side of a run.
const (
	EvLedgerDone  = "ledger_done"
	EvFinalRead   = "ledger_final_read"
	EvFailoverErr = "db_failover_failed"
)

// sampleEvery is the replication sampling period.
const sampleEvery = time.Second

// Config says what a run's databases need.
type Config struct {
	Scenario *scenarios.Scenario
	RunID    string
	// Dir is the run's directory: server logs go to Dir/logs, the
	// databases' Toxiproxy log to Dir/toxiproxy-databases.log.
	Dir string
	// Containers runs the servers as containers (the docker runtime);
	// else they are local processes.
	Containers bool
	Events     *record.Log
}

// Run is the stateful side of one run. Its methods are no-ops when the
// scenario has no databases.
type Run struct {
	cfg Config
	t0  time.Time // traffic start, set by Begin

	toxi    *toxi.Server
	toxiLog *os.File
	dbs     map[string]*dbRun
	// containers runs the servers on the docker runtime (nil: local
	// processes); its proxies listen on its network's gateway, which the
	// services' containers reach.
	containers *pgdocker.Host

	ledger   *traffic.Ledger
	ledgerDB *dbRun
	ledgerCS string

	stop context.CancelFunc // ends the sampler and the failover watchers
	bg   sync.WaitGroup

	mu sync.Mutex
	// actionAt is when an action (promote, backup, migrate) began its work,
	// after its gate: the fault runner stamps it only once the action is done.
	actionAt map[*scenarios.Fault]time.Time
}

// dbRun is one database of the run.
type dbRun struct {
	spec *scenarios.Database
	cl   *pg.Cluster

	mu       sync.Mutex
	samples  []pg.Sample
	detected []time.Time // primary failures the watcher acted on

	writes     []traffic.Write
	found      map[int64]int
	readErr    error
	backups    []*backupRun    // backup.go
	migrations []*migrationRun // migrate.go
}

func (d *dbRun) addSample(s pg.Sample) {
	d.mu.Lock()
	d.samples = append(d.samples, s)
	d.mu.Unlock()
}

// New returns the stateful side of a run; nothing starts yet.
func New(cfg Config) *Run {
	return &Run{cfg: cfg, dbs: map[string]*dbRun{}, actionAt: map[*scenarios.Fault]time.Time{}}
}

// Start starts every database of the scenario and prepares the ledger's
// table. Close must follow, whatever it returns.
func (r *Run) Start(ctx context.Context) error {
	sc := r.cfg.Scenario
	if len(sc.Databases) == 0 {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(r.cfg.Dir, "toxiproxy-databases.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("create the databases' Toxiproxy log: %w", err)
	}
	r.toxiLog = f
	// The databases get a Toxiproxy server of their own: they start before
	// the topology's, and their proxies are repointed on failover.
	if r.toxi, err = toxi.Start(ctx, f); err != nil {
		return fmt.Errorf("start Toxiproxy for the databases: %w", err)
	}
	client := toxiclient.NewClient(r.toxi.URL())
	var host pg.Host // nil: local processes
	if r.cfg.Containers {
		h, err := pgdocker.New(ctx, pgdocker.Options{RunID: r.cfg.RunID, Scenario: sc.Name})
		if err != nil {
			return fmt.Errorf("run the databases as containers: %w", err)
		}
		r.containers, host = h, h
	}
	for _, name := range sc.DatabaseNames() {
		spec := sc.Databases[name]
		cl, err := pg.Start(ctx, pg.Config{
			Name: name, Replicas: spec.Replicas, Sync: spec.Replication == scenarios.ReplSync, Settings: spec.Settings,
			RunID: r.cfg.RunID, LogDir: filepath.Join(r.cfg.Dir, "logs"), Toxiproxy: client, Events: r.cfg.Events,
			StartTimeout: spec.StartTimeout.D(), Host: host,
		})
		if err != nil {
			return fmt.Errorf("database %s: %w", name, err)
		}
		r.dbs[name] = &dbRun{spec: spec, cl: cl}
	}
	if l := sc.Ledger; l != nil {
		r.ledgerDB = r.dbs[l.Database]
		addr, err := r.ledgerDB.cl.ClientProxy("ledger")
		if err != nil {
			return err
		}
		r.ledgerCS = pg.ConnString(addr)
		if err := traffic.PrepareLedger(ctx, r.ledgerCS, traffic.DefaultLedgerTable); err != nil {
			return err
		}
	}
	return nil
}

// DatabaseAddr gives a service its proxy to a database's primary
// (topology.Options.DatabaseAddr): on 127.0.0.1 for local processes, on the
// databases' network gateway for containers (an address of this machine
// that containers on any of its bridge networks reach).
func (r *Run) DatabaseAddr(service, db string) (string, bool) {
	d := r.dbs[db]
	if d == nil {
		return "", false
	}
	addr, err := d.cl.ClientProxy(service)
	if err != nil {
		return "", false
	}
	return addr, true
}

// Begin starts the ledger, the replication sampler and the failover
// watchers, as traffic starts at t0.
func (r *Run) Begin(ctx context.Context, t0 time.Time) error {
	r.t0 = t0
	if len(r.dbs) == 0 {
		return nil
	}
	sc := r.cfg.Scenario
	if l := sc.Ledger; l != nil {
		led, err := traffic.StartLedger(ctx, traffic.LedgerConfig{ConnString: r.ledgerCS, Rate: l.Rate,
			Duration: sc.Traffic.Duration.D(), Timeout: l.Timeout.D(), Conns: l.Connections}, t0)
		if err != nil {
			return fmt.Errorf("start the write ledger: %w", err)
		}
		r.ledger = led
	}
	bgCtx, stop := context.WithCancel(ctx)
	r.stop = stop
	r.bg.Go(func() { r.sampleReplication(bgCtx) })
	for _, d := range r.dbs {
		switch d.spec.Failover {
		case scenarios.FailoverAuto, scenarios.FailoverExternal:
			r.bg.Go(func() { r.watchPrimary(bgCtx, d) })
		}
	}
	return nil
}

// sampleReplication samples every database once a second, on the second
// from traffic start.
func (r *Run) sampleReplication(ctx context.Context) {
	for k := 0; ; k++ {
		if !faults.SleepUntil(ctx, r.t0.Add(time.Duration(k)*sampleEvery)) {
			return
		}
		var wg sync.WaitGroup
		for _, d := range r.dbs {
			wg.Go(func() { d.addSample(d.cl.Sample(ctx, 800*time.Millisecond)) })
		}
		wg.Wait()
	}
}

// Finish waits for the ledger, stops the sampler and watchers, and reads
// the ledger back from the (recovered) primary.
func (r *Run) Finish(ctx context.Context) {
	if len(r.dbs) == 0 {
		return
	}
	if r.ledger != nil {
		r.ledgerDone(r.ledger.Wait())
	}
	if r.stop != nil {
		r.stop()
	}
	r.bg.Wait()
	if d := r.ledgerDB; d != nil && ctx.Err() == nil {
		// The recovery is over by now (failover acts within the traffic);
		// a read that keeps failing means there is no primary to read from.
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		d.found, d.readErr = traffic.ReadLedger(rctx, r.ledgerCS, traffic.DefaultLedgerTable)
		cancel()
		msg := fmt.Sprintf("%d distinct ids read back from %s", len(d.found), primaryName(d.cl))
		if d.readErr != nil {
			msg = "final read failed: " + d.readErr.Error()
		}
		r.cfg.Events.Add(record.Event{Kind: EvFinalRead, Service: d.spec.Name, Message: msg})
	}
}

// ledgerDone keeps the ledger's writes and says how they ended.
func (r *Run) ledgerDone(ws []traffic.Write) {
	d := r.ledgerDB
	d.writes = ws
	var acked, failed, unknown int
	for _, w := range ws {
		switch w.Status {
		case traffic.WriteAcked:
			acked++
		case traffic.WriteFailed:
			failed++
		default:
			unknown++
		}
	}
	r.cfg.Events.Add(record.Event{Kind: EvLedgerDone, Service: d.spec.Name,
		Message: fmt.Sprintf("%d writes: %d acknowledged, %d failed, %d unknown", len(ws), acked, failed, unknown),
		Fields:  map[string]any{"writes": len(ws), "acked": acked, "failed": failed, "unknown": unknown}})
}

func primaryName(cl *pg.Cluster) string {
	if p := cl.Primary(); p != nil {
		return p.Name()
	}
	return "no primary"
}

// stamp records when action f began its work.
func (r *Run) stamp(f *scenarios.Fault, at time.Time) {
	r.mu.Lock()
	r.actionAt[f] = at
	r.mu.Unlock()
}

// ActionAt is when action f (promote, backup, migrate) began its work
// (false: f is no action, or it never got that far).
func (r *Run) ActionAt(f *scenarios.Fault) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.actionAt[f]
	return t, ok
}

// Close removes every database, its data and proxies. It runs on every
// path out of a run, also after a failed Start.
func (r *Run) Close() {
	if r.stop != nil {
		r.stop()
	}
	r.bg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	for _, d := range r.dbs {
		if err := d.cl.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if r.containers != nil {
		if err := r.containers.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if r.toxi != nil {
		_ = r.toxi.Close()
	}
	if r.toxiLog != nil {
		_ = r.toxiLog.Close()
	}
	if err := errors.Join(errs...); err != nil {
		r.cfg.Events.Add(record.Event{Kind: "db_cleanup_failed", Message: err.Error()})
	}
}
