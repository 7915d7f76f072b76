package docker_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology/docker"
)

func examplePath(t *testing.T, name string) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	mod, err := docker.FindModule(wd)
	require.NoError(t, err)
	return filepath.Join(mod, "scenarios", "examples", name)
}

// The quickstart scenario, unchanged, on the docker runtime: the canary is
// rolled back, the verdict is GO, and nothing labelled with the run is left.
func TestQuickstartOnDocker(t *testing.T) {
	docker.RequireDocker(t)
	sc, err := scenarios.Load(examplePath(t, "quickstart.yaml"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := firedrill.Run(ctx, sc, firedrill.Options{Runtime: "docker", Binary: docker.StaticBinary(), OutDir: t.TempDir()})
	require.NotNil(t, res)
	t.Cleanup(func() { docker.RequireNothingLeft(t, docker.LabelRun+"="+res.RunID) })
	require.NoError(t, err)
	assert.Equal(t, "docker", res.Runtime)
	assert.Equal(t, reports.RolledBack, res.Rollout.Outcome)
	assert.Equal(t, reports.GO, res.Verdict, "%+v", res.Expectations)
	assert.Equal(t, firedrill.ExitGO, firedrill.ExitCode(res, err))
	assert.FileExists(t, filepath.Join(res.OutDir, "logs", "dataplane.log"))
	assert.FileExists(t, filepath.Join(res.OutDir, "logs", "checkout-v2-0.log"))
}

func TestMissingImageIsAnInfrastructureError(t *testing.T) {
	docker.RequireDocker(t)
	sc, err := scenarios.Parse("missing.yaml", []byte(`
name: missing
runtime: docker
services:
  api:
    image: firedrill-test-missing:nope
traffic:
  entry: api
  rate: 10
  duration: 1s
`))
	require.NoError(t, err)
	res, err := firedrill.Run(context.Background(), sc, firedrill.Options{Binary: docker.StaticBinary(), OutDir: t.TempDir()})
	require.Error(t, err)
	assert.Equal(t, firedrill.ExitInfra, firedrill.ExitCode(res, err))
	assert.Contains(t, err.Error(), "image firedrill-test-missing:nope is not present locally and cannot be pulled here: build it or `docker load` it")
	if res != nil {
		docker.RequireNothingLeft(t, docker.LabelRun+"="+res.RunID)
	}
}

// startRun starts `firedrill run quickstart --runtime docker` and returns
// once its traffic flows; the label names the run's objects by its pid.
func startRun(t *testing.T, ctx context.Context) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, docker.StaticBinary(), "run", examplePath(t, "quickstart.yaml"),
		"--runtime", "docker", "--out", t.TempDir(), "--history", "off")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	pidLabel := docker.LabelPID + "=" + strconv.Itoa(cmd.Process.Pid)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		docker.RemoveLabelled(t, pidLabel)
	})
	lines := bufio.NewScanner(out)
	started := false
	for lines.Scan() {
		if strings.Contains(lines.Text(), "traffic_started") {
			started = true
			break
		}
	}
	require.True(t, started, "the run never started its traffic")
	go func() { // keep the pipe drained
		for lines.Scan() {
		}
	}()
	cts, nets := docker.Labelled(t, pidLabel)
	require.NotEmpty(t, cts, "the run's containers carry the harness pid")
	require.Len(t, nets, 1)
	return cmd, pidLabel
}

// SIGTERM mid-run: the harness cleans up itself and exits 130.
func TestSIGTERMedHarnessCleansUp(t *testing.T) {
	docker.RequireDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, pidLabel := startRun(t, ctx)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, firedrill.ExitInterrupted, ee.ExitCode())
	docker.RequireNothingLeft(t, pidLabel)
}

// A harness killed with SIGKILL once traffic flows leaves nothing behind:
// its reaper removes every container and the network.
func TestSIGKILLedHarnessLeavesNothing(t *testing.T) {
	docker.RequireDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, pidLabel := startRun(t, ctx)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	killed := time.Now()
	require.Eventually(t, func() bool {
		cts, nets := docker.Labelled(t, pidLabel)
		return len(cts)+len(nets) == 0
	}, 30*time.Second, 250*time.Millisecond, "containers or networks of the killed run are left")
	t.Logf("the reaper cleaned up %.1fs after the SIGKILL", time.Since(killed).Seconds())
}
