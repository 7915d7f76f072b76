//go:build unix

package router

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// TestPausedProcessIsUnhealthy: a SIGSTOPped process still has its socket
// (the kernel accepts connections into the backlog) but answers nothing;
// health checks must fail by their timeout.
func TestPausedProcessIsUnhealthy(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	addr := strings.TrimSpace(line)

	hc := fastHealth
	hc.Timeout = scenarios.Duration(300 * time.Millisecond)
	h := newHarness(t, Config{Health: hc})
	h.addBackends(Backend{Name: "p", Version: "v1", Addr: addr})

	paused := time.Now()
	require.NoError(t, cmd.Process.Signal(syscall.SIGSTOP))
	ev := h.waitEvent(record.EvInstanceUnhealthy, "p", paused)
	assert.Contains(t, ev.Message, "deadline exceeded")

	resumed := time.Now()
	require.NoError(t, cmd.Process.Signal(syscall.SIGCONT))
	h.waitEvent(record.EvInstanceHealthy, "p", resumed)
	code, hdr, _ := h.get("/")
	assert.Equal(t, 200, code)
	assert.Equal(t, "p", hdr.Get(HeaderBackend))
}
