package pg

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/firedrill/firedrill/topology/proc"
	"github.com/firedrill/firedrill/topology/toxi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func exec1(t *testing.T, addr, sql string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := Connect(ctx, addr)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

func count(t *testing.T, n *Node, sql string) int {
	t.Helper()
	var c int
	require.NoError(t, n.query(context.Background(), sql, &c))
	return c
}

// A primary with two replicas: writes through the client proxy reach both;
// after the primary dies, failover promotes one, the other follows it, the
// clients' proxy leads to it; Close leaves no process, directory or shared
// memory segment.
func TestClusterFailoverAndCleanup(t *testing.T) {
	t.Parallel()
	runID := "failover" + time.Now().Format("150405.000")
	c := startCluster(t, Config{Name: "db", Replicas: 2, RunID: runID})
	ctx := context.Background()
	addr, err := c.ClientProxy("app")
	require.NoError(t, err)
	require.NoError(t, exec1(t, addr, "CREATE TABLE t (v int); INSERT INTO t VALUES (1)"))

	s := c.Sample(ctx, time.Second)
	assert.Equal(t, []string{"db-0"}, s.Writable)
	require.Len(t, s.Replicas, 2)
	for _, r := range s.Replicas {
		assert.True(t, r.Streaming, "%s streams", r.Node)
		assert.Equal(t, "async", r.SyncState)
	}
	for _, r := range c.Replicas() {
		require.Eventually(t, func() bool {
			var n int
			return r.query(ctx, "SELECT count(*) FROM t", &n) == nil && n == 1
		}, 5*time.Second, 20*time.Millisecond, "the row reached %s", r.Name())
	}
	old := c.Primary()
	shmid, ok := segmentID(filepath.Join(old.DataDir(), "postmaster.pid"))
	require.True(t, ok, "the primary registered a shared memory segment")

	require.NoError(t, old.Kill(ctx))
	assert.False(t, c.PrimaryHealthy(ctx, 300*time.Millisecond))
	s = c.Sample(ctx, time.Second)
	assert.Empty(t, s.Writable)
	for _, r := range s.Replicas {
		assert.False(t, r.Streaming, "a replica without its primary is failing, not lagging by zero")
	}

	np, err := c.Failover(ctx)
	require.NoError(t, err)
	assert.Equal(t, np, c.Primary())
	assert.Equal(t, RoleFormer, old.Role())
	assert.Len(t, c.Replicas(), 1)
	require.NoError(t, exec1(t, addr, "INSERT INTO t VALUES (2)"), "the client proxy leads to the new primary")
	other := c.Replicas()[0]
	require.Eventually(t, func() bool {
		s := c.Sample(ctx, time.Second)
		return len(s.Replicas) == 1 && s.Replicas[0].Streaming
	}, 15*time.Second, 100*time.Millisecond, "the other replica follows the new primary's timeline: %s", tailLogs(filepath.Dir(other.LogPath())))
	require.Eventually(t, func() bool {
		var n int
		return other.query(ctx, "SELECT count(*) FROM t", &n) == nil && n == 2
	}, 5*time.Second, 20*time.Millisecond)

	dir := c.Dir()
	require.NotEmpty(t, Processes(dir))
	require.NoError(t, c.Close(ctx))
	assert.NoDirExists(t, dir)
	assert.Empty(t, runPIDs(runID))
	assert.Empty(t, Processes(dir), "no backend outlived its postmaster")
	_, err = unix.SysvShmCtl(shmid, unix.IPC_STAT, &unix.SysvShmDesc{})
	assert.Error(t, err, "the killed primary's segment %d was removed", shmid)
	require.NoError(t, c.Close(ctx), "Close is idempotent")
}

// With synchronous replication a commit waits for the replica: cut its
// replication and writes hang; restore it and they go through. A failover
// that leaves no replica drops synchronous replication, or every commit
// would hang.
func TestSyncReplication(t *testing.T) {
	t.Parallel()
	c := startCluster(t, Config{Name: "db", Replicas: 1, Sync: true})
	ctx := context.Background()
	addr, err := c.ClientProxy("app")
	require.NoError(t, err)
	require.NoError(t, exec1(t, addr, "CREATE TABLE t (v int)"))
	assert.True(t, c.Sync())
	s := c.Sample(ctx, time.Second)
	require.Len(t, s.Replicas, 1)
	assert.Equal(t, "sync", s.Replicas[0].SyncState)

	p, err := c.toxi.Proxy(c.Replicas()[0].ReplicationProxy())
	require.NoError(t, err)
	require.NoError(t, p.Disable())
	err = exec1(t, addr, "INSERT INTO t VALUES (1)")
	require.Error(t, err, "the commit waits for the cut-off replica")
	require.NoError(t, p.Enable())
	require.Eventually(t, func() bool { return exec1(t, addr, "INSERT INTO t VALUES (2)") == nil },
		15*time.Second, 100*time.Millisecond)

	require.NoError(t, c.Primary().Kill(ctx))
	_, err = c.Failover(ctx)
	require.NoError(t, err)
	assert.False(t, c.Sync())
	require.NoError(t, exec1(t, addr, "INSERT INTO t VALUES (3)"), "commits do not wait for a replica that is gone")
	assert.Equal(t, 1, count(t, c.Primary(), "SELECT count(*) FROM t WHERE v = 2"), "the acknowledged write survived")
}

// Pause stops the postmaster and every child (they are session leaders of
// their own, out of its process group); Resume thaws them all.
func TestPauseFreezesEveryProcess(t *testing.T) {
	t.Parallel()
	c := startCluster(t, Config{Name: "db", Replicas: 0})
	ctx := context.Background()
	n := c.Primary()
	kids := proc.Children(n.Pid())
	require.NotEmpty(t, kids, "checkpointer, walwriter, ...")
	require.NoError(t, n.Pause(ctx))
	for _, k := range kids {
		// A backend of an earlier connection may be exiting: gone is fine too.
		assert.Eventually(t, func() bool { return !proc.Alive(k) || proc.AllThreadsStopped(k) }, 2*time.Second, 5*time.Millisecond, "child %d stopped", k)
	}
	assert.False(t, c.PrimaryHealthy(ctx, 300*time.Millisecond))
	require.NoError(t, n.Resume(ctx))
	assert.Eventually(t, func() bool { return c.PrimaryHealthy(ctx, 500*time.Millisecond) }, 5*time.Second, 50*time.Millisecond)
}

// Kill and Start: a crash restart on the same data keeps committed rows.
func TestCrashRestart(t *testing.T) {
	t.Parallel()
	c := startCluster(t, Config{Name: "db", Replicas: 0})
	ctx := context.Background()
	n := c.Primary()
	require.NoError(t, n.Exec(ctx, "CREATE TABLE t (v int); INSERT INTO t VALUES (1)"))
	require.NoError(t, n.Kill(ctx))
	assert.False(t, n.Running())
	require.NoError(t, n.Start(ctx))
	assert.Equal(t, 1, count(t, n, "SELECT count(*) FROM t"))
	assert.Equal(t, RolePrimary, n.Role())
}

// SIGKILL the harness: the parent-death signal takes every server down
// (children notice their postmaster is gone), and CleanStale removes the
// directory the dead harness could not.
func TestHarnessDeathLeavesNoServer(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	require.NoError(t, err)
	runID := "death" + time.Now().Format("150405.000")
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+runID)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	var dir string
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
			dir = d
			break
		}
		require.NotContains(t, sc.Text(), "error:")
	}
	require.NotEmpty(t, dir, "the helper started its cluster")
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.Len(t, runPIDs(runID), 2, "two postmasters carry the run id")
	require.Greater(t, len(Processes(dir)), 6, "the postmasters and their children work in the cluster directory")

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	assert.Eventually(t, func() bool { return len(Processes(dir)) == 0 && len(runPIDs(runID)) == 0 }, 10*time.Second,
		50*time.Millisecond, "servers of the dead harness still alive: %v %v", Processes(dir), runPIDs(runID))
	assert.DirExists(t, dir)
	removed, err := CleanStale()
	require.NoError(t, err)
	assert.Contains(t, removed, dir)
	assert.NoDirExists(t, dir)
}

// A server that cannot start says why in the error itself: the end of its
// log comes with it, and nothing of the cluster is left.
func TestStartFailureCarriesTheLog(t *testing.T) {
	srv, err := toxi.Start(context.Background(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	cfg := Config{Name: "db", RunID: fmt.Sprintf("t%d", time.Now().UnixNano()), LogDir: t.TempDir(),
		Toxiproxy: toxiclient.NewClient(srv.URL()), Settings: map[string]string{"shared_buffers": "nonsense"}}
	c, err := Start(context.Background(), cfg)
	require.Error(t, err)
	assert.Nil(t, c)
	assert.Contains(t, err.Error(), "exited while starting")
	assert.Contains(t, err.Error(), `invalid value for parameter "shared_buffers"`, "the log's own words")
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+cfg.RunID+"-*"))
	assert.Empty(t, dirs, "the cluster's directory is removed")
}

func TestLogTail(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.log")
	require.NoError(t, os.WriteFile(p, []byte("a\nb\nc\nd\n"), 0o644))
	assert.Equal(t, "\n    c\n    d", LogTail(p, 2))
	assert.Equal(t, "\n    a\n    b\n    c\n    d", LogTail(p, 10))
	assert.Empty(t, LogTail(filepath.Join(t.TempDir(), "none.log"), 3))
	require.NoError(t, os.WriteFile(p, nil, 0o644))
	assert.Empty(t, LogTail(p, 3))
}
