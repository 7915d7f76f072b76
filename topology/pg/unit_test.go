package pg

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestCleanStaleKeepsLiveDirectories(t *testing.T) {
	tmp := t.TempDir()
	mk := func(name, mark string) string {
		d := filepath.Join(tmp, dirPrefix+name)
		require.NoError(t, os.MkdirAll(filepath.Join(d, "db-0"), 0o755))
		if mark != "" {
			require.NoError(t, os.WriteFile(filepath.Join(d, ownerFile), []byte(mark), 0o644))
		}
		return d
	}
	// A process that has exited: its pid and start time no longer match.
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	live := mk("live", ownerMark(os.Getpid()))
	gone := mk("gone", ownerMark(dead.Process.Pid))
	reused := mk("reused", "1 0\n") // pid 1 lives, but did not start at tick 0
	unmarked := mk("unmarked", "")
	other := filepath.Join(tmp, "not-ours")
	require.NoError(t, os.Mkdir(other, 0o755))

	removed, err := cleanStaleIn(tmp)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{gone, reused}, removed)
	assert.DirExists(t, live)
	assert.DirExists(t, unmarked, "a directory being created right now has no mark yet")
	assert.DirExists(t, other)
	assert.NoDirExists(t, gone)
}

func TestSegmentID(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "postmaster.pid")
	// The layout of postmaster.pid (PostgreSQL's miscinit.c): pid, data
	// directory, start time, port, socket directory, listen address,
	// "shmem key  shmem id", status.
	require.NoError(t, os.WriteFile(pf, []byte("4242\n/data\n1700000000\n5432\n\n127.0.0.1\n  5432001     98310\nready   \n"), 0o600))
	id, ok := segmentID(pf)
	assert.True(t, ok)
	assert.Equal(t, 98310, id)
	require.NoError(t, os.WriteFile(pf, []byte("4242\n/data\n"), 0o600))
	_, ok = segmentID(pf)
	assert.False(t, ok)
}

func TestQuoteSetting(t *testing.T) {
	for in, want := range map[string]string{
		"100":       "100",
		"0.5":       "0.5",
		"64MB":      "'64MB'",
		"'on'":      "'on'",
		"it's":      "'it''s'",
		"/tmp/x y":  "'/tmp/x y'",
		"remote_ap": "'remote_ap'",
	} {
		assert.Equal(t, want, quoteSetting(in), in)
	}
}

func TestConnString(t *testing.T) {
	assert.Equal(t, "host=127.0.0.1 port=5432 user=postgres dbname=postgres sslmode=disable connect_timeout=2",
		ConnString("127.0.0.1:5432"))
}

// attachEnv makes the test binary a process that attaches to a System V
// segment (as a PostgreSQL backend does) and waits to be killed.
const attachEnv = "FIREDRILL_PG_TEST_ATTACH"

func attach(id string) int {
	n, err := strconv.Atoi(id)
	if err == nil {
		_, err = unix.SysvShmAttach(n, 0, 0)
	}
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("attached")
	time.Sleep(time.Minute) // killed long before
	return 0
}

// A backend that outlives its postmaster (forked as the postmaster died)
// keeps the server's segment attached: removing segments alone leaves it
// for good; reapDir kills what works in the cluster directory first.
func TestReapDirRemovesASegmentAStragglerHolds(t *testing.T) {
	dir := t.TempDir()
	node := filepath.Join(dir, "db-0")
	require.NoError(t, os.Mkdir(node, 0o700))
	id, err := unix.SysvShmGet(unix.IPC_PRIVATE, 4096, unix.IPC_CREAT|0o600)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = unix.SysvShmCtl(id, unix.IPC_RMID, nil) })
	require.NoError(t, os.WriteFile(filepath.Join(node, "postmaster.pid"),
		[]byte(fmt.Sprintf("4242\n%s\n1700000000\n5432\n\n127.0.0.1\n  5432001 %d\nready   \n", node, id)), 0o600))

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), attachEnv+"="+strconv.Itoa(id))
	cmd.Dir = node
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "attached\n", line)

	removeSegments(dir)
	var ds unix.SysvShmDesc
	_, err = unix.SysvShmCtl(id, unix.IPC_STAT, &ds)
	require.NoError(t, err, "an attached segment is left alone")
	require.EqualValues(t, 1, ds.Nattch)

	reapDir(dir)
	_, err = unix.SysvShmCtl(id, unix.IPC_STAT, &ds)
	assert.Error(t, err, "the straggler was killed and its segment removed")
}
