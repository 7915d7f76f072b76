package firedrill_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A signal while a huge file loads ends the command at once with 130, not
// after the parser is done and not with 2.
func TestCLISignalDuringLoad(t *testing.T) {
	bin := buildCLI(t)
	var b strings.Builder
	b.WriteString("name: huge\ntraffic: {entry: s0, rate: 10, duration: 30s}\nservices:\n")
	for i := range 400000 {
		fmt.Fprintf(&b, "  s%d:\n    fixture: httpsvc\n    depends_on: [s%d]\n", i, i+1)
	}
	path := filepath.Join(t.TempDir(), "huge.yaml")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		for _, verb := range []string{"run", "validate"} {
			cmd := exec.Command(bin, verb, path)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			time.Sleep(1500 * time.Millisecond) // inside the parse: it takes many seconds
			sent := time.Now()
			require.NoError(t, cmd.Process.Signal(sig))
			err := cmd.Wait()
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee), "%s %v: %v", verb, sig, err)
			assert.Equal(t, 130, ee.ExitCode(), "%s %v: %s", verb, sig, stderr.String())
			assert.Contains(t, stderr.String(), "interrupted while loading")
			assert.Less(t, time.Since(sent), 5*time.Second, "%s %v: it does not wait for the parser", verb, sig)
		}
	}
}

// A bad --runtime is a bad flag, not a line of the file.
func TestCLIBadRuntimeFlag(t *testing.T) {
	bin := buildCLI(t)
	out, err := exec.Command(bin, "run", "--runtime", "dockr", "scenarios/examples/quickstart.yaml").CombinedOutput()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "%v", err)
	assert.Equal(t, 2, ee.ExitCode())
	assert.Equal(t, "firedrill: --runtime \"dockr\": write --runtime local or --runtime docker\n", string(out))
}
