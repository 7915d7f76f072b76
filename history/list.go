package history

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Filter selects runs.
type Filter struct {
	Scenario string    // "" any
	Version  string    // "" any
	Since    time.Time // zero: from the start
	Until    time.Time // zero: to the end
	Verdict  string    // "" any
	Kind     string    // KindRun, KindSimulation; "" both
	// Last keeps only the newest N runs (0: all).
	Last int
}

// Runs lists the runs the filter selects, oldest first, with their
// expectations.
func (s *Store) Runs(ctx context.Context, f Filter) ([]Run, error) {
	where, args := "1=1", []any{}
	add := func(cond string, v any) { where += " AND " + cond; args = append(args, v) }
	if f.Scenario != "" {
		add("scenario = ?", f.Scenario)
	}
	if f.Version != "" {
		add("version = ?", f.Version)
	}
	if f.Verdict != "" {
		add("verdict = ?", f.Verdict)
	}
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	if !f.Since.IsZero() {
		add("started_at >= ?", ts(f.Since))
	}
	if !f.Until.IsZero() {
		add("started_at <= ?", ts(f.Until))
	}
	q := `SELECT id, ` + runCols + `, ` + simCols + ` FROM runs WHERE ` + where + ` ORDER BY started_at DESC, id DESC`
	if f.Last > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Last)
	}
	rows, err := s.db.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("read runs from %s: %w", s.where, err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("read runs from %s: %w", s.where, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read runs from %s: %w", s.where, err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	for i := range out {
		if out[i].Expectations, err = s.expectations(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func scanRun(rows *sql.Rows) (Run, error) {
	var r Run
	var started, ended string
	err := rows.Scan(&r.ID, &r.Scenario, &r.ScenarioFile, &r.FileHash, &r.Version, &r.FromVersion, &r.RunID, &r.Seed, &r.Runtime,
		&r.Verdict, &r.Interrupted, &r.Error, &started, &ended, &r.Requests, &r.Errors, &r.P99MS, &r.Availability,
		&r.RolloutOutcome, &r.DetectS, &r.RollbackS, &r.RestoreS, &r.RTOS, &r.RPOS, &r.Commit, &r.Branch,
		&r.OutDir, &r.ToolVersion, &r.Baseline, &r.Kind, &r.Trials, &r.RollbackRatio, &r.DetectRatio)
	if err != nil {
		return r, err
	}
	if r.StartedAt, err = parseTS(started); err != nil {
		return r, fmt.Errorf("run %d: started_at %q: %w", r.ID, started, err)
	}
	if r.EndedAt, err = parseTS(ended); err != nil {
		return r, fmt.Errorf("run %d: ended_at %q: %w", r.ID, ended, err)
	}
	return r, nil
}

func (s *Store) expectations(ctx context.Context, id int64) ([]Expectation, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT name, kind, passed, observed, threshold, value, unit
		FROM expectations WHERE run_id = ? ORDER BY idx`), id)
	if err != nil {
		return nil, fmt.Errorf("read expectations of run %d from %s: %w", id, s.where, err)
	}
	defer rows.Close()
	out := []Expectation{}
	for rows.Next() {
		var x Expectation
		if err := rows.Scan(&x.Name, &x.Kind, &x.Passed, &x.Observed, &x.Threshold, &x.Value, &x.Unit); err != nil {
			return nil, fmt.Errorf("read expectations of run %d from %s: %w", id, s.where, err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// Decisions lists the decisions about a scenario (all when ""), oldest
// first.
func (s *Store) Decisions(ctx context.Context, scenario string) ([]Decision, error) {
	q, args := `SELECT id, `+decisionCols+` FROM decisions`, []any{}
	if scenario != "" {
		q, args = q+` WHERE scenario = ?`, append(args, scenario)
	}
	rows, err := s.db.QueryContext(ctx, s.d.q(q+` ORDER BY at, id`), args...)
	if err != nil {
		return nil, fmt.Errorf("read decisions from %s: %w", s.where, err)
	}
	defer rows.Close()
	var out []Decision
	for rows.Next() {
		var d Decision
		var at string
		if err := rows.Scan(&d.ID, &d.Kind, &d.Scenario, &d.Version, &d.FileHash, &d.Actor, &d.Note, &at); err != nil {
			return nil, fmt.Errorf("read decisions from %s: %w", s.where, err)
		}
		if d.At, err = parseTS(at); err != nil {
			return nil, fmt.Errorf("decision %d: at %q: %w", d.ID, at, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
