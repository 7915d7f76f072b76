package history

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// tsFormat keeps times as fixed-width UTC text: it sorts as text and reads
// back the same in SQLite and PostgreSQL.
const tsFormat = "2006-01-02T15:04:05.000000Z"

func ts(t time.Time) string { return t.UTC().Format(tsFormat) }

func parseTS(s string) (time.Time, error) { return time.Parse(tsFormat, s) }

// runCols are the columns Record writes, in Run order after id.
const runCols = `scenario, scenario_file, file_hash, version, from_version, run_id, seed, runtime,
	verdict, interrupted, error, started_at, ended_at, requests, errors, p99_ms, availability,
	rollout_outcome, detect_s, rollback_s, restore_s, rto_s, rpo_s, git_commit, git_branch,
	out_dir, tool_version, baseline`

// simCols (schema 4) say whether a record is a live run or a simulated
// plan, and a simulation's figures.
const simCols = `kind, trials, rollback_ratio, detect_ratio`

func runArgs(r *Run) []any {
	kind := r.Kind
	if kind == "" {
		kind = KindRun
	}
	return []any{r.Scenario, r.ScenarioFile, r.FileHash, r.Version, r.FromVersion, r.RunID, r.Seed, r.Runtime,
		r.Verdict, r.Interrupted, r.Error, ts(r.StartedAt), ts(r.EndedAt), r.Requests, r.Errors, r.P99MS, r.Availability,
		r.RolloutOutcome, r.DetectS, r.RollbackS, r.RestoreS, r.RTOS, r.RPOS, r.Commit, r.Branch,
		r.OutDir, r.ToolVersion, r.Baseline, kind, r.Trials, r.RollbackRatio, r.DetectRatio}
}

// Record stores a run with its expectations and appends it to the audit
// chain, in one transaction; it returns the run's id.
func (s *Store) Record(ctx context.Context, r Run) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		args := runArgs(&r)
		ins := `INSERT INTO runs (` + runCols + `, ` + simCols + `) VALUES (?` + strings.Repeat(",?", len(args)-1) + `) RETURNING id`
		if err := tx.QueryRowContext(ctx, s.d.q(ins), args...).Scan(&id); err != nil {
			return fmt.Errorf("record run of %s in %s: %w", r.Scenario, s.where, err)
		}
		for i, x := range r.Expectations {
			_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO expectations (run_id, idx, name, kind, passed, observed, threshold, value, unit)
				VALUES (?,?,?,?,?,?,?,?,?)`), id, i, x.Name, x.Kind, x.Passed, x.Observed, x.Threshold, x.Value, x.Unit)
			if err != nil {
				return fmt.Errorf("record expectation %q in %s: %w", x.Name, s.where, err)
			}
		}
		return s.appendChain(ctx, tx, kindRun, id, true)
	})
	return id, err
}

// Decision kinds.
const (
	// DecisionApproval approves releasing a scenario's version.
	DecisionApproval = "approval"
	// DecisionRevoke withdraws an actor's approval of a version.
	DecisionRevoke = "revoke"
)

// Decision is a person's recorded decision about a release.
type Decision struct {
	ID       int64     `json:"id"`
	Kind     string    `json:"kind"`
	Scenario string    `json:"scenario"`
	Version  string    `json:"version,omitempty"`
	FileHash string    `json:"file_hash,omitempty"`
	Actor    string    `json:"actor"`
	Note     string    `json:"note,omitempty"`
	At       time.Time `json:"at"`
}

// Decide records a decision and appends it to the audit chain.
func (s *Store) Decide(ctx context.Context, d Decision) (int64, error) {
	if d.Actor == "" {
		return 0, fmt.Errorf("a decision needs who took it; pass --by NAME")
	}
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.d.q(`INSERT INTO decisions (kind, scenario, version, file_hash, actor, note, at)
			VALUES (?,?,?,?,?,?,?) RETURNING id`), d.Kind, d.Scenario, d.Version, d.FileHash, d.Actor, d.Note, ts(d.At)).Scan(&id)
		if err != nil {
			return fmt.Errorf("record %s by %s in %s: %w", d.Kind, d.Actor, s.where, err)
		}
		return s.appendChain(ctx, tx, kindDecision, id, true)
	})
	return id, err
}
