package firedrill_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A newcomer's first minutes: init writes a scenario, refuses to overwrite
// it, validates it, and the default one runs to GO on the local runtime.
func TestCLIInitRunsToGO(t *testing.T) {
	bin := buildCLI(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "first.yaml")
	out, err := exec.Command(bin, "init", path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "wrote "+path)

	again := exec.Command(bin, "init", path)
	again.Stdin = nil // not a terminal: no question is asked
	out, err = again.CombinedOutput()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "%v", err)
	assert.Equal(t, 2, ee.ExitCode())
	assert.Contains(t, string(out), "already exists; choose another file name, or add --force")
	out, err = exec.Command(bin, "init", "--force", "--strategy", "rolling", path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	out, err = exec.Command(bin, "validate", path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	out, err = exec.Command(bin, "init", "--force", path).CombinedOutput()
	require.NoError(t, err, "%s", out)

	run := exec.Command(bin, "run", "--quiet", "--out", filepath.Join(dir, "out"), path)
	out, err = run.CombinedOutput()
	require.NoError(t, err, "the default init scenario runs to GO:\n%s", out)
	assert.Contains(t, string(out), "GO")
	_, err = os.Stat(filepath.Join(dir, "out", "result.json"))
	assert.NoError(t, err)
}
