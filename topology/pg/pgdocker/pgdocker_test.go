package pgdocker

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/moby/moby/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/topology/docker"
	"github.com/firedrill/firedrill/topology/pg"
	"github.com/firedrill/firedrill/topology/toxi"
)

func TestMain(m *testing.M) {
	_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	os.Exit(m.Run())
}

// needDocker skips without a daemon (fails with CI=true) and without the
// PostgreSQL programs the image is assembled from.
func needDocker(t *testing.T) {
	t.Helper()
	if err := docker.Available(context.Background()); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v", err)
		}
		t.Skipf("no Docker: %v", err)
	}
	if _, err := pg.FindBinDir(); err != nil {
		t.Skipf("no PostgreSQL to build the image from: %v", err)
	}
}

// leftovers lists the containers and networks labelled with the run.
func leftovers(t *testing.T, runID string) string {
	t.Helper()
	var out []string
	for _, what := range [][]string{{"ps", "-aq"}, {"network", "ls", "-q"}} {
		args := append(what, "--filter", "label="+docker.LabelRun+"="+runID)
		b, err := exec.Command("docker", args...).CombinedOutput()
		require.NoError(t, err, string(b))
		if s := strings.TrimSpace(string(b)); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// startCluster starts a Toxiproxy server, a docker host and a cluster on it;
// all of it is removed at the end of the test, also when it fails, and
// nothing labelled with the run may be left then.
func startCluster(t *testing.T, cfg pg.Config) (*pg.Cluster, *Host) {
	t.Helper()
	ctx := context.Background()
	runID := fmt.Sprintf("pgd%d", time.Now().UnixNano()%1e9)
	t.Cleanup(func() {
		assert.Empty(t, leftovers(t, runID), "containers or networks of run %s left behind", runID)
	})
	srv, err := toxi.Start(ctx, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	h, err := New(ctx, Options{RunID: runID, Scenario: "pgdocker-test"})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, h.Close(context.Background())) })
	cfg.RunID, cfg.Host, cfg.Toxiproxy = runID, h, toxiclient.NewClient(srv.URL())
	cfg.LogDir = t.TempDir()
	start := time.Now()
	c, err := pg.Start(ctx, cfg)
	require.NoError(t, err, "logs: %s", tailLogs(cfg.LogDir))
	t.Logf("cluster of %d servers up on docker in %s", cfg.Replicas+1, time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() { assert.NoError(t, c.Close(context.Background())) })
	return c, h
}

func tailLogs(dir string) string {
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	var b strings.Builder
	for _, f := range files {
		fmt.Fprintf(&b, "\n== %s%s", f, pg.LogTail(f, 15))
	}
	return b.String()
}

func exec1(ctx context.Context, addr, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pg.Connect(ctx, addr)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

func count(ctx context.Context, addr, sql string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pg.Connect(ctx, addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(ctx, sql).Scan(&n)
	return n, err
}

// A primary and one synchronous replica, each in its own container: the
// replica streams through a proxy on the network's gateway, a write through
// the client proxy is on the replica once acknowledged; the primary's
// container is SIGKILLed, failover promotes the replica, clients write to
// it; the killed container starts again on its own data (crash recovery).
// Close leaves no container or network of the run.
func TestSyncFailoverOnDocker(t *testing.T) {
	needDocker(t)
	c, h := startCluster(t, pg.Config{Name: "db", Replicas: 1, Sync: true})
	ctx := context.Background()

	old := c.Primary()
	replica := c.Replicas()[0]
	assert.Empty(t, old.DataDir(), "the data lives in the container")
	assert.True(t, strings.HasPrefix(old.Addr(), "127.0.0.1:"), "published on loopback: %s", old.Addr())
	s := c.Sample(ctx, 2*time.Second)
	assert.Equal(t, []string{"db-0"}, s.Writable)
	require.Len(t, s.Replicas, 1)
	assert.True(t, s.Replicas[0].Streaming)
	assert.Equal(t, "sync", s.Replicas[0].SyncState)

	addr, err := c.ClientProxy("app")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(addr, h.ProxyIP()+":"), "the client proxy listens on the gateway %s: %s", h.ProxyIP(), addr)
	require.NoError(t, exec1(ctx, addr, "CREATE TABLE t (v int); INSERT INTO t VALUES (1)"))
	// Synchronous: acknowledged means on the replica already (remote_flush;
	// visible once replayed, a moment later).
	require.Eventually(t, func() bool {
		n, err := count(ctx, replica.Addr(), "SELECT count(*) FROM t")
		return err == nil && n == 1
	}, 5*time.Second, 50*time.Millisecond)

	killed := time.Now()
	require.NoError(t, old.Kill(ctx))
	t.Logf("docker kill of the primary took %s", time.Since(killed).Round(time.Millisecond))
	assert.False(t, old.Running())
	assert.False(t, c.PrimaryHealthy(ctx, 500*time.Millisecond))

	np, err := c.Failover(ctx)
	require.NoError(t, err)
	assert.Equal(t, replica, np)
	assert.Equal(t, pg.RoleFormer, old.Role())
	assert.False(t, c.Sync(), "no replica left to confirm commits")
	require.NoError(t, exec1(ctx, addr, "INSERT INTO t VALUES (2)"), "the client proxy leads to the new primary")
	n, err := count(ctx, addr, "SELECT count(*) FROM t")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the acknowledged row survived the primary")
	t.Logf("failover done %s after the kill", time.Since(killed).Round(time.Millisecond))

	// The killed container comes back on its own data: a second primary
	// (split brain), which the sample shows.
	require.NoError(t, old.Start(ctx))
	n, err = count(ctx, old.Addr(), "SELECT count(*) FROM t")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "crash recovery kept the committed row")
	assert.Equal(t, []string{"db-0", "db-1"}, c.Sample(ctx, 2*time.Second).Writable)

	// Pause freezes the container; Stop shuts it down cleanly.
	require.NoError(t, old.Pause(ctx))
	assert.Equal(t, []string{"db-1"}, c.Sample(ctx, time.Second).Writable, "a paused server is not sampled")
	qctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	_, err = old.InRecovery(qctx)
	cancel()
	assert.Error(t, err, "a paused server answers nothing")
	require.NoError(t, c.Fence(ctx, old), "a paused server is killed without thawing")
	assert.False(t, old.Running())
	require.NoError(t, old.Start(ctx))
	require.NoError(t, old.Pause(ctx))
	require.NoError(t, old.Stop(ctx), "a paused server is thawed and shut down")
	assert.False(t, old.Running())

	// The containers' output went to the nodes' logs.
	b, err := os.ReadFile(old.LogPath())
	require.NoError(t, err)
	assert.Contains(t, string(b), "database system is ready to accept connections")
	assert.Contains(t, string(b), "database system was interrupted", "the restart was a crash recovery")
	assert.Contains(t, string(b), "received fast shutdown request", "Stop is a fast shutdown (SIGINT)")
}

// The image is built once and then found by its tag.
func TestImageIsCached(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	start := time.Now()
	tag, err := EnsureImage(ctx, func(s string) { t.Log(s) })
	require.NoError(t, err)
	t.Logf("first EnsureImage in this process: %s", time.Since(start).Round(time.Millisecond))
	assert.True(t, strings.HasPrefix(tag, ImageRepo+":"), tag)
	start = time.Now()
	again, err := EnsureImage(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, tag, again)
	t.Logf("second: %s", time.Since(start).Round(time.Millisecond))
	out, err := exec.Command("docker", "image", "inspect", "-f", "{{.Config.User}} {{index .Config.Labels \"firedrill.image\"}}", tag).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, "postgres postgres", strings.TrimSpace(string(out)))
}

// A server that cannot start (a setting PostgreSQL refuses) fails Start
// with its log in the error's reach, and Close leaves nothing behind.
func TestFailedStartLeavesNothing(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	runID := fmt.Sprintf("pgdf%d", time.Now().UnixNano()%1e9)
	t.Cleanup(func() { assert.Empty(t, leftovers(t, runID)) })
	srv, err := toxi.Start(ctx, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	h, err := New(ctx, Options{RunID: runID})
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	logs := t.TempDir()
	_, err = pg.Start(ctx, pg.Config{Name: "db", Replicas: 1, RunID: runID, Host: h, LogDir: logs,
		Toxiproxy: toxiclient.NewClient(srv.URL()), Settings: map[string]string{"shared_buffers": "lots"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited while starting")
	b, rerr := os.ReadFile(filepath.Join(logs, "postgres-db-0.log"))
	require.NoError(t, rerr)
	assert.Contains(t, string(b), `invalid value for parameter "shared_buffers"`, "the container's output is in the node's log")
	assert.NotEmpty(t, leftovers(t, runID), "the network stays until the host closes")
	require.NoError(t, h.Close(ctx))
	assert.Empty(t, leftovers(t, runID))
}

// A harness SIGKILLed while its databases started left a network labelled
// with its (now dead) pid: the next host sweeps it before it starts.
func TestNewSweepsWhatADeadHarnessLeft(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	dead := fmt.Sprintf("pgdead%d", time.Now().UnixNano()%1e9)
	t.Cleanup(func() { assert.Empty(t, leftovers(t, dead)) })
	labels := docker.RunLabels(dead, "sweep", RoleDatabase)
	labels[docker.LabelPID] = strconv.Itoa(1 << 22) // above pid_max: no such process
	c, err := docker.Client(ctx)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.NetworkCreate(ctx, "firedrill-"+dead+"-pg", client.NetworkCreateOptions{Driver: "bridge", Labels: labels})
	require.NoError(t, err)
	require.NotEmpty(t, leftovers(t, dead))

	live := fmt.Sprintf("pglive%d", time.Now().UnixNano()%1e9)
	h, err := New(ctx, Options{RunID: live})
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	assert.Empty(t, leftovers(t, dead), "swept before the new run's databases start")
	require.NoError(t, h.Close(ctx))
	assert.Empty(t, leftovers(t, live))
}
