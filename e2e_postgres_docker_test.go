package firedrill_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology/pg"
)

// The stateful examples on the docker runtime: the PostgreSQL servers run
// as containers from the image built from this machine's PostgreSQL, the
// fixture in the firedrill image; same files, same verdicts as locally.

// runPGDocker runs an example for the docker runtime and checks that
// nothing labelled with its run is left, containers or networks.
func runPGDocker(t *testing.T, name string) *reports.Result {
	t.Helper()
	needDocker(t)
	sc, err := scenarios.LoadFor(filepath.Join("scenarios", "examples", name), "docker")
	require.NoError(t, err)
	start := time.Now()
	res, err := firedrill.Run(context.Background(), sc, firedrill.Options{Runtime: "docker", OutDir: t.TempDir(), Formats: []string{"md"}})
	if res != nil {
		t.Logf("%s on docker: wall time %s", name, time.Since(start).Round(time.Millisecond))
		assertNoContainersLeft(t, res.RunID)
	}
	require.NoError(t, err)
	assert.Equal(t, "docker", res.Runtime)
	// Every server was a container, none a local process.
	var servers int
	for _, e := range res.Events {
		if e.Kind == pg.EvNodeStarted {
			servers++
			assert.NotEmpty(t, e.Fields["container"], "%s ran in a container", e.Target)
			assert.Nil(t, e.Fields["data_dir"], "%s has no local data directory", e.Target)
		}
	}
	assert.GreaterOrEqual(t, servers, 2, "a primary and a replica started")
	return res
}

func TestPostgresDockerFailoverSyncLosesNothing(t *testing.T) {
	t.Parallel()
	assertSyncFailover(t, runPGDocker(t, "pg-failover-sync.yaml"))
}

func TestPostgresDockerFailoverAsyncLosesAWindow(t *testing.T) {
	t.Parallel()
	assertAsyncFailover(t, runPGDocker(t, "pg-failover-async.yaml"))
}

// A service that depends on its database, on docker: the fixture's
// containers reach the harness's proxy to the primary on the databases'
// network gateway, the migrations run while both versions serve.
func TestPostgresDockerMigrationExpandContract(t *testing.T) {
	t.Parallel()
	assertExpandContract(t, runPGDocker(t, "pg-migration-expand-contract.yaml"))
}

// Interrupted while the databases start (the replica's container is up,
// the topology and its reaper are not): every container and the network
// of the run are removed all the same.
func TestPostgresDockerInterruptLeavesNothing(t *testing.T) {
	t.Parallel()
	needDocker(t)
	sc, err := scenarios.LoadFor(filepath.Join("scenarios", "examples", "pg-failover-sync.yaml"), "docker")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := firedrill.Run(ctx, sc, firedrill.Options{Runtime: "docker", OutDir: t.TempDir(), Formats: []string{"md"},
		OnEvent: func(e record.Event) {
			if e.Kind == pg.EvNodeStarted && e.Target == "db-1" {
				cancel()
			}
		}})
	require.Error(t, err)
	assert.True(t, errors.Is(err, firedrill.ErrInterrupted), "%v", err)
	require.NotNil(t, res)
	assert.True(t, res.Interrupted)
	assertNoContainersLeft(t, res.RunID)
}
