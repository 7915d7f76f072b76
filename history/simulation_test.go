package history

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Simulated plans sit in the store beside live runs, chained like them,
// and count for nothing a live run counts for.
func TestSimulations(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Run("recorded apart from live runs", func(t *testing.T) { testSimulation(t, b.fresh(t)) })
			t.Run("migrate a chained store from schema 3", func(t *testing.T) { testMigrateFrom3(t, b.fresh(t)) })
		})
	}
}

func simRun(at time.Time) Run {
	rb, det, med := 0.82, 0.97, 41.5
	return Run{Kind: KindSimulation, Scenario: "quickstart", FileHash: "abc", Version: "v2", FromVersion: "v1",
		Seed: 7, Runtime: "simulate", Verdict: Simulated, StartedAt: at, EndedAt: at.Add(3 * time.Second),
		Trials: 1000, RollbackRatio: &rb, DetectRatio: &det, DetectS: &med,
		// Every trial "passed" availability: that must not stand in for a rehearsal.
		Expectations: []Expectation{{Name: "availability >= 0.98", Kind: "availability", Passed: true, Observed: "passed in 1000 of 1000 trials"}}}
}

func testSimulation(t *testing.T, spec string) {
	ctx := context.Background()
	s := open(t, spec)
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	_, err := s.Record(ctx, run(t, base, "NO-GO"))
	require.NoError(t, err)
	simID, err := s.Record(ctx, simRun(base.Add(time.Hour)))
	require.NoError(t, err)
	_, err = s.Record(ctx, run(t, base.Add(2*time.Hour), "NO-GO"))
	require.NoError(t, err)

	all, err := s.Runs(ctx, Filter{})
	require.NoError(t, err)
	require.Len(t, all, 3)
	sim := all[1]
	assert.Equal(t, KindSimulation, sim.Kind)
	assert.Equal(t, KindRun, all[0].Kind)
	assert.Equal(t, int64(1000), sim.Trials)
	assert.InDelta(t, 0.82, *sim.RollbackRatio, 1e-12)
	assert.InDelta(t, 0.97, *sim.DetectRatio, 1e-12)
	assert.False(t, sim.GO())
	only, err := s.Runs(ctx, Filter{Kind: KindSimulation})
	require.NoError(t, err)
	require.Len(t, only, 1)
	assert.Equal(t, simID, only[0].ID)
	live, err := s.Runs(ctx, Filter{Kind: KindRun})
	require.NoError(t, err)
	assert.Len(t, live, 2)

	// Two live NO-GOs: the failure rate is 2/2, not 2/3; the simulation's
	// detect median is no MTTR or detect figure; nothing is flaky.
	sum := Summarize(all)
	assert.Equal(t, 2, sum.Runs)
	assert.Equal(t, 1, sum.Simulations)
	assert.InDelta(t, 1.0, *sum.ChangeFailureRate, 1e-12)
	assert.InDelta(t, 3.008567103, *sum.DetectMedianS, 1e-9) // the live runs' own
	assert.Empty(t, sum.Flaky)

	// The gate never takes a simulation as a passing rehearsal, even one
	// whose "verdict" someone set to GO.
	p, err := ParsePolicy("p.yaml", []byte("risk_classes:\n  low: {require: [availability], max_age: 30d}\n"))
	require.NoError(t, err)
	rel := Release{Scenario: "quickstart", Risk: "low", Version: "v2"}
	v, err := Gate(ctx, p, s, rel, base.Add(3*time.Hour))
	require.NoError(t, err)
	assert.False(t, v.Go())
	assert.Nil(t, v.Evidence)
	sim.Verdict = "GO"
	v = Decide(p, rel, []Run{sim}, nil, base.Add(3*time.Hour))
	assert.False(t, v.Go(), "%v", v.Reasons)

	n, err := s.Verify(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	// Relabelling the simulation as a live run, or a live run as a
	// simulation (to hide a NO-GO from the failure rate), breaks the chain.
	for _, c := range []struct {
		edit, undo string
		ref        int64
	}{
		{`UPDATE runs SET kind = 'run', trials = 0, rollback_ratio = NULL, detect_ratio = NULL, verdict = 'GO' WHERE id = 2`,
			`UPDATE runs SET kind = 'simulation', trials = 1000, rollback_ratio = 0.82, detect_ratio = 0.97, verdict = 'SIMULATED' WHERE id = 2`, 2},
		{`UPDATE runs SET kind = 'simulation' WHERE id = 3`, `UPDATE runs SET kind = 'run' WHERE id = 3`, 3},
		{`UPDATE runs SET trials = 5 WHERE id = 1`, `UPDATE runs SET trials = 0 WHERE id = 1`, 1},
	} {
		_, err = s.db.ExecContext(ctx, c.edit)
		require.NoError(t, err)
		_, err = s.Verify(ctx)
		var b *Broken
		require.True(t, errors.As(err, &b), "%s: %v", c.edit, err)
		assert.Equal(t, c.ref, b.Ref, c.edit)
		_, err = s.db.ExecContext(ctx, c.undo)
		require.NoError(t, err)
		_, err = s.Verify(ctx)
		require.NoError(t, err, "undoing %s", c.edit)
	}
}

// A store at schema 3 whose runs are chained moves to schema 4: the old
// records still match their hashes and new ones chain on.
func testMigrateFrom3(t *testing.T, spec string) {
	ctx := context.Background()
	old := rawStore(t, spec)
	require.NoError(t, old.migrate(ctx, 3))
	err := old.tx(ctx, func(tx *sql.Tx) error {
		var id int64
		args := runArgs(&Run{Scenario: "quickstart", Verdict: "GO", StartedAt: time.Unix(0, 0), EndedAt: time.Unix(30, 0)})
		err := tx.QueryRowContext(ctx, old.d.q(`INSERT INTO runs (`+runCols+`) VALUES (?`+repeatPlaceholders(len(args)-5)+`) RETURNING id`),
			args[:len(args)-4]...).Scan(&id)
		if err != nil {
			return err
		}
		return old.appendChain(ctx, tx, kindRun, id, false)
	})
	require.NoError(t, err)
	require.NoError(t, old.Close())

	s := open(t, spec)
	_, err = s.Record(ctx, simRun(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)))
	require.NoError(t, err)
	n, err := s.Verify(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	runs, err := s.Runs(ctx, Filter{Kind: KindRun})
	require.NoError(t, err)
	require.Len(t, runs, 1)
	assert.Equal(t, "GO", runs[0].Verdict)
}

func repeatPlaceholders(n int) string {
	out := ""
	for range n {
		out += ",?"
	}
	return out
}
