package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill"
)

// validate --runtime docker refuses what the docker runtime cannot run (a
// command service) with exit 2; the same file is fine on the local runtime.
func TestValidateForTheDockerRuntime(t *testing.T) {
	f := filepath.Join(t.TempDir(), "cmd.yaml")
	require.NoError(t, os.WriteFile(f, []byte("name: c\nservices:\n  web:\n    command: [sleep, \"60\"]\ntraffic: {entry: web, rate: 5, duration: 3s}\n"), 0o644))
	validate := func(args ...string) error {
		root := newRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(append([]string{"validate"}, args...))
		return root.Execute()
	}
	require.NoError(t, validate(f))
	err := validate("--runtime", "docker", f)
	var ee *exitError
	require.True(t, errors.As(err, &ee), "err %v", err)
	assert.Equal(t, firedrill.ExitInvalid, ee.code)
}
