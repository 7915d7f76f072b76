package local

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/cluster"
	"github.com/firedrill/firedrill/topology/cluster/clustertest"
	"github.com/firedrill/firedrill/topology/proc"
)

// harnessEnv switches the test binary into a harness that brings a topology
// up, prints its pids and waits to be killed (TestHarnessKilledTakesChildrenDown).
const harnessEnv = "FIREDRILL_LOCAL_TEST_HARNESS"

// echosvcBin is the test service, built once by TestMain.
var echosvcBin string

func TestMain(m *testing.M) {
	if os.Getenv(harnessEnv) != "" {
		echosvcBin = os.Getenv("ECHOSVC")
		os.Exit(runHarness())
	}
	dir, err := os.MkdirTemp("", "firedrill-echosvc-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	echosvcBin = filepath.Join(dir, "echosvc")
	build := exec.Command("go", "build", "-o", echosvcBin, "./testdata/echosvc")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build echosvc:", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// runHarness brings up a -> b, prints "PIDS p1 p2 ..." and stays up until
// its stdin closes (or it is killed, which is the point).
func runHarness() int {
	sc := &scenarios.Scenario{Name: "harness", Services: []*scenarios.Service{
		echoService("a", "v1", 1, "b"),
		echoService("b", "v1", 2),
	}, Traffic: scenarios.Traffic{Entry: "a"}}
	rt := New()
	tp, err := rt.Up(context.Background(), sc, topology.Options{RunID: os.Getenv("RUN_ID"), RunDir: os.Getenv("HARNESS_DIR")})
	if err != nil {
		fmt.Println("ERROR", strings.ReplaceAll(err.Error(), "\n", " | "))
		return 1
	}
	var pids []string
	for _, svc := range []string{"a", "b"} {
		for _, in := range tp.Instances(svc, "") {
			pids = append(pids, strconv.Itoa(in.(*instance).Pid()))
		}
	}
	fmt.Println("PIDS", strings.Join(pids, " "))
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = rt.Down(context.Background())
	return 0
}

// echoService is a command service running echosvc, health-checked fast.
func echoService(name, version string, replicas int, deps ...string) *scenarios.Service {
	cmd := []string{echosvcBin, "--port", "{{.Port}}"}
	if len(deps) > 0 {
		cmd = append(cmd, "--dep", fmt.Sprintf("{{dep %q}}", deps[0]))
	}
	return &scenarios.Service{
		Name: name, Command: cmd, Version: version, Replicas: replicas, DependsOn: deps,
		Health: scenarios.Health{
			HTTP:           "/healthz",
			Interval:       scenarios.Duration(50 * time.Millisecond),
			Timeout:        scenarios.Duration(time.Second),
			UnhealthyAfter: 2,
			HealthyAfter:   1,
		},
		StartTimeout: scenarios.Duration(20 * time.Second),
	}
}

var runSeq atomic.Int64

func newRunID() string {
	return fmt.Sprintf("localtest-%d-%d-%d", os.Getpid(), time.Now().UnixNano(), runSeq.Add(1))
}

// upTopology brings sc up; Down and a check that no process of the run is
// left are registered as cleanup.
func upTopology(t *testing.T, sc *scenarios.Scenario) (*Runtime, *cluster.Cluster, *record.Log, string) {
	t.Helper()
	rt := New()
	events := record.NewLog(nil)
	runID := newRunID()
	opts := topology.Options{RunID: runID, RunDir: t.TempDir(), Events: events, Recorder: record.NewRecorder(time.Now())}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tp, err := rt.Up(ctx, sc, opts)
	t.Cleanup(func() {
		_ = rt.Down(context.Background())
		killRun(t, runID)
	})
	require.NoError(t, err)
	return rt, tp.(*cluster.Cluster), events, runID
}

// killRun fails the test if a process of the run is still alive, and kills it.
func killRun(t *testing.T, runID string) {
	t.Helper()
	for _, pid := range pidsOfRun(runID) {
		t.Errorf("process %d of run %s is still alive; killing it", pid, runID)
		_ = proc.SignalGroup(pid, 9)
	}
}

// pidsOfRun lists live processes whose environment carries the run id.
func pidsOfRun(runID string) []int {
	want := []byte("FIREDRILL_RUN_ID=" + runID + "\x00")
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(env, want) {
			continue
		}
		if !processGone(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// processGone reports whether pid no longer runs (absent or a zombie, which
// an init without reaping may leave behind).
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	return b[i+2] == 'Z' || b[i+2] == 'X'
}

// httpClient is a client whose idle connections are closed at test end.
func httpClient(t *testing.T) *http.Client {
	tr := &http.Transport{Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

type reply struct {
	status int
	body   string
	header http.Header
}

func get(t *testing.T, c *http.Client, url string) reply {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{resp.StatusCode, string(b), resp.Header}
}

// findEvent waits for an event of kind about target at or after from.
func findEvent(t *testing.T, events *record.Log, kind, target string, from time.Time) record.Event {
	t.Helper()
	return clustertest.FindEvent(t, events, kind, target, from, 20*time.Second)
}

func dialFails(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return true
	}
	_ = c.Close()
	return false
}

// readLine reads one line from r or gives up after d.
func readLine(r io.Reader, d time.Duration) (string, error) {
	ch := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		if err != nil {
			errc <- err
			return
		}
		ch <- line
	}()
	select {
	case l := <-ch:
		return strings.TrimSpace(l), nil
	case err := <-errc:
		return "", err
	case <-time.After(d):
		return "", fmt.Errorf("no line within %s", d)
	}
}
