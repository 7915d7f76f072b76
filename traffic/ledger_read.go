package traffic

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PrepareLedger creates the ledger's table. It has no unique key on id on
// purpose: a write that lands twice must show as a duplicate, not be
// refused.
func PrepareLedger(ctx context.Context, connString, table string) error {
	if table == "" {
		table = DefaultLedgerTable
	}
	if !tableName.MatchString(table) {
		return fmt.Errorf("ledger: table %q: use lower-case letters, digits and '_'", table)
	}
	conn, err := connectLedger(ctx, connString)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+table+
		" (id bigint NOT NULL, written_at timestamptz NOT NULL DEFAULT clock_timestamp(), node text)")
	if err != nil {
		return fmt.Errorf("ledger: create table %s: %w", table, err)
	}
	return nil
}

// ReadLedger reads every ledger id present and how many times it appears.
// It retries until ctx ends, since it runs right after a recovery that may
// still be settling; the last error is returned with the context's.
func ReadLedger(ctx context.Context, connString, table string) (map[int64]int, error) {
	if table == "" {
		table = DefaultLedgerTable
	}
	if !tableName.MatchString(table) {
		return nil, fmt.Errorf("ledger: table %q: use lower-case letters, digits and '_'", table)
	}
	var last error
	for {
		found, err := readOnce(ctx, connString, table)
		if err == nil {
			return found, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("ledger: final read of %s: %w (gave up: %v)", table, last, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func readOnce(ctx context.Context, connString, table string) (map[int64]int, error) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := connectLedger(qctx, connString)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(qctx, "SELECT id, count(*) FROM "+table+" GROUP BY id")
	if err != nil {
		return nil, err
	}
	found := map[int64]int{}
	var id, n int64
	_, err = pgx.ForEachRow(rows, []any{&id, &n}, func() error {
		found[id] = int(n)
		return nil
	})
	return found, err
}

func connectLedger(ctx context.Context, connString string) (*pgx.Conn, error) {
	cc, err := ledgerConnConfig(connString)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("ledger: connect: %w", err)
	}
	return conn, nil
}
