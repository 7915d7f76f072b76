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

// Every strategy's example pair runs on the docker runtime too: same
// scenario files, same verdicts: the regression caught, the healthy variant
// promoted. canary-healthy also shows the caller header crossing the data
// plane (its version_skew expectation fails when no crossing is seen).
func TestStrategiesOnDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("runs seven rehearsals in containers")
	}
	needDocker(t)
	ctx := context.Background()
	for _, tc := range []struct{ file, outcome string }{
		{"canary-healthy.yaml", reports.Promoted},
		{"bluegreen.yaml", reports.RolledBack},
		{"bluegreen-healthy.yaml", reports.Promoted},
		{"rolling.yaml", reports.RolledBack},
		{"rolling-healthy.yaml", reports.Promoted},
		{"phased.yaml", reports.RolledBack},
		{"phased-healthy.yaml", reports.Promoted},
	} {
		t.Run(tc.file, func(t *testing.T) {
			sc := load(t, tc.file)
			res, err := firedrill.Run(ctx, sc, firedrill.Options{Runtime: "docker", OutDir: t.TempDir(), Formats: []string{"md"}})
			require.NoError(t, err)
			assert.Equal(t, "docker", res.Runtime)
			assert.Equal(t, tc.outcome, res.Rollout.Outcome, "trigger %q", res.Rollout.Trigger)
			for _, e := range res.Expectations {
				assert.True(t, e.Passed, "%s: observed %s, threshold %s (%s)", e.Name, e.Observed, e.Threshold, e.Detail)
			}
			assert.Equal(t, reports.GO, res.Verdict)
			if ro := res.Rollout; ro.Outcome == reports.RolledBack && ro.RegressionAt != nil && ro.Audit != nil {
				t.Logf("%s on docker: regression -> rollback completed %.2f s, %d bad requests", tc.file,
					ro.CompletedAt.Sub(*ro.RegressionAt).Seconds(), ro.Audit.BadRequests)
			}
			assertNoContainersLeft(t, res.RunID)
		})
	}
}

// needDocker skips in -short mode and without a daemon, and fails without
// one when CI=true (CI has Docker: a skip there would hide a broken setup).
func needDocker(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs containers")
	}
	if err := docker.Available(context.Background()); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v", err)
		}
		t.Skipf("no Docker: %v", err)
	}
}

// assertNoContainersLeft: nothing labelled with the run, container or
// network, is left.
func assertNoContainersLeft(t *testing.T, runID string) {
	t.Helper()
	for _, what := range [][]string{{"ps", "-aq"}, {"network", "ls", "-q"}} {
		args := append(what, "--filter", "label=firedrill.run="+runID)
		out, err := exec.Command("docker", args...).CombinedOutput()
		require.NoError(t, err, string(out))
		assert.Empty(t, strings.TrimSpace(string(out)), "docker %v: run %s left these behind", what, runID)
	}
}
