package traffic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/topology/pg"
	"github.com/firedrill/firedrill/topology/toxi"
)

// ledgerDB starts a single PostgreSQL server and a client proxy to it.
func ledgerDB(t *testing.T) (*pg.Cluster, *toxiclient.Proxy, string) {
	t.Helper()
	srv, err := toxi.Start(context.Background(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	client := toxiclient.NewClient(srv.URL())
	c, err := pg.Start(context.Background(), pg.Config{Name: "db", Replicas: 0, RunID: fmt.Sprintf("ledger%d", time.Now().UnixNano()),
		Toxiproxy: client, LogDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	addr, err := c.ClientProxy("ledger")
	require.NoError(t, err)
	p, err := client.Proxy("ledger__db")
	require.NoError(t, err)
	cs := pg.ConnString(addr)
	require.NoError(t, PrepareLedger(context.Background(), cs, ""))
	return c, p, cs
}

func tally(ws []Write) map[WriteStatus]int {
	out := map[WriteStatus]int{}
	for _, w := range ws {
		out[w.Status]++
	}
	return out
}

func TestLedgerWritesAndReadsBack(t *testing.T) {
	_, _, cs := ledgerDB(t)
	start := time.Now()
	l, err := StartLedger(context.Background(), LedgerConfig{ConnString: cs, Rate: 100, Duration: time.Second}, start)
	require.NoError(t, err)
	ws := l.Wait()
	// Open loop: rate x duration writes, due at i/rate, whatever the answers.
	require.Len(t, ws, 100)
	for i, w := range ws {
		assert.Equal(t, int64(i+1), w.ID)
		assert.Equal(t, time.Duration(i)*10*time.Millisecond, w.At)
		assert.Equal(t, WriteAcked, w.Status, "write %d: %s", w.ID, w.Err)
		assert.Equal(t, "db-0", w.Instance)
		assert.Greater(t, w.Done, w.At)
	}
	found, err := ReadLedger(context.Background(), cs, "")
	require.NoError(t, err)
	require.Len(t, found, 100)
	for id := int64(1); id <= 100; id++ {
		assert.Equal(t, 1, found[id], "id %d", id)
	}
}

// A cut proxy refuses connections: nothing was sent, the writes failed. A
// frozen server holds the writes already sent: unknown; and those that
// wait for a connection fail. Once the server thaws, nothing acknowledged
// is missing, and the unknown writes it had received are there.
func TestLedgerClassifiesOutcomes(t *testing.T) {
	c, proxy, cs := ledgerDB(t)
	ctx := context.Background()
	start := time.Now()
	l, err := StartLedger(ctx, LedgerConfig{ConnString: cs, Rate: 50, Duration: 7 * time.Second, Timeout: 500 * time.Millisecond, Conns: 2}, start)
	require.NoError(t, err)

	time.Sleep(time.Until(start.Add(time.Second)))
	require.NoError(t, proxy.Disable())
	time.Sleep(time.Until(start.Add(2 * time.Second)))
	require.NoError(t, proxy.Enable())
	time.Sleep(time.Until(start.Add(3 * time.Second)))
	require.NoError(t, c.Primary().Pause(ctx))
	time.Sleep(time.Until(start.Add(4 * time.Second)))
	require.NoError(t, c.Primary().Resume(ctx))
	ws := l.Wait()

	n := tally(ws)
	require.Len(t, ws, 350)
	// Acknowledged writes before, between and after the faults (counts are
	// left loose: a loaded 2-core machine acks fewer than the rate).
	var before, between, after int
	for _, w := range ws {
		switch {
		case w.Status != WriteAcked:
		case w.At < 900*time.Millisecond:
			before++
		case w.At >= 2200*time.Millisecond && w.At < 2900*time.Millisecond:
			between++
		case w.At >= 4200*time.Millisecond:
			after++
		}
	}
	assert.Positive(t, before, "writes before the faults are acknowledged")
	assert.Positive(t, between, "writes between the faults are acknowledged")
	assert.Positive(t, after, "writes after the faults are acknowledged")
	assert.Greater(t, n[WriteFailed], 20, "refused by the cut proxy, or no connection free while frozen")
	assert.Greater(t, n[WriteUnknown], 0, "sent to the frozen server, never answered")
	for _, w := range ws {
		if w.Status == WriteFailed {
			assert.NotEmpty(t, w.Err)
		}
	}
	found, err := ReadLedger(ctx, cs, "")
	require.NoError(t, err)
	surfaced := 0
	for _, w := range ws {
		switch w.Status {
		case WriteAcked:
			assert.Equal(t, 1, found[w.ID], "acknowledged write %d is there once", w.ID)
		case WriteFailed:
			assert.Zero(t, found[w.ID], "failed write %d was never committed: %s", w.ID, w.Err)
		case WriteUnknown:
			surfaced += found[w.ID]
		}
	}
	assert.Positive(t, surfaced, "a frozen server commits what it received once it thaws")
}

func TestClassifyWrite(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want WriteStatus
	}{
		{&pgconn.PgError{Code: "25006"}, WriteFailed},  // read-only transaction: a replica refused it
		{&pgconn.PgError{Code: "23505"}, WriteFailed},  // a constraint
		{&pgconn.PgError{Code: "57P01"}, WriteUnknown}, // admin shutdown: may follow a local commit
		{&pgconn.PgError{Code: "08006"}, WriteUnknown},
		{&pgconn.PgError{Code: "XX000"}, WriteUnknown},
		{fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "40001"}), WriteFailed},
		{context.DeadlineExceeded, WriteUnknown},
		{io.ErrUnexpectedEOF, WriteUnknown},
		{&net.OpError{Op: "read", Err: errors.New("reset")}, WriteUnknown},
		{fmt.Errorf("read: %w", pgconn.ErrConnClosed), WriteUnknown}, // closed while waiting for the answer
	} {
		assert.Equal(t, tc.want, classifyWrite(tc.err), "%v", tc.err)
	}
}

func TestLedgerConfigErrors(t *testing.T) {
	for _, cfg := range []LedgerConfig{
		{Rate: 1, Duration: time.Second},
		{ConnString: "host=x", Duration: time.Second},
		{ConnString: "host=x", Rate: 1},
		{ConnString: "host=x", Rate: 1, Duration: time.Second, Table: "t; drop"},
	} {
		_, err := StartLedger(context.Background(), cfg, time.Now())
		assert.Error(t, err, "%+v", cfg)
	}
	_, err := ReadLedger(context.Background(), "host=x", "Bad-Name")
	assert.Error(t, err)
}

// A server that accepts connections and never answers: every write fails
// unsent, and Wait does not hang on the connection still being made.
func TestLedgerWaitEndsPendingDials(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	l, err := StartLedger(context.Background(), LedgerConfig{ConnString: "postgres://u@" + ln.Addr().String() + "/db?sslmode=disable",
		Rate: 20, Duration: 200 * time.Millisecond, Timeout: 100 * time.Millisecond, Conns: 1}, time.Now())
	require.NoError(t, err)
	waited := make(chan []Write, 1)
	go func() { waited <- l.Wait() }()
	select {
	case ws := <-waited:
		require.Len(t, ws, 4)
		for _, w := range ws {
			assert.Equal(t, WriteFailed, w.Status)
			assert.Contains(t, w.Err, "not sent")
		}
	case <-time.After(dialTimeout / 2):
		t.Fatal("Wait waited for a connection no write would use")
	}
}
