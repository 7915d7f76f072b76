package firedrill_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/topology/docker"
)

// The strategy examples whose regression must be caught run on the docker
// runtime too: same scenario files, same verdicts.
func TestStrategiesOnDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three rehearsals in containers")
	}
	ctx := context.Background()
	if err := docker.Available(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v", err)
		}
		t.Skipf("no Docker: %v", err)
	}
	for _, name := range []string{"bluegreen.yaml", "rolling.yaml", "phased.yaml"} {
		t.Run(name, func(t *testing.T) {
			sc := load(t, name)
			res, err := firedrill.Run(ctx, sc, firedrill.Options{Runtime: "docker", OutDir: t.TempDir(), Formats: []string{"md"}})
			require.NoError(t, err)
			assert.Equal(t, "docker", res.Runtime)
			assert.Equal(t, reports.RolledBack, res.Rollout.Outcome, "trigger %q", res.Rollout.Trigger)
			for _, e := range res.Expectations {
				assert.True(t, e.Passed, "%s: observed %s, threshold %s (%s)", e.Name, e.Observed, e.Threshold, e.Detail)
			}
			assert.Equal(t, reports.GO, res.Verdict)
			for _, what := range [][]string{{"ps", "-aq"}, {"network", "ls", "-q"}} {
				args := append(what, "--filter", "label=firedrill.run="+res.RunID)
				out, err := exec.Command("docker", args...).CombinedOutput()
				require.NoError(t, err, string(out))
				assert.Empty(t, strings.TrimSpace(string(out)), "docker %v: run %s left these behind", what, res.RunID)
			}
		})
	}
}
