package pg

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A backup taken while rows are written holds every row committed before
// its end point; it verifies against its manifest, restores into a server
// of its own, and a tampered copy fails verification.
func TestBackupUnderLoadVerifyRestore(t *testing.T) {
	t.Parallel()
	c := startCluster(t, Config{Name: "db", Replicas: 0})
	ctx := context.Background()
	addr, err := c.ClientProxy("app")
	require.NoError(t, err)
	require.NoError(t, exec1(t, addr, "CREATE TABLE t (v int)"))

	type commit struct {
		v  int
		at time.Time
	}
	var mu sync.Mutex
	var acked []commit
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		conn, err := Connect(wctx, addr)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		for v := 1; wctx.Err() == nil; v++ {
			if _, err := conn.Exec(wctx, "INSERT INTO t VALUES ($1)", v); err == nil {
				mu.Lock()
				acked = append(acked, commit{v, time.Now()})
				mu.Unlock()
			}
			time.Sleep(2 * time.Millisecond)
		}
	})
	time.Sleep(700 * time.Millisecond)
	b, err := c.Backup(ctx, "b1")
	time.Sleep(100 * time.Millisecond)
	stop()
	wg.Wait()
	require.NoError(t, err)
	assert.NotEmpty(t, b.EndLSN)
	assert.True(t, b.StartedAt.Before(b.EndPointAt) && !b.EndPointAt.After(b.EndedAt))
	require.NoError(t, c.VerifyBackup(ctx, b))

	n, err := c.Restore(ctx, b)
	require.NoError(t, err)
	assert.Equal(t, RoleRestored, n.Role())
	assert.Equal(t, []string{"db-0"}, c.Sample(ctx, time.Second).Writable, "a restored server is no second primary")
	// EndPointAt is when pg_basebackup told us the end point; the server
	// fixed it a little earlier, so the last commits before EndPointAt may
	// be after it. 500ms of slack is far more than that hand-over takes.
	endPoint := b.EndPointAt.Add(-500 * time.Millisecond)
	var before, after int
	mu.Lock()
	for _, x := range acked {
		switch {
		case x.at.Before(endPoint):
			before++
		case x.at.After(b.EndedAt):
			after++
		}
	}
	mu.Unlock()
	require.Positive(t, before)
	require.Positive(t, after, "rows were still being written after the backup")
	// One writer, in order: the rows committed before the end point are 1..before.
	var k int
	require.NoError(t, n.query(ctx, "SELECT count(DISTINCT v) FROM t WHERE v <= "+strconv.Itoa(before), &k))
	assert.Equal(t, before, k, "every row committed before the end point is in the backup")
	dir := b.Dir
	require.NoError(t, c.Discard(ctx, n))
	assert.NoDirExists(t, dir)
	assert.Empty(t, Processes(dir))

	b2, err := c.Backup(ctx, "b2")
	require.NoError(t, err)
	f := filepath.Join(b2.Dir, "PG_VERSION")
	require.NoError(t, os.WriteFile(f, []byte("99\n"), 0o600))
	assert.Error(t, c.VerifyBackup(ctx, b2), "a changed file does not match the manifest")
}
