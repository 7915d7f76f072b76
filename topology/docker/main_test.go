package docker

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/cluster"
	"github.com/firedrill/firedrill/topology/cluster/clustertest"
)

// testBinaryEnv names a static firedrill binary to use instead of building
// one (CI may build it once with `make build`).
const testBinaryEnv = "FIREDRILL_TEST_BINARY"

var (
	// dockerErr is why Docker tests cannot run (nil: they can).
	dockerErr error
	// staticBin is a static firedrill binary, built once by TestMain.
	staticBin string
	// fdImage is its image.
	fdImage string
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if dockerErr = Available(ctx); dockerErr == nil {
		staticBin = os.Getenv(testBinaryEnv)
		if staticBin == "" {
			wd, _ := os.Getwd()
			mod, err := FindModule(wd)
			if err == nil {
				staticBin, err = BuildBinary(ctx, mod)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "build a static firedrill binary:", err)
				return 1
			}
			defer os.RemoveAll(filepath.Dir(staticBin))
		}
		var err error
		if fdImage, err = EnsureImage(ctx, staticBin, nil); err != nil {
			fmt.Fprintln(os.Stderr, "build the firedrill image:", err)
			return 1
		}
	}
	return m.Run()
}

// requireDocker skips the test when no Docker daemon answers, except in CI
// (CI=true), where that is a failure.
func requireDocker(t testing.TB) {
	t.Helper()
	if dockerErr == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and %v", dockerErr)
	}
	t.Skipf("no Docker: %v", dockerErr)
}

var runSeq atomic.Int64

func newRunID() string {
	return fmt.Sprintf("dt%d%d", os.Getpid()%100000, runSeq.Add(1))
}

// fastHealth makes the router notice changes within a second.
var fastHealth = scenarios.Health{
	HTTP:           "/healthz",
	Interval:       scenarios.Duration(200 * time.Millisecond),
	Timeout:        scenarios.Duration(500 * time.Millisecond),
	UnhealthyAfter: 2,
	HealthyAfter:   1,
}

// twoTier is front -> back, one httpsvc instance each.
func twoTier(name string) *scenarios.Scenario {
	return &scenarios.Scenario{Name: name, Seed: 3, Services: []*scenarios.Service{
		{Name: "front", Fixture: "httpsvc", Replicas: 1, Version: "v1", DependsOn: []string{"back"},
			Env: map[string]string{"DEP_TIMEOUT": "1s"}, Health: fastHealth},
		{Name: "back", Fixture: "httpsvc", Replicas: 1, Version: "v1", Health: fastHealth},
	}, Traffic: scenarios.Traffic{Entry: "front"}}
}

// upTopology brings sc up on a docker runtime with the test image; Down and
// a check that nothing labelled with the run is left are registered as
// cleanup.
func upTopology(t *testing.T, sc *scenarios.Scenario) (*cluster.Cluster, *record.Log, *record.Recorder) {
	t.Helper()
	requireDocker(t)
	rt := NewWithConfig(Config{Image: fdImage})
	events := record.NewLog(nil)
	rec := record.NewRecorder(time.Now())
	runID := newRunID()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	tp, err := rt.Up(ctx, sc, topology.Options{RunID: runID, RunDir: t.TempDir(), Events: events, Recorder: rec})
	t.Cleanup(func() {
		require.NoError(t, rt.Down(context.Background()))
		requireNothingLeft(t, LabelRun+"="+runID)
	})
	require.NoError(t, err)
	return tp.(*cluster.Cluster), events, rec
}

// labelled lists containers and networks carrying label (key=value).
func labelled(t testing.TB, label string) (containers, networks []string) {
	t.Helper()
	c, err := Client(context.Background())
	require.NoError(t, err)
	defer c.Close()
	f := client.Filters{}.Add("label", label)
	cts, err := c.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: f})
	require.NoError(t, err)
	for _, ct := range cts.Items {
		containers = append(containers, ct.Names...)
	}
	nets, err := c.NetworkList(context.Background(), client.NetworkListOptions{Filters: f})
	require.NoError(t, err)
	for _, n := range nets.Items {
		networks = append(networks, n.Name)
	}
	return containers, networks
}

// requireNothingLeft fails (and cleans up) when anything carries label.
func requireNothingLeft(t testing.TB, label string) {
	t.Helper()
	cts, nets := labelled(t, label)
	if len(cts)+len(nets) == 0 {
		return
	}
	t.Errorf("left behind with %s: containers %v, networks %v", label, cts, nets)
	removeLabelled(t, label)
}

// removeLabelled removes every container, then every network, carrying label.
func removeLabelled(t testing.TB, label string) {
	t.Helper()
	ctx := context.Background()
	c, err := Client(ctx)
	require.NoError(t, err)
	defer c.Close()
	f := client.Filters{}.Add("label", label)
	cts, _ := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	for _, ct := range cts.Items {
		_ = RemoveContainer(ctx, c, ct.ID)
	}
	nets, _ := c.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	for _, n := range nets.Items {
		_, _ = c.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{})
	}
}

// httpClient is a client whose idle connections are closed at test end.
func httpClient(t *testing.T, timeout time.Duration) *http.Client {
	tr := &http.Transport{Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: timeout}
}

// status GETs url and returns the status (0 for a transport error).
func status(c *http.Client, url string) int {
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// findEvent waits for an event of kind about target at or after from.
func findEvent(t *testing.T, events *record.Log, kind, target string, from time.Time) record.Event {
	t.Helper()
	return clustertest.FindEvent(t, events, kind, target, from, 30*time.Second)
}

// runOf is the docker run behind a topology under test.
func runOf(tp *cluster.Cluster) *run { return tp.Launcher().(*run) }

// instancesOf returns a service's instances as the docker runtime's own.
func instancesOf(tp *cluster.Cluster, service string) []*instance {
	var out []*instance
	for _, in := range tp.Instances(service, "") {
		out = append(out, in.(*instance))
	}
	return out
}
