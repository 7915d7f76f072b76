package history

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/topology/pg"
	"github.com/firedrill/firedrill/topology/toxi"
)

// backend makes fresh, empty stores of one kind: a new SQLite file, or a
// new database on one real PostgreSQL server started for the test.
type backend struct {
	name  string
	fresh func(t *testing.T) string // the --history value of an empty store
}

// backends are SQLite and, unless -short, a real PostgreSQL (from
// /usr/lib/postgresql/*/bin, as topology/pg runs it for rehearsals).
func backends(t *testing.T) []backend {
	out := []backend{{name: "sqlite", fresh: func(t *testing.T) string {
		return filepath.Join(t.TempDir(), "history.db")
	}}}
	if testing.Short() {
		t.Log("-short: PostgreSQL skipped")
		return out
	}
	addr := startPostgres(t)
	var n atomic.Int32
	out = append(out, backend{name: "postgres", fresh: func(t *testing.T) string {
		db := fmt.Sprintf("h%d", n.Add(1))
		conn, err := pg.Connect(context.Background(), addr)
		require.NoError(t, err)
		defer conn.Close(context.Background())
		_, err = conn.Exec(context.Background(), "CREATE DATABASE "+db)
		require.NoError(t, err)
		host, port, _ := splitAddr(addr)
		return fmt.Sprintf("postgres://%s@%s:%s/%s?sslmode=disable", pg.Superuser, host, port, db)
	}})
	return out
}

// startPostgres starts a one-node cluster, removed when the test ends.
func startPostgres(t *testing.T) string {
	t.Helper()
	if _, err := pg.FindBinDir(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required in CI: %v", err)
		}
		t.Skipf("no PostgreSQL: %v", err)
	}
	srv, err := toxi.Start(context.Background(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	c, err := pg.Start(context.Background(), pg.Config{Name: "hist", RunID: fmt.Sprintf("hist%d", time.Now().UnixNano()),
		Toxiproxy: toxiclient.NewClient(srv.URL()), LogDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c.Primary().Addr()
}

func splitAddr(a string) (string, string, bool) {
	for i := len(a) - 1; i >= 0; i-- {
		if a[i] == ':' {
			return a[:i], a[i+1:], true
		}
	}
	return a, "", false
}

func open(t *testing.T, spec string) *Store {
	t.Helper()
	s, err := Open(context.Background(), spec)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// quickstart is a real result of scenarios/examples/quickstart.yaml.
func quickstart(t *testing.T) *reports.Result {
	t.Helper()
	b, err := os.ReadFile("testdata/quickstart-result.json")
	require.NoError(t, err)
	var res reports.Result
	require.NoError(t, json.Unmarshal(b, &res))
	return &res
}

// run is a quickstart run started at `at` with the given verdict.
func run(t *testing.T, at time.Time, verdict string) Run {
	r := FromResult(quickstart(t), Provenance{FileHash: "abc", Commit: "c0ffee", Branch: "main"})
	r.StartedAt, r.EndedAt, r.Verdict = at, at.Add(30*time.Second), verdict
	return r
}
