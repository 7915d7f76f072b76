package history

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"time"

	"github.com/firedrill/firedrill/reports"
)

// Run is one recorded rehearsal.
type Run struct {
	ID           int64     `json:"id"`
	Scenario     string    `json:"scenario"`
	ScenarioFile string    `json:"scenario_file,omitempty"`
	FileHash     string    `json:"file_hash,omitempty"` // sha256 of the scenario file
	Version      string    `json:"version,omitempty"`   // the version rolled out
	FromVersion  string    `json:"from_version,omitempty"`
	RunID        string    `json:"run_id,omitempty"`
	Seed         int64     `json:"seed"`
	Runtime      string    `json:"runtime,omitempty"`
	Verdict      string    `json:"verdict"`
	Interrupted  bool      `json:"interrupted,omitempty"`
	Error        string    `json:"error,omitempty"`
	StartedAt    time.Time `json:"started_at"`
	EndedAt      time.Time `json:"ended_at"`
	Requests     int64     `json:"requests"`
	Errors       int64     `json:"errors"`
	P99MS        *float64  `json:"p99_ms,omitempty"`
	Availability *float64  `json:"availability,omitempty"`
	// RolloutOutcome is promoted, rolled_back or none.
	RolloutOutcome string `json:"rollout_outcome,omitempty"`
	// Seconds from the regression reaching traffic to its detection, to
	// the rollback's completion, and to traffic restored (the rollout's, or
	// else the longest RTO of the run's recovery checks).
	DetectS   *float64 `json:"detect_s,omitempty"`
	RollbackS *float64 `json:"rollback_s,omitempty"`
	RestoreS  *float64 `json:"restore_s,omitempty"`
	// The longest RTO and RPO the run measured.
	RTOS        *float64 `json:"rto_s,omitempty"`
	RPOS        *float64 `json:"rpo_s,omitempty"`
	Commit      string   `json:"git_commit,omitempty"`
	Branch      string   `json:"git_branch,omitempty"`
	OutDir      string   `json:"out_dir,omitempty"`
	ToolVersion string   `json:"tool_version,omitempty"`
	// Baseline names the runs a compare: check measured against ("#3,#5").
	Baseline string `json:"baseline,omitempty"`
	// Kind is KindRun (a live rehearsal) or KindSimulation (firedrill
	// simulate: Trials trials in virtual time, never evidence for the gate,
	// never in the failure rate, MTTR or flakiness). A simulation's
	// DetectS and RollbackS are the trials' medians.
	Kind          string        `json:"kind"`
	Trials        int64         `json:"trials,omitempty"`
	RollbackRatio *float64      `json:"rollback_ratio,omitempty"`
	DetectRatio   *float64      `json:"detect_ratio,omitempty"`
	Expectations  []Expectation `json:"expectations"`
}

// Kinds of recorded runs.
const (
	KindRun        = "run"
	KindSimulation = "simulation"
	// Simulated is a simulation's verdict column: it is neither GO nor NO-GO.
	Simulated = "SIMULATED"
)

// Simulation reports whether the run is a simulated plan.
func (r *Run) Simulation() bool { return r.Kind == KindSimulation }

// Expectation is one check of a recorded run.
type Expectation struct {
	Name      string   `json:"name"`
	Kind      string   `json:"kind"`
	Passed    bool     `json:"passed"`
	Observed  string   `json:"observed"`
	Threshold string   `json:"threshold,omitempty"`
	Value     *float64 `json:"value,omitempty"`
	Unit      string   `json:"unit,omitempty"`
}

// GO reports whether the run's verdict was GO.
func (r *Run) GO() bool { return r.Verdict == reports.GO && !r.Simulation() }

// Provenance is where a run came from besides its result.
type Provenance struct {
	FileHash string
	Commit   string
	Branch   string
}

// FromResult turns a run's result into a Run to record.
func FromResult(res *reports.Result, p Provenance) Run {
	r := Run{
		Scenario: res.Scenario, ScenarioFile: res.ScenarioFile, FileHash: p.FileHash,
		Version: res.Rollout.To, FromVersion: res.Rollout.From, RunID: res.RunID,
		Seed: res.Seed, Runtime: res.Runtime, Verdict: res.Verdict, Interrupted: res.Interrupted,
		Error: res.Error, StartedAt: res.StartedAt, EndedAt: res.EndedAt,
		Requests: int64(res.Traffic.Requests), Errors: int64(res.Traffic.Errors),
		RolloutOutcome: res.Rollout.Outcome, Commit: p.Commit, Branch: p.Branch,
		OutDir: res.OutDir, ToolVersion: res.ToolVersion, Kind: KindRun,
	}
	if res.Traffic.Requests > 0 {
		p99 := res.Traffic.LatencyMS.P99
		avail := 1 - float64(res.Traffic.Errors)/float64(res.Traffic.Requests)
		r.P99MS, r.Availability = &p99, &avail
	}
	r.DetectS, r.RollbackS, r.RestoreS = rolloutFigures(&res.Rollout)
	for _, rec := range res.Recovery {
		r.RTOS = maxOf(r.RTOS, rec.RTOSeconds)
		r.RPOS = maxOf(r.RPOS, rec.RPOSeconds)
	}
	if r.RestoreS == nil {
		r.RestoreS = r.RTOS
	}
	for _, x := range res.Expectations {
		r.Expectations = append(r.Expectations, Expectation{
			Name: x.Name, Kind: x.Kind, Passed: x.Passed, Observed: x.Observed,
			Threshold: x.Threshold, Value: x.Value, Unit: x.Unit,
		})
	}
	return r
}

// rolloutFigures are the detection, rollback and restore times of a
// rollout that met a regression, in seconds from the regression.
func rolloutFigures(ro *reports.Rollout) (detect, rollback, restore *float64) {
	if ro.RegressionAt == nil {
		return nil, nil, nil
	}
	since := func(t *time.Time) *float64 {
		if t == nil {
			return nil
		}
		s := t.Sub(*ro.RegressionAt).Seconds()
		return &s
	}
	detect = since(ro.DetectedAt)
	if ro.Outcome == reports.RolledBack {
		rollback = since(ro.CompletedAt)
		restore = since(ro.TrafficRestoredAt)
		if restore == nil {
			restore = rollback
		}
	}
	if a := ro.Audit; a != nil && a.MitigatedAt != nil {
		restore = since(a.MitigatedAt)
	}
	return detect, rollback, restore
}

func maxOf(cur, v *float64) *float64 {
	if v == nil || (cur != nil && *cur >= *v) {
		return cur
	}
	x := *v
	return &x
}

// FileHash is the sha256 of a scenario file, hex ("" when unreadable).
func FileHash(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
