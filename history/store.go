// Package history is the run store: every rehearsal's result, recorded in
// an embedded SQLite file (modernc.org/sqlite, no cgo) or a team's
// PostgreSQL; trends and flakiness over it; the release policy and its
// gate; and a hash chain over runs and decisions that tells when a stored
// row was edited. A run never depends on it: callers record after the
// result files are written and only warn when the store fails.
package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

// Off is the --history value that turns the store off.
const Off = "off"

// ErrOff is returned by Open for --history off.
var ErrOff = errors.New("the run history is off (--history off)")

// Store is an open run store.
type Store struct {
	db      *sql.DB
	d       dialect
	where   string // the file or the redacted URL, for messages
	dataDir string
}

// DefaultPath is $XDG_DATA_HOME/firedrill/history.db, else
// ~/.local/share/firedrill/history.db.
func DefaultPath() (string, error) {
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the history file: no $XDG_DATA_HOME and no home directory (%w); pass --history PATH", err)
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "firedrill", "history.db"), nil
}

// EnvHistory names the store when --history is not given.
const EnvHistory = "FIREDRILL_HISTORY"

// Open opens the store that spec names: "" ($FIREDRILL_HISTORY, else the
// default file), "off", a file path, or a postgres:// (postgresql://) URL.
// It creates the file and its directory when missing and brings the
// schema up to date.
func Open(ctx context.Context, spec string) (*Store, error) {
	if spec == "" {
		spec = os.Getenv(EnvHistory)
	}
	if spec == Off {
		return nil, ErrOff
	}
	if strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://") {
		return openPostgres(ctx, spec)
	}
	if spec == "" {
		p, err := DefaultPath()
		if err != nil {
			return nil, err
		}
		spec = p
	}
	return openSQLite(ctx, spec)
}

func openSQLite(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create the directory of the history file %s: %w", path, err)
	}
	if err := checkSQLiteFile(path); err != nil {
		return nil, err
	}
	// IMMEDIATE transactions take the write lock at BEGIN, so two writers
	// queue on the busy timeout instead of failing on lock upgrade; WAL
	// lets readers run beside a writer.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_txlock=immediate&_pragma=busy_timeout(15000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open history file %s: %w", path, err)
	}
	s := &Store{db: db, d: sqliteDialect, where: path}
	if err := initSQLite(ctx, s); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// initSQLite connects and migrates, again while another process holds the
// file: switching a new file to WAL (and a lock upgrade from a read) gets
// SQLITE_BUSY at once, without the busy timeout, when two harnesses open
// it at the same moment.
func initSQLite(ctx context.Context, s *Store) error {
	deadline := time.Now().Add(15 * time.Second)
	wait := 5 * time.Millisecond
	for {
		err := s.init(ctx)
		if err == nil || !sqliteBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait + time.Duration(rand.Int64N(int64(wait)))):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// sqliteBusy: the database (or a table) was locked by another connection.
func sqliteBusy(err error) bool {
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		c := coded.Code() & 0xff
		return c == 5 || c == 6 // SQLITE_BUSY, SQLITE_LOCKED
	}
	return false
}

// sqliteMagic begins every SQLite 3 database file.
const sqliteMagic = "SQLite format 3\x00"

// checkSQLiteFile refuses a file that is not an SQLite database before the
// driver sees it (the driver's own message does not name the file).
func checkSQLiteFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open history file %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	n, _ := f.Read(head)
	if n == 0 {
		return nil // empty: SQLite makes a database of it
	}
	if string(head[:n]) != sqliteMagic {
		return fmt.Errorf("history file %s is not an SQLite database (it begins %q); pass another --history PATH or move it away", path, head[:n])
	}
	return nil
}

func openPostgres(ctx context.Context, u string) (*Store, error) {
	where := redact(u)
	db, err := sql.Open("pgx", u)
	if err != nil {
		return nil, fmt.Errorf("open history database %s: %w", where, err)
	}
	db.SetMaxOpenConns(4)
	s := &Store{db: db, d: postgresDialect, where: where}
	if err := s.init(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// redact hides the password of a database URL.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "postgres://…"
	}
	return p.Redacted()
}

func (s *Store) init(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("connect to the history store %s: %w", s.where, err)
	}
	if err := s.migrate(ctx, len(migrations)); err != nil {
		return fmt.Errorf("history store %s: %w", s.where, err)
	}
	return nil
}

// Where names the store (a file, or a URL without its password).
func (s *Store) Where() string { return s.where }

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// tx runs fn in a transaction that also holds the store's append lock:
// SQLite's IMMEDIATE transaction is the lock there; PostgreSQL takes a
// transaction-scoped advisory lock, so that the hash chain stays a chain
// when two harnesses append at once.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin a transaction on %s: %w", s.where, err)
	}
	if s.d.lock != "" {
		if _, err := tx.ExecContext(ctx, s.d.lock); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("lock the history store %s: %w", s.where, err)
		}
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit to %s: %w", s.where, err)
	}
	return nil
}
