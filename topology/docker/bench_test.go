package docker

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
)

// BenchmarkQuickstartUpDown: the quickstart topology (3 services x 2
// instances, data plane, reaper) brought up until every instance is healthy,
// then torn down. "cold" removes the firedrill image first, so Up includes
// building it from the static binary; "warm" finds it cached. Reported:
// up-s (Up, including the image) and down-s (Down) per run.
func BenchmarkQuickstartUpDown(b *testing.B) {
	requireDocker(b)
	mod, err := FindModule(".")
	require.NoError(b, err)
	sc, err := scenarios.Load(filepath.Join(mod, "scenarios", "examples", "quickstart.yaml"))
	require.NoError(b, err)
	for _, cold := range []bool{true, false} {
		name := "warm"
		if cold {
			name = "cold"
		}
		b.Run(name, func(b *testing.B) {
			var up, down time.Duration
			for range b.N {
				b.StopTimer()
				if cold {
					removeImage(b, fdImage)
				}
				rt := NewWithConfig(Config{})
				runID := newRunID()
				opts := topology.Options{RunID: runID, Binary: staticBin, Events: record.NewLog(nil), Recorder: record.NewRecorder(time.Now())}
				b.StartTimer()
				t0 := time.Now()
				_, err := rt.Up(context.Background(), sc, opts)
				up += time.Since(t0)
				b.StopTimer()
				if err != nil {
					_ = rt.Down(context.Background())
					b.Fatal(err)
				}
				t1 := time.Now()
				require.NoError(b, rt.Down(context.Background()))
				down += time.Since(t1)
				requireNothingLeft(b, LabelRun+"="+runID)
			}
			b.ReportMetric(up.Seconds()/float64(b.N), "up-s")
			b.ReportMetric(down.Seconds()/float64(b.N), "down-s")
		})
	}
}

func removeImage(b *testing.B, tag string) {
	b.Helper()
	c, err := Client(context.Background())
	require.NoError(b, err)
	defer c.Close()
	_, err = c.ImageRemove(context.Background(), tag, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	require.NoError(b, err)
}

// BenchmarkFiveServicesUp: five fixture services (gw -> api -> {store,
// cache}, and web; three dependency levels) up on the docker runtime with
// a warm image, and down again. Reported: up-s per run and prepare-s, the
// part before the first instance (image check, network, reaper and data
// plane).
func BenchmarkFiveServicesUp(b *testing.B) {
	requireDocker(b)
	svc := func(name string, deps ...string) *scenarios.Service {
		return &scenarios.Service{Name: name, Fixture: "httpsvc", Version: "v1", Replicas: 1, DependsOn: deps,
			Health:       scenarios.Health{HTTP: "/healthz", Interval: scenarios.DefaultHealthInterval, Timeout: scenarios.Duration(time.Second), UnhealthyAfter: 2, HealthyAfter: 1},
			StartTimeout: scenarios.Duration(60 * time.Second)}
	}
	sc := &scenarios.Scenario{Name: "five", Seed: 1, Runtime: "docker", Services: []*scenarios.Service{
		svc("gw", "api"), svc("api", "store", "cache"), svc("store"), svc("cache"), svc("web"),
	}, Traffic: scenarios.Traffic{Entry: "gw"}}
	var up, prepare time.Duration
	for range b.N {
		rt := NewWithConfig(Config{})
		runID := newRunID()
		events := record.NewLog(nil)
		opts := topology.Options{RunID: runID, Binary: staticBin, Events: events, Recorder: record.NewRecorder(time.Now())}
		t0 := time.Now()
		_, err := rt.Up(context.Background(), sc, opts)
		up += time.Since(t0)
		b.StopTimer()
		if err != nil {
			_ = rt.Down(context.Background())
			b.Fatal(err)
		}
		first := time.Now()
		for _, e := range events.Events() {
			if e.Kind == record.EvInstanceStarted && e.At.Before(first) {
				first = e.At
			}
		}
		prepare += first.Sub(t0)
		require.NoError(b, rt.Down(context.Background()))
		requireNothingLeft(b, LabelRun+"="+runID)
		b.StartTimer()
	}
	b.ReportMetric(up.Seconds()/float64(b.N), "up-s")
	b.ReportMetric(prepare.Seconds()/float64(b.N), "prepare-s")
}
