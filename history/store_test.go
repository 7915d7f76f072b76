package history

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every store test runs on a real SQLite file and on a real PostgreSQL.
func TestStore(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Run("record and read back", func(t *testing.T) { testRecord(t, b.fresh(t)) })
			t.Run("two writers at once", func(t *testing.T) { testConcurrent(t, b.fresh(t)) })
			t.Run("migrate from schema 1", func(t *testing.T) { testMigrate(t, b.fresh(t)) })
			t.Run("tampering", func(t *testing.T) { testTamper(t, b.fresh(t)) })
		})
	}
}

func testRecord(t *testing.T, spec string) {
	ctx := context.Background()
	s := open(t, spec)
	at := time.Date(2026, 12, 1, 2, 0, 0, 123456000, time.UTC)
	id, err := s.Record(ctx, run(t, at, "GO"))
	require.NoError(t, err)
	runs, err := s.Runs(ctx, Filter{Scenario: "quickstart"})
	require.NoError(t, err)
	require.Len(t, runs, 1)
	r := runs[0]
	assert.Equal(t, id, r.ID)
	assert.Equal(t, "GO", r.Verdict)
	assert.Equal(t, "v2", r.Version)
	assert.Equal(t, "v1", r.FromVersion)
	assert.Equal(t, int64(42), r.Seed)
	assert.Equal(t, "abc", r.FileHash)
	assert.Equal(t, "c0ffee", r.Commit)
	assert.Equal(t, "main", r.Branch)
	assert.Equal(t, "rolled_back", r.RolloutOutcome)
	assert.True(t, at.Equal(r.StartedAt), "%s != %s", at, r.StartedAt)
	// Expected from the result's own timestamps (regression 12:35:01.90004366,
	// detected 12:35:04.908610763, traffic restored 12:35:04.909199077,
	// completed 12:35:05.04026557).
	require.NotNil(t, r.DetectS)
	assert.InDelta(t, 3.008567103, *r.DetectS, 1e-9)
	assert.InDelta(t, 3.14022191, *r.RollbackS, 1e-9)
	assert.InDelta(t, 3.009155417, *r.RestoreS, 1e-9)
	assert.InDelta(t, 207.26, *r.P99MS, 1e-9)
	assert.InDelta(t, 1.0, *r.Availability, 1e-12) // 3000 requests, 0 errors
	assert.Nil(t, r.RTOS)
	require.Len(t, r.Expectations, 4)
	assert.Equal(t, "rollback_within", r.Expectations[1].Kind)
	assert.InDelta(t, 3.14022191, *r.Expectations[1].Value, 1e-9)
	assert.Nil(t, r.Expectations[0].Value)
	n, err := s.Verify(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

// Two stores (two harnesses) append 20 runs each at once: all 40 are
// there and the chain is one unbroken chain.
func testConcurrent(t *testing.T, spec string) {
	ctx := context.Background()
	a, b := open(t, spec), open(t, spec)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for w, s := range []*Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				_, err := s.Record(ctx, run(t, base.Add(time.Duration(w*100+i)*time.Minute), "GO"))
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	runs, err := a.Runs(ctx, Filter{})
	require.NoError(t, err)
	assert.Len(t, runs, 40)
	n, err := b.Verify(ctx)
	require.NoError(t, err)
	assert.Equal(t, 40, n)
}

// A store left at schema 1 by an older firedrill, holding a run, is
// migrated on open; its run reads back and joins the audit chain.
func testMigrate(t *testing.T, spec string) {
	ctx := context.Background()
	old := rawStore(t, spec)
	require.NoError(t, old.migrate(ctx, 1))
	_, err := old.db.ExecContext(ctx, old.d.q(`INSERT INTO runs (scenario, file_hash, version, seed, runtime, verdict, started_at, ended_at, out_dir, p99_ms, availability)
		VALUES ('quickstart', 'abc', 'v2', 42, 'local', 'NO-GO', '2026-11-30T01:00:00.000000Z', '2026-11-30T01:00:30.000000Z', 'out/q', 250.5, 0.97)`))
	require.NoError(t, err)
	_, err = old.db.ExecContext(ctx, `INSERT INTO expectations (run_id, idx, name, kind, passed, observed, threshold) VALUES (1, 0, 'availability >= 0.98', 'availability', FALSE, '97%', '>= 98%')`)
	require.NoError(t, err)
	require.NoError(t, old.Close())

	s := open(t, spec)
	var v int
	require.NoError(t, s.db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v))
	assert.Equal(t, SchemaVersion(), v)
	_, err = s.Record(ctx, run(t, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "GO"))
	require.NoError(t, err)
	runs, err := s.Runs(ctx, Filter{})
	require.NoError(t, err)
	require.Len(t, runs, 2)
	assert.Equal(t, "NO-GO", runs[0].Verdict)
	assert.InDelta(t, 250.5, *runs[0].P99MS, 1e-9)
	assert.Nil(t, runs[0].DetectS) // not known to schema 1
	require.Len(t, runs[0].Expectations, 1)
	assert.False(t, runs[0].Expectations[0].Passed)
	n, err := s.Verify(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

// rawStore opens a store without migrating it.
func rawStore(t *testing.T, spec string) *Store {
	t.Helper()
	driver, d := "sqlite", sqliteDialect
	if filepath.IsAbs(spec) {
		spec = "file:" + spec + "?_txlock=immediate"
	} else {
		driver, d = "pgx", postgresDialect
	}
	db, err := sql.Open(driver, spec)
	require.NoError(t, err)
	return &Store{db: db, d: d, where: spec}
}

// An UPDATE behind firedrill's back is found, and named.
func testTamper(t *testing.T, spec string) {
	ctx := context.Background()
	s := open(t, spec)
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i, v := range []string{"GO", "NO-GO", "GO"} {
		_, err := s.Record(ctx, run(t, base.Add(time.Duration(i)*time.Hour), v))
		require.NoError(t, err)
	}
	_, err := s.Decide(ctx, Decision{Kind: DecisionApproval, Scenario: "quickstart", Version: "v2", Actor: "alice", At: base.Add(4 * time.Hour)})
	require.NoError(t, err)
	n, err := s.Verify(ctx)
	require.NoError(t, err)
	require.Equal(t, 4, n)

	// Someone turns the NO-GO into a GO.
	_, err = s.db.ExecContext(ctx, `UPDATE runs SET verdict = 'GO' WHERE id = 2`)
	require.NoError(t, err)
	n, err = s.Verify(ctx)
	var b *Broken
	require.True(t, errors.As(err, &b), "%v", err)
	assert.Equal(t, "run", b.Kind)
	assert.Equal(t, int64(2), b.Ref)
	assert.Equal(t, 1, n)
	assert.Contains(t, err.Error(), "run 2")
	_, err = s.db.ExecContext(ctx, `UPDATE runs SET verdict = 'NO-GO' WHERE id = 2`)
	require.NoError(t, err)
	_, err = s.Verify(ctx)
	require.NoError(t, err, "restoring the row restores the chain")

	// An approval's actor is edited; then an expectation is deleted.
	_, err = s.db.ExecContext(ctx, `UPDATE decisions SET actor = 'mallory' WHERE id = 1`)
	require.NoError(t, err)
	_, err = s.Verify(ctx)
	require.True(t, errors.As(err, &b), "%v", err)
	assert.Equal(t, "decision", b.Kind)
	_, err = s.db.ExecContext(ctx, `DELETE FROM expectations WHERE run_id = 3 AND idx = 0`)
	require.NoError(t, err)
	_, err = s.Verify(ctx)
	require.True(t, errors.As(err, &b), "%v", err)
	assert.Equal(t, int64(3), b.Ref)
}

func TestForeignAndCorruptFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(garbage, []byte("these are my notes, not a database\n"), 0o644))
	_, err := Open(ctx, garbage)
	require.Error(t, err)
	assert.Contains(t, err.Error(), garbage)
	assert.Contains(t, err.Error(), "not an SQLite database")

	// Another program's SQLite database.
	foreign := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", foreign)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	_, err = Open(ctx, foreign)
	require.Error(t, err)
	assert.Contains(t, err.Error(), foreign)
	assert.Contains(t, err.Error(), "customers")

	// A real history file whose pages were overwritten after the header.
	broken := filepath.Join(dir, "broken.db")
	s, err := Open(ctx, broken)
	require.NoError(t, err)
	_, err = s.Record(ctx, run(t, time.Now(), "GO"))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	b, err := os.ReadFile(broken)
	require.NoError(t, err)
	for i := 100; i < len(b); i++ {
		b[i] = 0xA5
	}
	require.NoError(t, os.WriteFile(broken, b, 0o644))
	_ = os.Remove(broken + "-wal")
	_ = os.Remove(broken + "-shm")
	_, err = Open(ctx, broken)
	require.Error(t, err)
	assert.Contains(t, err.Error(), broken)
}

func TestOffAndDefaultPath(t *testing.T) {
	_, err := Open(context.Background(), Off)
	assert.ErrorIs(t, err, ErrOff)
	t.Setenv(EnvHistory, Off)
	_, err = Open(context.Background(), "")
	assert.ErrorIs(t, err, ErrOff)
	t.Setenv("XDG_DATA_HOME", "/data")
	p, err := DefaultPath()
	require.NoError(t, err)
	assert.Equal(t, "/data/firedrill/history.db", p)
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/ci")
	p, err = DefaultPath()
	require.NoError(t, err)
	assert.Equal(t, "/home/ci/.local/share/firedrill/history.db", p)
}
