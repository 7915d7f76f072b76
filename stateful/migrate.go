package stateful

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/firedrill/firedrill/faults"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology/pg"
)

// EvMigration is the event of a migration step that ran.
const EvMigration = "db_migration"

// lockPoll is how often lock waits are looked at while a migration runs.
const lockPoll = 10 * time.Millisecond

// migrationRun is one migrate action as it happened.
type migrationRun struct {
	name     string
	at       time.Time
	took     time.Duration
	err      error
	verified bool  // VerifySQL ran
	verify   int64 // its count (must be 0)
	verifyEr error
	// maxLockWait is the longest any query had been waiting on a lock, and
	// maxWaiters the most queries waiting at once, while the step ran.
	maxLockWait time.Duration
	maxWaiters  int
}

// migrate runs action f's verify query, then its SQL, on the primary,
// watching lock waits from a second connection meanwhile.
func (r *Run) migrate(ctx context.Context, d *dbRun, f *scenarios.Fault) error {
	m := &migrationRun{name: f.Name}
	d.mu.Lock()
	d.migrations = append(d.migrations, m)
	d.mu.Unlock()
	err := r.migrateSteps(ctx, d, f, m)
	msg := fmt.Sprintf("migration %s on %s: ", f.Name, d.spec.Name)
	if err != nil {
		msg += "failed: " + err.Error()
	} else {
		msg += fmt.Sprintf("ran in %s; longest lock wait meanwhile %s (%d queries waiting at most)",
			m.took.Round(time.Millisecond), m.maxLockWait.Round(time.Millisecond), m.maxWaiters)
	}
	r.cfg.Events.Add(record.Event{Kind: EvMigration, Service: d.spec.Name, Message: msg, Fields: map[string]any{
		"migration": f.Name, "took_ms": float64(m.took.Microseconds()) / 1000, "max_lock_wait_ms": float64(m.maxLockWait.Microseconds()) / 1000,
		"max_waiters": m.maxWaiters}})
	return err
}

func (r *Run) migrateSteps(ctx context.Context, d *dbRun, f *scenarios.Fault, m *migrationRun) error {
	addr := d.cl.Primary().Addr()
	conn, err := pg.Connect(ctx, addr)
	if err != nil {
		m.err = fmt.Errorf("connect to the primary: %w", err)
		return m.err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if f.VerifySQL != "" {
		m.verified = true
		if m.verifyEr = conn.QueryRow(ctx, f.VerifySQL).Scan(&m.verify); m.verifyEr != nil {
			m.err = fmt.Errorf("verify_sql: %w", m.verifyEr)
			return m.err
		}
		if m.verify != 0 {
			m.err = fmt.Errorf("verify_sql counted %d, not 0: the migration was not run", m.verify)
			return m.err
		}
	}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { m.maxLockWait, m.maxWaiters = watchLocks(wctx, addr) })
	m.at = time.Now()
	r.stamp(f, m.at)
	_, err = conn.Exec(ctx, f.SQL) // simple protocol: several statements, one implicit transaction
	m.took = time.Since(m.at)
	stop()
	wg.Wait()
	if err != nil {
		m.err = fmt.Errorf("sql: %w", err)
	}
	return m.err
}

// watchLocks polls pg_stat_activity for queries waiting on a lock until
// ctx ends, and returns the longest such query's age and the most waiting
// at once.
func watchLocks(ctx context.Context, addr string) (time.Duration, int) {
	conn, err := pg.Connect(ctx, addr)
	if err != nil {
		return 0, 0
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var longest time.Duration
	most := 0
	for ctx.Err() == nil {
		var n int
		var age float64
		err := conn.QueryRow(ctx, `SELECT count(*), COALESCE(max(EXTRACT(EPOCH FROM clock_timestamp() - query_start)), 0)::float8
			FROM pg_stat_activity WHERE wait_event_type = 'Lock'`).Scan(&n, &age)
		if err != nil {
			break
		}
		most = max(most, n)
		longest = max(longest, time.Duration(age*float64(time.Second)))
		if !faults.SleepUntil(ctx, time.Now().Add(lockPoll)) {
			break
		}
	}
	return longest, most
}
