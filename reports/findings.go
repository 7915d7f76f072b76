package reports

import "time"

// The types in this file are optional parts of a Result, filled by the
// analysis stages that exist for a run. Every renderer shows a section for
// one of them only when it is present, so an older or simpler result.json
// renders without empty headings.

// CanaryAnalysis is the canary judge's evidence: how the canary compared
// with its baseline, metric by metric.
type CanaryAnalysis struct {
	Service  string `json:"service"`
	Baseline string `json:"baseline"` // version the canary was compared with
	Canary   string `json:"canary"`   // version under judgement
	// Method names the judge, e.g. "thresholds" or "mann-whitney u".
	Method string `json:"method,omitempty"`
	// Verdict is pass, fail or inconclusive.
	Verdict string             `json:"verdict"`
	Detail  string             `json:"detail,omitempty"`
	Metrics []MetricComparison `json:"metrics,omitempty"`
}

// MetricComparison is one metric of the canary against the baseline.
type MetricComparison struct {
	Name     string  `json:"name"` // e.g. "error rate", "p99 latency"
	Unit     string  `json:"unit,omitempty"`
	Baseline float64 `json:"baseline"`
	Canary   float64 `json:"canary"`
	// PValue of the test the judge ran, when it ran one.
	PValue  *float64 `json:"p_value,omitempty"`
	Verdict string   `json:"verdict"` // pass | fail | inconclusive
	Detail  string   `json:"detail,omitempty"`
}

// Power says how likely the canary plan was to catch a regression of a given
// size: a rollout that passed with 20% power proves little.
type Power struct {
	// Method is "analytic" (closed form) or "monte-carlo".
	Method string `json:"method,omitempty"`
	// Effect describes the regression assumed, e.g. "error rate 0.5% -> 2%".
	Effect string  `json:"effect"`
	Alpha  float64 `json:"alpha,omitempty"`
	// Power is the probability (0..1) that the plan detects Effect.
	Power float64 `json:"power"`
	// Target is the power the plan should have had, e.g. 0.8 (optional).
	Target float64 `json:"target,omitempty"`
	Trials int     `json:"trials,omitempty"`
	// RequestsNeeded / RequestsAvailable compare the canary requests the
	// test needs with those the plan's steps deliver (optional).
	RequestsNeeded    int    `json:"requests_needed,omitempty"`
	RequestsAvailable int    `json:"requests_available,omitempty"`
	Detail            string `json:"detail,omitempty"`
}

// Recovery is one RTO / RPO finding: how long until service came back, and
// how much data was lost.
type Recovery struct {
	Name    string `json:"name"`
	Fault   string `json:"fault,omitempty"`   // the fault it follows, if any
	Service string `json:"service,omitempty"` // where recovery was measured
	// RTO: seconds from the fault (or failure) to service restored.
	RTOSeconds       *float64 `json:"rto_s,omitempty"`
	RTOTargetSeconds *float64 `json:"rto_target_s,omitempty"`
	// RPO: seconds of acknowledged writes lost, and how many writes.
	RPOSeconds       *float64 `json:"rpo_s,omitempty"`
	RPOTargetSeconds *float64 `json:"rpo_target_s,omitempty"`
	LostWrites       *int     `json:"lost_writes,omitempty"`
	Passed           *bool    `json:"passed,omitempty"`
	Detail           string   `json:"detail,omitempty"`

	// Write-ledger figures of a database (stateful rehearsals).
	Database string `json:"database,omitempty"`
	// FirstWriteSeconds: from the fault to the first acknowledged write.
	FirstWriteSeconds *float64 `json:"first_write_s,omitempty"`
	AckedWrites       *int     `json:"acked_writes,omitempty"`
	FailedWrites      *int     `json:"failed_writes,omitempty"`
	UnknownWrites     *int     `json:"unknown_writes,omitempty"`
	// UnknownSurfaced of the unknown writes turned out committed.
	UnknownSurfaced *int `json:"unknown_surfaced,omitempty"`
	DuplicateWrites *int `json:"duplicate_writes,omitempty"`
}

// Replication is one replica's replication state, one point per second
// (stateful rehearsals). A point that is not streaming is a failure, not a
// lag of zero.
type Replication struct {
	Database string             `json:"database"`
	Replica  string             `json:"replica"`
	Points   []ReplicationPoint `json:"points"`
}

// ReplicationPoint is one sample; T is seconds since traffic start.
type ReplicationPoint struct {
	T         float64 `json:"t"`
	Streaming bool    `json:"streaming"`
	LagMS     float64 `json:"lag_ms"`
	LagBytes  int64   `json:"lag_bytes"`
}

// Breaker is what one circuit breaker (a caller's breaker on one dependency
// edge) did during the run.
type Breaker struct {
	Service       string     `json:"service"` // the caller holding the breaker
	Target        string     `json:"target"`  // the dependency it guards
	Opens         int        `json:"opens"`   // times it went open
	FirstOpenedAt *time.Time `json:"first_opened_at,omitempty"`
	LastClosedAt  *time.Time `json:"last_closed_at,omitempty"`
	// FinalState is closed, open or half-open at the end of the run.
	FinalState string `json:"final_state,omitempty"`
	Passed     *bool  `json:"passed,omitempty"`
	Detail     string `json:"detail,omitempty"`
}
