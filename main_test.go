package firedrill_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/firedrill/firedrill/fixtures/httpsvc"
)

// The test binary doubles as the fixture binary: the local runtime starts
// `<os.Executable()> fixture httpsvc ...`, which lands here before the
// testing package parses any flag.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "fixture" && os.Args[2] == "httpsvc" {
		ctx, stop := signalContext()
		defer stop()
		if err := httpsvc.Main(ctx, os.Args[3:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if len(os.Args) > 1 && os.Args[1] == echoFloorArg {
		serveEchoFloor() // bench_floor_test.go
		os.Exit(0)
	}
	// CLI runs of the tests record nothing in the user's run history.
	os.Setenv("FIREDRILL_HISTORY", "off") //nolint:errcheck
	code := m.Run()
	if cliBinary != "" {
		os.RemoveAll(filepath.Dir(cliBinary))
	}
	os.Exit(code)
}

// cliBinary is built once by buildCLI and removed by TestMain.
var cliBinary string

// buildCLI builds the real firedrill binary once, for CLI tests.
func buildCLI(t *testing.T) string {
	t.Helper()
	if cliBinary != "" {
		return cliBinary
	}
	dir, err := os.MkdirTemp("", "firedrill-cli-")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "firedrill")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/firedrill")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		t.Fatalf("build firedrill: %v\n%s", err, out)
	}
	cliBinary = bin
	return bin
}

// instancePIDs lists live processes started for run id.
func instancePIDs(runID string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		if strings.Contains(string(b), "FIREDRILL_RUN_ID="+runID+"\x00") {
			var pid int
			fmt.Sscanf(filepath.Base(filepath.Dir(d)), "%d", &pid)
			pids = append(pids, pid)
		}
	}
	return pids
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
