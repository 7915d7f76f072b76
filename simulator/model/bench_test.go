package model

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/scenarios"
)

func loadExample(tb testing.TB, name string) *scenarios.Scenario {
	tb.Helper()
	sc, err := scenarios.Load(filepath.Join("..", "..", "scenarios", "examples", name))
	require.NoError(tb, err)
	return sc
}

// The speed target: 10,000 trials of a ten-step, ten-minute canary
// at 100 rps (the A/A example, judged every second) in at most 10 s on
// two cores.
func BenchmarkSimulateCanary10kTrials(b *testing.B) {
	sc := loadExample(b, "simulate-aa.yaml")
	for b.Loop() {
		s, err := Simulate(context.Background(), sc, Options{Trials: 10000, Seed: 1})
		require.NoError(b, err)
		b.ReportMetric(float64(s.Outcomes.RolledBack)/float64(s.Trials), "rollback_ratio")
		// What the summary keeps (memory flat in trials): its histograms'
		// distinct values, not one entry per trial.
		h := s.Histograms
		b.ReportMetric(float64(len(h.DetectMS)+len(h.RollbackMS)+len(h.BadRequests)), "histogram_values")
	}
}

// One trial of the A/A canary: the cost of a trial.
func BenchmarkSimulateCanaryTrial(b *testing.B) {
	top, err := Build(loadExample(b, "simulate-aa.yaml"))
	require.NoError(b, err)
	i := 0
	for b.Loop() {
		_, err := RunTrial(context.Background(), top, TrialSeed(1, i))
		require.NoError(b, err)
		i++
	}
}

// The second target: one trial of a 10,000-instance rolling update
// (100 instances a batch, two instances killed on the way) in at most 5 s.
func BenchmarkSimulateRolling10kInstances(b *testing.B) {
	sc, err := scenarios.Load(filepath.Join("testdata", "fleet-10k.yaml"))
	require.NoError(b, err)
	top, err := Build(sc)
	require.NoError(b, err)
	for b.Loop() {
		tr, err := RunTrial(context.Background(), top, 1)
		require.NoError(b, err)
		require.NotEqual(b, Aborted, tr.Outcome)
	}
}

// The same fleet one instance a batch: 10,000 batches, 60,000 looks.
func BenchmarkSimulateRolling10kInstancesOneByOne(b *testing.B) {
	sc, err := scenarios.Load(filepath.Join("testdata", "fleet-10k.yaml"))
	require.NoError(b, err)
	sc.Rollout.Rolling.MaxSurge = 1
	sc.Traffic.Duration = scenarios.Duration(20 * time.Hour)
	top, err := Build(sc)
	require.NoError(b, err)
	for b.Loop() {
		tr, err := RunTrial(context.Background(), top, 1)
		require.NoError(b, err)
		require.NotEqual(b, Aborted, tr.Outcome)
	}
}
