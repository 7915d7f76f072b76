package pg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// Connect opens a connection to addr (host:port) as the superuser. A
// context that ends closes the socket rather than sending a cancel request:
// a cancel during a synchronous-replication wait would turn into a local
// commit reported as success, which is not what a timeout means here.
func Connect(ctx context.Context, addr string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(ConnString(addr))
	if err != nil {
		return nil, fmt.Errorf("parse connection string for %s: %w", addr, err)
	}
	DeadlineOnCancel(cfg)
	return pgx.ConnectConfig(ctx, cfg)
}

// DeadlineOnCancel makes a connection cut its socket when a query's context
// ends, instead of asking the server to cancel the query.
func DeadlineOnCancel(cfg *pgx.ConnConfig) {
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
}

// query runs one statement on a fresh connection to the node (direct, not
// through a proxy) and scans its single row into dest.
func (n *Node) query(ctx context.Context, sql string, dest ...any) error {
	conn, err := Connect(ctx, n.Addr())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if len(dest) == 0 {
		_, err = conn.Exec(ctx, sql)
		return err
	}
	return conn.QueryRow(ctx, sql).Scan(dest...)
}

// Exec runs statements on the node directly.
func (n *Node) Exec(ctx context.Context, sql string) error { return n.query(ctx, sql) }

// InRecovery asks the server whether it is a replica (in recovery); a
// server that answers false accepts writes.
func (n *Node) InRecovery(ctx context.Context) (bool, error) {
	var rec bool
	err := n.query(ctx, "SELECT pg_is_in_recovery()", &rec)
	return rec, err
}
