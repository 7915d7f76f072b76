package firedrill

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

// Stateful rehearsals: the scenario's databases start before the topology
// (services reach them through proxies to the current primary), a write
// ledger runs alongside the traffic, replication is sampled every second,
// and failover is watched for. Files: stateful.go (lifecycle),
// stateful_faults.go (faults, actions, failover), stateful_check.go
// (expectations and findings).

// Event kinds of the stateful glue.
const (
	EvLedgerDone  = "ledger_done"
	EvFinalRead   = "ledger_final_read"
	EvFailoverErr = "db_failover_failed"
)

// sampleEvery is the replication sampling period.
const sampleEvery = time.Second

// statefulRun is the stateful side of one run.
type statefulRun struct {
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

	// actionAt is when an action (promote, backup) began its work, after
	// its gate: the fault runner stamps it only once the action is done.
	actionAt sync.Map // *scenarios.Fault -> time.Time
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
	backups    []*backupRun    // stateful_backup.go
	migrations []*migrationRun // stateful_migrate.go
}

func (d *dbRun) addSample(s pg.Sample) {
	d.mu.Lock()
	d.samples = append(d.samples, s)
	d.mu.Unlock()
}

// startDatabases starts every database of the scenario and prepares the
// ledger's table. stopDatabases must follow, whatever it returns.
func (r *runner) startDatabases(ctx context.Context) error {
	if len(r.sc.Databases) == 0 {
		return nil
	}
	st := &statefulRun{dbs: map[string]*dbRun{}}
	r.db = st
	f, err := os.OpenFile(filepath.Join(r.dir, "toxiproxy-databases.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return &InfraError{fmt.Errorf("create the databases' Toxiproxy log: %w", err)}
	}
	st.toxiLog = f
	// The databases get a Toxiproxy server of their own: they start before
	// the topology's, and their proxies are repointed on failover.
	if st.toxi, err = toxi.Start(ctx, f); err != nil {
		return &InfraError{fmt.Errorf("start Toxiproxy for the databases: %w", err)}
	}
	client := toxiclient.NewClient(st.toxi.URL())
	var host pg.Host // nil: local processes
	if r.res.Runtime == "docker" {
		h, err := pgdocker.New(ctx, pgdocker.Options{RunID: r.runID, Scenario: r.sc.Name})
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%w while the databases' containers were prepared", ErrInterrupted)
			}
			return &InfraError{fmt.Errorf("run the databases as containers: %w", err)}
		}
		st.containers, host = h, h
	}
	for _, name := range r.sc.DatabaseNames() {
		spec := r.sc.Databases[name]
		cl, err := pg.Start(ctx, pg.Config{
			Name: name, Replicas: spec.Replicas, Sync: spec.Replication == scenarios.ReplSync, Settings: spec.Settings,
			RunID: r.runID, LogDir: filepath.Join(r.dir, "logs"), Toxiproxy: client, Events: r.events,
			StartTimeout: spec.StartTimeout.D(), Host: host,
		})
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%w while database %s started", ErrInterrupted, name)
			}
			return &InfraError{fmt.Errorf("database %s: %w", name, err)}
		}
		st.dbs[name] = &dbRun{spec: spec, cl: cl}
	}
	for _, f := range r.sc.Faults {
		if f != nil && f.IsDatabaseFault() {
			dbFaults.Store(f, &dbFault{r: r, d: st.dbs[f.Database]})
		}
	}
	if l := r.sc.Ledger; l != nil {
		st.ledgerDB = st.dbs[l.Database]
		addr, err := st.ledgerDB.cl.ClientProxy("ledger")
		if err != nil {
			return &InfraError{err}
		}
		st.ledgerCS = pg.ConnString(addr)
		if err := traffic.PrepareLedger(ctx, st.ledgerCS, traffic.DefaultLedgerTable); err != nil {
			return &InfraError{err}
		}
	}
	return nil
}

// databaseAddr gives a service its proxy to a database's primary
// (topology.Options.DatabaseAddr): on 127.0.0.1 for local processes, on the
// databases' network gateway for containers (an address of this machine
// that containers on any of its bridge networks reach).
func (r *runner) databaseAddr(service, db string) (string, bool) {
	if r.db == nil || r.db.dbs[db] == nil {
		return "", false
	}
	addr, err := r.db.dbs[db].cl.ClientProxy(service)
	if err != nil {
		return "", false
	}
	return addr, true
}

// startStateful starts the ledger, the replication sampler and the
// failover watchers, as traffic starts (r.t0).
func (r *runner) startStateful(ctx context.Context) error {
	st := r.db
	if st == nil {
		return nil
	}
	if l := r.sc.Ledger; l != nil {
		led, err := traffic.StartLedger(ctx, traffic.LedgerConfig{ConnString: st.ledgerCS, Rate: l.Rate,
			Duration: r.sc.Traffic.Duration.D(), Timeout: l.Timeout.D(), Conns: l.Connections}, r.t0)
		if err != nil {
			return &InfraError{fmt.Errorf("start the write ledger: %w", err)}
		}
		st.ledger = led
	}
	bgCtx, stop := context.WithCancel(ctx)
	st.stop = stop
	st.bg.Go(func() { r.sampleReplication(bgCtx) })
	for _, d := range st.dbs {
		switch d.spec.Failover {
		case scenarios.FailoverAuto, scenarios.FailoverExternal:
			st.bg.Go(func() { r.watchPrimary(bgCtx, d) })
		}
	}
	return nil
}

// sampleReplication samples every database once a second, on the second
// from traffic start.
func (r *runner) sampleReplication(ctx context.Context) {
	for k := 0; ; k++ {
		if !faults.SleepUntil(ctx, r.t0.Add(time.Duration(k)*sampleEvery)) {
			return
		}
		var wg sync.WaitGroup
		for _, d := range r.db.dbs {
			wg.Go(func() { d.addSample(d.cl.Sample(ctx, 800*time.Millisecond)) })
		}
		wg.Wait()
	}
}

// finishStateful waits for the ledger, stops the sampler and watchers, and
// reads the ledger back from the (recovered) primary.
func (r *runner) finishStateful(ctx context.Context) {
	st := r.db
	if st == nil {
		return
	}
	if st.ledger != nil {
		ws := st.ledger.Wait()
		d := st.ledgerDB
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
		r.events.Add(record.Event{Kind: EvLedgerDone, Service: d.spec.Name,
			Message: fmt.Sprintf("%d writes: %d acknowledged, %d failed, %d unknown", len(ws), acked, failed, unknown),
			Fields:  map[string]any{"writes": len(ws), "acked": acked, "failed": failed, "unknown": unknown}})
	}
	if st.stop != nil {
		st.stop()
	}
	st.bg.Wait()
	if d := st.ledgerDB; d != nil && ctx.Err() == nil {
		// The recovery is over by now (failover acts within the traffic);
		// a read that keeps failing means there is no primary to read from.
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		d.found, d.readErr = traffic.ReadLedger(rctx, st.ledgerCS, traffic.DefaultLedgerTable)
		cancel()
		msg := fmt.Sprintf("%d distinct ids read back from %s", len(d.found), primaryName(d.cl))
		if d.readErr != nil {
			msg = "final read failed: " + d.readErr.Error()
		}
		r.events.Add(record.Event{Kind: EvFinalRead, Service: d.spec.Name, Message: msg})
	}
}

func primaryName(cl *pg.Cluster) string {
	if p := cl.Primary(); p != nil {
		return p.Name()
	}
	return "no primary"
}

// stopDatabases removes every database, its data and proxies. It runs on
// every path out of run (deferred), also after a failed start.
func (r *runner) stopDatabases() {
	st := r.db
	if st == nil {
		return
	}
	if st.stop != nil {
		st.stop()
	}
	st.bg.Wait()
	for _, f := range r.sc.Faults {
		dbFaults.Delete(f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	for _, d := range st.dbs {
		if err := d.cl.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if st.containers != nil {
		if err := st.containers.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if st.toxi != nil {
		_ = st.toxi.Close()
	}
	if st.toxiLog != nil {
		_ = st.toxiLog.Close()
	}
	if err := errors.Join(errs...); err != nil {
		r.events.Add(record.Event{Kind: "db_cleanup_failed", Message: err.Error()})
	}
}
