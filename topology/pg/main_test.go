package pg

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/topology/toxi"
)

// helperEnv makes the test binary a harness that starts a cluster, prints
// its run id and directory, and waits to be killed (TestHarnessDeath...).
const helperEnv = "FIREDRILL_PG_TEST_HELPER"

func TestMain(m *testing.M) {
	if runID := os.Getenv(helperEnv); runID != "" {
		os.Exit(helper(runID))
	}
	if id := os.Getenv(attachEnv); id != "" {
		os.Exit(attach(id))
	}
	os.Exit(m.Run())
}

func helper(runID string) int {
	ctx := context.Background()
	srv, err := toxi.Start(ctx, nil)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	c, err := Start(ctx, Config{Name: "db", Replicas: 1, RunID: runID, Toxiproxy: toxiclient.NewClient(srv.URL())})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Printf("ready %s\n", c.Dir())
	time.Sleep(time.Minute) // killed long before
	return 0
}

// startCluster starts a cluster for a test and removes it (and its
// Toxiproxy server) at the end, also on failure.
func startCluster(t *testing.T, cfg Config) *Cluster {
	t.Helper()
	srv, err := toxi.Start(context.Background(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	if cfg.RunID == "" {
		cfg.RunID = fmt.Sprintf("t%d", time.Now().UnixNano())
	}
	cfg.Toxiproxy = toxiclient.NewClient(srv.URL())
	cfg.LogDir = t.TempDir()
	c, err := Start(context.Background(), cfg)
	require.NoError(t, err, "logs: %s", tailLogs(cfg.LogDir))
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func tailLogs(dir string) string {
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	var b strings.Builder
	for _, f := range files {
		fmt.Fprintf(&b, "\n== %s%s", f, LogTail(f, 15))
	}
	return b.String()
}

// runPIDs lists live processes carrying FIREDRILL_RUN_ID=runID.
func runPIDs(runID string) []string {
	var out []string
	files, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil && strings.Contains(string(b), "FIREDRILL_RUN_ID="+runID+"\x00") {
			out = append(out, filepath.Base(filepath.Dir(f)))
		}
	}
	return out
}
