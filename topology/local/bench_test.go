package local

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/cluster"
)

// fiveServices is gw -> api -> {store, cache}, and web alone: three
// dependency levels, with the scenario defaults' health checks (HTTP
// /healthz every 1 s, healthy after 1 pass), so that the figure is what
// a user's five-service topology costs.
func fiveServices() *scenarios.Scenario {
	svc := func(name string, deps ...string) *scenarios.Service {
		s := echoService(name, "v1", 1, deps...)
		s.Health.Interval = scenarios.DefaultHealthInterval
		return s
	}
	return &scenarios.Scenario{Name: "five", Seed: 1, Services: []*scenarios.Service{
		svc("gw", "api"), svc("api", "store", "cache"), svc("store"), svc("cache"), svc("web"),
	}, Traffic: scenarios.Traffic{Entry: "gw"}}
}

// BenchmarkFiveServicesUp: five services up (every instance healthy) and
// down again on the local runtime. Reported: up-s per run, and the
// machine-independent cost: the dependency levels, i.e. the health waits
// that must follow one another (each service waits only for its own
// dependencies; a wait lasts the process's start plus the router's first
// checks, which back off from router.FirstRetry, not a health interval).
func BenchmarkFiveServicesUp(b *testing.B) {
	sc := fiveServices()
	var up time.Duration
	levels := 0
	for range b.N {
		rt := New()
		opts := topology.Options{RunID: newRunID(), RunDir: b.TempDir(), Events: record.NewLog(nil), Recorder: record.NewRecorder(time.Now())}
		t0 := time.Now()
		tp, err := rt.Up(context.Background(), sc, opts)
		up += time.Since(t0)
		b.StopTimer()
		require.NoError(b, err)
		levels = len(cluster.Levels(tp.(*cluster.Cluster).Services()))
		require.NoError(b, rt.Down(context.Background()))
		b.StartTimer()
	}
	b.ReportMetric(up.Seconds()/float64(b.N), "up-s")
	b.ReportMetric(float64(levels), "sequential-health-waits")
}
