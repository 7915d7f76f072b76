package firedrill_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology/pg"
)

// The stateful examples take 20-30 s each, mostly waiting on their traffic;
// they run in parallel with each other.

// pgTest marks a test that runs PostgreSQL for about d: skipped in -short
// mode, parallel with the others otherwise.
func pgTest(t *testing.T, d string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs PostgreSQL for " + d)
	}
	t.Parallel()
}

func runPG(t *testing.T, sc *scenarios.Scenario, opts firedrill.Options) *reports.Result {
	t.Helper()
	if opts.OutDir == "" {
		opts.OutDir = t.TempDir()
	}
	res, err := firedrill.Run(context.Background(), sc, opts)
	require.NoError(t, err)
	assertNoPostgresLeft(t, res)
	return res
}

// assertNoPostgresLeft: no server of the run lives (the postmasters carry
// the run id; their children work in the data directories) and no data
// directory is left.
func assertNoPostgresLeft(t *testing.T, res *reports.Result) {
	t.Helper()
	var dirs []string
	var segments []int
	for _, e := range res.Events {
		if d, ok := e.Fields["data_dir"].(string); ok && e.Kind == pg.EvNodeStarted {
			dirs = append(dirs, d)
		}
		if id, ok := e.Fields["shmid"].(int); ok && e.Kind == pg.EvNodeStarted {
			segments = append(segments, id)
		}
	}
	require.NotEmpty(t, segments, "each server registered a System V segment")
	for _, id := range segments {
		_, err := unix.SysvShmCtl(id, unix.IPC_STAT, &unix.SysvShmDesc{})
		assert.Error(t, err, "shared memory segment %d of run %s was removed", id, res.RunID)
	}
	require.NotEmpty(t, dirs, "the run started PostgreSQL servers")
	assert.Eventually(t, func() bool {
		if len(instancePIDs(res.RunID)) > 0 {
			return false
		}
		for _, d := range dirs {
			if len(pg.Processes(d)) > 0 {
				return false
			}
		}
		return true
	}, 10*time.Second, 50*time.Millisecond, "PostgreSQL processes of run %s still alive", res.RunID)
	for _, d := range dirs {
		assert.NoDirExists(t, d)
	}
	left, _ := filepath.Glob(filepath.Join(os.TempDir(), "firedrill-pg-"+res.RunID+"-*"))
	assert.Empty(t, left, "cluster directories of run %s", res.RunID)
}

func ledgerFinding(t *testing.T, res *reports.Result) reports.Recovery {
	t.Helper()
	for _, r := range res.Recovery {
		if r.Name == "write ledger on db" {
			require.NotNil(t, r.LostWrites, "the final read worked: %s", r.Detail)
			require.NotNil(t, r.AckedWrites)
			return r
		}
	}
	require.FailNow(t, "no ledger finding", "%+v", res.Recovery)
	return reports.Recovery{}
}

func allPassed(t *testing.T, res *reports.Result) {
	t.Helper()
	for _, e := range res.Expectations {
		assert.True(t, e.Passed, "%s: observed %s, threshold %s (%s)", e.Name, e.Observed, e.Threshold, e.Detail)
	}
	assert.Equal(t, reports.GO, res.Verdict)
}

func hasEvent(res *reports.Result, kind string) bool {
	for _, e := range res.Events {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

func TestPostgresFailoverSyncLosesNothing(t *testing.T) {
	pgTest(t, "25 s")
	assertSyncFailover(t, runPG(t, load(t, "pg-failover-sync.yaml"), firedrill.Options{}))
}

func TestPostgresFailoverAsyncLosesAWindow(t *testing.T) {
	pgTest(t, "25 s")
	assertAsyncFailover(t, runPG(t, load(t, "pg-failover-async.yaml"), firedrill.Options{}))
}

// assertSyncFailover: pg-failover-sync on any runtime.
func assertSyncFailover(t *testing.T, res *reports.Result) {
	t.Helper()
	allPassed(t, res)
	f := ledgerFinding(t, res)
	logRecovery(t, f)
	assert.Zero(t, *f.LostWrites, "synchronous replication: every acknowledged write survived the primary")
	assert.Greater(t, *f.AckedWrites, 500, "about 20 s of 50 writes/s, less the outage")
	require.NotNil(t, f.RTOSeconds)
	require.NotNil(t, f.FirstWriteSeconds)
	assert.Greater(t, *f.FirstWriteSeconds, 0.9, "the harness waits 1 s (detect) before it promotes")
	assert.True(t, hasEvent(res, pg.EvPromoted))
	require.Len(t, res.Replication, 1)
	pts := res.Replication[0].Points
	require.NotEmpty(t, pts)
	assert.True(t, pts[0].Streaming)
	assert.False(t, pts[len(pts)-1].Streaming, "once its primary died the replica stopped streaming: a failure, not zero lag")
}

// assertAsyncFailover: pg-failover-async on any runtime. Replication lags
// 2 s behind and promotion follows the kill by more than 1 s: what the
// primary acknowledged in between is gone.
func assertAsyncFailover(t *testing.T, res *reports.Result) {
	t.Helper()
	allPassed(t, res)
	f := ledgerFinding(t, res)
	logRecovery(t, f)
	assert.Positive(t, *f.LostWrites, "asynchronous replication with a delayed stream loses acknowledged writes")
	assert.LessOrEqual(t, *f.LostWrites, 100, "no more than the 2 s in flight")
	require.NotNil(t, f.RPOSeconds)
	assert.Greater(t, *f.RPOSeconds, 0.0)
	assert.Less(t, *f.RPOSeconds, 2.0)
}

// logRecovery puts the ledger's figures in the test log (for the notes).
func logRecovery(t *testing.T, f reports.Recovery) {
	t.Helper()
	show := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return time.Duration(*p * float64(time.Second)).Round(time.Millisecond).String()
	}
	t.Logf("acked %d, lost %d, RTO %s, RPO window %s, first write after %s",
		*f.AckedWrites, *f.LostWrites, show(f.RTOSeconds), show(f.RPOSeconds), show(f.FirstWriteSeconds))
}

func TestPostgresLagGateRollsBack(t *testing.T) {
	pgTest(t, "25 s")
	res := runPG(t, load(t, "pg-lag-gate.yaml"), firedrill.Options{})
	allPassed(t, res)
	assert.Equal(t, "step_gate", res.Rollout.Trigger)
	require.Len(t, res.Rollout.Steps, 1, "step 2 never started: its gate held it")
	assert.Zero(t, *ledgerFinding(t, res).LostWrites, "a planned switchover hands the replica all the WAL")
}

func TestPostgresBackupRestore(t *testing.T) {
	pgTest(t, "20 s")
	res := runPG(t, load(t, "pg-backup-restore.yaml"), firedrill.Options{})
	allPassed(t, res)
	var restore *reports.Recovery
	for i := range res.Recovery {
		if res.Recovery[i].Fault == "nightly-backup" {
			restore = &res.Recovery[i]
		}
	}
	require.NotNil(t, restore)
	require.NotNil(t, restore.Passed)
	assert.True(t, *restore.Passed, restore.Detail)
	assert.NotNil(t, restore.RTOSeconds)
	assert.Contains(t, res.Expectations[0].Detail, "verified against its manifest")
	// The action's window is its work: from the backup's start to its end.
	require.Len(t, res.Faults, 1)
	b := res.Faults[0]
	require.NotNil(t, b.InjectedAt)
	require.NotNil(t, b.RevertedAt)
	assert.Greater(t, b.RevertedAt.Sub(*b.InjectedAt), 50*time.Millisecond, "pg_basebackup, verify and restore take time")
}

// A former primary that comes back after the failover accepts writes next
// to the new one: the split-brain check must catch it.
func TestPostgresReturningPrimaryIsSplitBrain(t *testing.T) {
	pgTest(t, "12 s")
	sc, err := scenarios.Parse("split.yaml", []byte(`
name: split
services:
  api: {fixture: httpsvc}
databases:
  db: {replicas: 1, detect: 500ms}
traffic: {entry: api, rate: 5, duration: 8s}
ledger: {rate: 20}
faults:
  - {name: crash, kind: kill_primary, at: 2s, duration: 3s}
expectations:
  - {kind: no_split_brain}
`))
	require.NoError(t, err)
	res := runPG(t, sc, firedrill.Options{Formats: []string{"md"}})
	assert.Equal(t, reports.NOGO, res.Verdict)
	require.Len(t, res.Expectations, 1)
	x := res.Expectations[0]
	assert.False(t, x.Passed)
	assert.Contains(t, x.Detail, "both accepted writes")
	assert.Contains(t, x.Detail, "db-0")
	assert.Contains(t, x.Detail, "db-1")
}

// Without failover, a dead primary stays dead: the final read fails, and RPO
// cannot be claimed.
func TestPostgresNoFailoverCannotClaimRPO(t *testing.T) {
	pgTest(t, "10 s")
	sc, err := scenarios.Parse("nofailover.yaml", []byte(`
name: nofailover
services:
  api: {fixture: httpsvc}
databases:
  db: {replicas: 1, failover: none}
traffic: {entry: api, rate: 5, duration: 5s}
ledger: {rate: 20, timeout: 300ms}
faults:
  - {name: crash, kind: kill_primary, at: 2s}
expectations:
  - {kind: rpo}
`))
	require.NoError(t, err)
	res := runPG(t, sc, firedrill.Options{Formats: []string{"md"}})
	assert.Equal(t, reports.NOGO, res.Verdict)
	assert.Equal(t, "not measured", res.Expectations[0].Observed, res.Expectations[0].Detail)
}

// Ctrl-C in the middle of a failover rehearsal: every server stopped, every
// data directory removed, the partial result written.
func TestPostgresInterruptLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs PostgreSQL")
	}
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := firedrill.Run(ctx, load(t, "pg-failover-sync.yaml"), firedrill.Options{OutDir: t.TempDir(), Formats: []string{"md"},
		OnEvent: func(e record.Event) {
			if e.Kind == pg.EvPromoted {
				cancel()
			}
		}})
	require.Error(t, err)
	assert.True(t, errors.Is(err, firedrill.ErrInterrupted), "%v", err)
	require.NotNil(t, res)
	assert.True(t, res.Interrupted)
	assertNoPostgresLeft(t, res)
}

// SIGKILL the harness mid-run: the parent-death signal takes every
// postmaster down, their children follow, and the next cluster start (or
// pg.CleanStale) removes the directory the dead harness left.
func TestPostgresHarnessSIGKILLLeavesNoServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs PostgreSQL")
	}
	cmd, runID := startCLIRun(t, "pg-failover-sync.yaml")
	clusters, _ := filepath.Glob(filepath.Join(os.TempDir(), "firedrill-pg-"+runID+"-*"))
	require.Len(t, clusters, 1)
	t.Cleanup(func() { _ = os.RemoveAll(clusters[0]) })
	require.NotEmpty(t, instancePIDs(runID))
	require.NotEmpty(t, pg.Processes(clusters[0]))

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	assert.Eventually(t, func() bool { return len(instancePIDs(runID)) == 0 && len(pg.Processes(clusters[0])) == 0 },
		10*time.Second, 50*time.Millisecond, "servers of the killed run still alive")
	removed, err := pg.CleanStale()
	require.NoError(t, err)
	assert.Contains(t, removed, clusters[0])
	assert.NoDirExists(t, clusters[0])
}

func TestPostgresMigrationExpandContract(t *testing.T) {
	pgTest(t, "30 s")
	assertExpandContract(t, runPG(t, load(t, "pg-migration-expand-contract.yaml"), firedrill.Options{}))
}

// assertExpandContract: pg-migration-expand-contract on any runtime.
func assertExpandContract(t *testing.T, res *reports.Result) {
	t.Helper()
	allPassed(t, res)
	assert.Equal(t, reports.Promoted, res.Rollout.Outcome)
	assert.Contains(t, res.Expectations[2].Detail, "verify_sql counted 0", "old and new columns agreed before the contract")
}

func TestPostgresBreakingMigrationIsCaught(t *testing.T) {
	pgTest(t, "25 s")
	res := runPG(t, load(t, "pg-migration-breaking.yaml"), firedrill.Options{Formats: []string{"md"}})
	assert.Equal(t, reports.NOGO, res.Verdict)
	assert.Equal(t, firedrill.ExitNoGo, firedrill.ExitCode(res, nil))
	mig := res.Expectations[0]
	assert.False(t, mig.Passed)
	assert.Contains(t, mig.Detail, "not backward compatible")
	require.NotNil(t, mig.Value)
	assert.Less(t, *mig.Value, 10.0, "v1 failed (nearly) every request after the rename: %s", mig.Observed)
}

// The app's rollback lands on the expanded schema: the old version must
// work there (that is what the expand step is for).
func TestPostgresRollbackWorksOnExpandedSchema(t *testing.T) {
	pgTest(t, "15 s")
	sc, err := scenarios.Parse("rollback.yaml", []byte(`
name: rollback-expanded
services:
  app: {fixture: httpsvc, replicas: 2, depends_on: [db], env: {DB_COLUMN: customer_name}}
databases:
  db: {replicas: 1}
traffic: {entry: app, rate: 30, duration: 12s}
rollout:
  service: app
  to: v2
  env: {DB_COLUMN: customer, ERROR_RATE: "0.5"}
  start_at: 3s
  steps: [{weight: 30, pause: 6s}]
  analysis: {max_error_rate: 0.05, min_requests: 10, failures: 2}
faults:
  - name: expand
    kind: migrate
    at: 1s
    sql: |
      ALTER TABLE orders ADD COLUMN customer text;
      CREATE FUNCTION orders_sync() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.customer := COALESCE(NEW.customer, NEW.customer_name);
        NEW.customer_name := COALESCE(NEW.customer_name, NEW.customer);
        RETURN NEW;
      END $$;
      CREATE TRIGGER orders_sync BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION orders_sync();
expectations:
  - {kind: rollout_outcome, outcome: rolled_back}
  - {kind: migration, migration: expand, app: app}
`))
	require.NoError(t, err)
	res := runPG(t, sc, firedrill.Options{Formats: []string{"md"}})
	allPassed(t, res)
	require.NotNil(t, res.Rollout.CompletedAt)
	assert.Contains(t, res.Expectations[1].Detail, "after it app v1 answered")
}

// A migration that holds its lock makes the app's queries wait: the wait is
// measured and bounded.
func TestPostgresMigrationLockWaitIsMeasured(t *testing.T) {
	pgTest(t, "10 s")
	sc, err := scenarios.Parse("locks.yaml", []byte(`
name: locks
services:
  app: {fixture: httpsvc, depends_on: [db]}
databases:
  db: {replicas: 1}
traffic: {entry: app, rate: 30, duration: 6s, timeout: 3s}
faults:
  - name: slow-alter
    kind: migrate
    at: 2s
    sql: ALTER TABLE orders ADD COLUMN note text; SELECT pg_sleep(1)
expectations:
  - {kind: migration, migration: slow-alter, max_lock_wait: 200ms}
`))
	require.NoError(t, err)
	res := runPG(t, sc, firedrill.Options{Formats: []string{"md"}})
	x := res.Expectations[0]
	assert.False(t, x.Passed, "the app waited about 1 s behind the ALTER's lock: %s", x.Detail)
	assert.Contains(t, x.Detail, "on a lock, more than 200ms")
	assert.Equal(t, reports.NOGO, res.Verdict)
}

// failover: external runs the scenario's own failover tool (here psql
// calling pg_promote() on the candidate it is given) and adopts the replica
// it promoted.
func TestPostgresExternalFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("runs PostgreSQL for 10 s")
	}
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("psql is not installed")
	}
	t.Parallel()
	sc, err := scenarios.Parse("external.yaml", []byte(`
name: external
services:
  api: {fixture: httpsvc}
databases:
  db:
    replicas: 1
    replication: sync
    failover: external
    failover_command: [sh, -c, "psql -h $PGHOST -p $PGPORT -U postgres -d postgres -Atc 'SELECT pg_promote()'"]
traffic: {entry: api, rate: 5, duration: 8s}
ledger: {rate: 50}
faults:
  - {name: crash, kind: kill_primary, at: 2s}
expectations:
  - {kind: rpo}
  - {kind: rto, database: db, fault: crash, max: 5s, stability: 2s}
`))
	require.NoError(t, err)
	res := runPG(t, sc, firedrill.Options{Formats: []string{"md"}})
	allPassed(t, res)
	assert.True(t, hasEvent(res, "db_failover_command"))
	assert.True(t, hasEvent(res, pg.EvPromoted), "the harness adopted the replica the tool promoted")
}
