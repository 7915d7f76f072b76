// Package reports is the result model (result.json) and its renderers.
package reports

import (
	"time"

	"github.com/firedrill/firedrill/record"
)

// SchemaVersion of result.json. Bump on any incompatible change; keys are
// only ever added.
const SchemaVersion = 1

// Verdicts.
const (
	GO   = "GO"
	NOGO = "NO-GO"
	// INTERRUPTED: the run was stopped (Ctrl-C, SIGTERM) before it could
	// be judged; expectations it could not judge are skipped, not failed.
	INTERRUPTED = "INTERRUPTED"
	// ABORTED: the scenario's abort_if safety floor stopped the drill, or
	// its steady_state did not hold before the first perturbation.
	ABORTED = "ABORTED"
)

// Result is everything a run found; result.json is its JSON form and the
// single source of every other report format.
type Result struct {
	SchemaVersion int       `json:"schema_version"`
	Scenario      string    `json:"scenario"`
	ScenarioFile  string    `json:"scenario_file,omitempty"`
	Description   string    `json:"description,omitempty"`
	Runtime       string    `json:"runtime"`
	Seed          int64     `json:"seed"`
	RunID         string    `json:"run_id"`
	StartedAt     time.Time `json:"started_at"`
	EndedAt       time.Time `json:"ended_at"`
	Verdict       string    `json:"verdict"`
	Interrupted   bool      `json:"interrupted"`
	// Aborted says why abort_if's safety floor stopped the run early.
	Aborted string `json:"aborted,omitempty"`
	// SteadyState is the check before the first perturbation (steady.go).
	SteadyState  *SteadyState  `json:"steady_state,omitempty"`
	Error        string        `json:"error,omitempty"`
	Expectations []Expectation `json:"expectations"`
	Rollout      Rollout       `json:"rollout"`
	Faults       []Fault       `json:"faults"`
	Traffic      Traffic       `json:"traffic"`
	// Series are per-second figures per service and version.
	Series []Series `json:"series,omitempty"`
	// Events is the run's event log (also in events.jsonl).
	Events []record.Event `json:"events,omitempty"`
	// Topology lists services and their dependency edges.
	Topology []Service `json:"topology,omitempty"`
	// OutDir is where the run's files are.
	OutDir string `json:"out_dir,omitempty"`

	// Optional fields below render only when set (see findings.go).

	// Hostname is the machine the run ran on (JUnit's hostname attribute).
	Hostname string `json:"hostname,omitempty"`
	// ToolVersion is the firedrill version that produced the result.
	ToolVersion string `json:"tool_version,omitempty"`
	// SeriesStart is the wall-clock time of Point.T == 0 (traffic start).
	// Charts and timelines place events and steps with it; when nil, the
	// traffic_started event and then StartedAt are used.
	SeriesStart *time.Time `json:"series_start,omitempty"`
	// ScenarioYAML is the scenario file as run, with secrets redacted.
	ScenarioYAML string `json:"scenario_yaml,omitempty"`
	// Analysis is the canary judge's evidence (canary vs. baseline).
	Analysis *CanaryAnalysis `json:"analysis,omitempty"`
	// Power says whether the canary plan could have caught the regression.
	Power *Power `json:"power,omitempty"`
	// Recovery holds RTO / RPO findings, one per fault or recovery check.
	Recovery []Recovery `json:"recovery,omitempty"`
	// Breakers holds what the circuit breakers did, one per caller edge.
	Breakers []Breaker `json:"breakers,omitempty"`
	// Replication is the replication lag of each database replica (findings.go).
	Replication []Replication `json:"replication,omitempty"`
	// Recent is the scenario's recent runs from the run history, this one
	// included (recent.go; set by the caller that has a store).
	Recent []RecentRun `json:"recent,omitempty"`
	// Alerts is how the scenario's alerting rules did (alerts.go).
	Alerts []Alert `json:"alerts,omitempty"`
	// TelemetryGaps are instance series that stopped while their service
	// served on (alerts.go).
	TelemetryGaps []TelemetryGap `json:"telemetry_gaps,omitempty"`
	// Journeys are the synthetic journeys' success (journeys.go).
	Journeys []Journey `json:"journeys,omitempty"`
	// Injects are the game day's faults and release as the responders met
	// them: acknowledged and mitigated when, by whom (injects.go).
	Injects []Inject `json:"injects,omitempty"`
}

// Expectation is one check and what was observed.
type Expectation struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Passed    bool   `json:"passed"`
	Observed  string `json:"observed"`
	Threshold string `json:"threshold"`
	Detail    string `json:"detail,omitempty"`
	// Skipped says why the expectation was not judged (an interrupted run);
	// a skipped expectation neither passed nor failed.
	Skipped string `json:"skipped,omitempty"`

	// Optional numeric form of Observed and Threshold, so that reports can
	// say by how much an expectation missed: Value Op Limit must hold
	// (Op is one of <=, <, >=, >, ==), both in Unit ("%", "ms", "s", "").
	Value *float64 `json:"value,omitempty"`
	Limit *float64 `json:"limit,omitempty"`
	Op    string   `json:"op,omitempty"`
	Unit  string   `json:"unit,omitempty"`
}

// Rollout outcomes.
const (
	Promoted   = "promoted"
	RolledBack = "rolled_back"
	None       = "none"
	// Unfinished: cut short while the new version still held traffic or
	// instances.
	Unfinished = "unfinished"
)

// Rollout is what the rollout controller did.
type Rollout struct {
	Service  string `json:"service,omitempty"`
	Strategy string `json:"strategy,omitempty"`
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
	Outcome  string `json:"outcome"`
	// Trigger says why the rollback fired (empty when it did not).
	Trigger           string     `json:"trigger,omitempty"`
	StartedAt         *time.Time `json:"started_at,omitempty"`
	RegressionAt      *time.Time `json:"regression_at,omitempty"` // first canary weight > 0
	DetectedAt        *time.Time `json:"detected_at,omitempty"`
	RollbackStartedAt *time.Time `json:"rollback_started_at,omitempty"`
	CompletedAt       *time.Time `json:"completed_at,omitempty"`
	Steps             []Step     `json:"steps,omitempty"`
	// TrafficRestoredAt is when the weights were back on the old version
	// (rollback only; optional).
	TrafficRestoredAt *time.Time `json:"traffic_restored_at,omitempty"`
	// Audit holds the post-incident review's figures (optional).
	Audit *RolloutAudit `json:"audit,omitempty"`
}

// RolloutAudit is what a post-incident review asks of a rollout: how long
// detection, the decision and the restore took, and how many bad requests
// the new version served (the blast radius).
type RolloutAudit struct {
	// Seconds from the regression reaching traffic to the first trigger,
	// from the trigger to the decision (a human's under rollback: manual),
	// from the regression to traffic restored (or the flag turned off),
	// and to the rollout's completion.
	// Each is null when it did not happen (a promotion detected nothing).
	TimeToDetectS   *float64 `json:"time_to_detect_s"`
	TimeToDecideS   *float64 `json:"time_to_decide_s"`
	TimeToRestoreS  *float64 `json:"time_to_restore_s"`
	TimeToCompleteS *float64 `json:"time_to_complete_s"`
	// BadRequests are failed requests the new version served to callers
	// between the regression and the restore (or the completion);
	// NewVersionRequests all it served then. Mirrored and synthetic
	// preview requests are not counted: no caller saw them.
	BadRequests        int `json:"bad_requests"`
	NewVersionRequests int `json:"new_version_requests"`
	// Mitigation is the feature flag turned off instead of a rollback.
	Mitigation  string     `json:"mitigation,omitempty"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	MitigatedAt *time.Time `json:"mitigated_at,omitempty"`
	// Switch is a blue-green switch's effect on requests in flight.
	Switch *SwitchImpact `json:"switch,omitempty"`
}

// SwitchImpact is what an atomic blue-green switch did: requests in flight
// on the old version at the switch (they finish on the old stack, kept
// for the scale-down delay) and the new version's first second.
type SwitchImpact struct {
	At                   time.Time `json:"at"`
	InFlight             int       `json:"in_flight"`
	InFlightFailed       int       `json:"in_flight_failed"`
	NewFirstSecond       int       `json:"new_first_second"`
	NewFirstSecondFailed int       `json:"new_first_second_failed"`
}

// Step is one rollout step as it happened.
type Step struct {
	Index     int        `json:"index"`
	Weight    int        `json:"weight"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	Result    string     `json:"result"` // passed | failed | interrupted
}

// Fault is one injected fault.
type Fault struct {
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	Target     string     `json:"target"`
	InjectedAt *time.Time `json:"injected_at,omitempty"`
	RevertedAt *time.Time `json:"reverted_at,omitempty"`
	Skipped    string     `json:"skipped,omitempty"` // why it was not injected
	Error      string     `json:"error,omitempty"`
	// Detail describes the fault's parameters, e.g. "latency 300ms ±50ms"
	// (optional).
	Detail string `json:"detail,omitempty"`
}

// Traffic sums up the client samples.
type Traffic struct {
	Requests int `json:"requests"`
	Errors   int `json:"errors"`
	// Status4xx are client errors (4xx) answered to the clients; they are
	// not in Errors (availability counts 5xx and connection errors).
	Status4xx   int       `json:"status_4xx,omitempty"`
	AchievedRPS float64   `json:"achieved_rps"`
	TargetRPS   float64   `json:"target_rps"`
	LatencyMS   Latencies `json:"latency_ms"`
	// Machine is the machine's CPU while traffic ran (nil where unknown).
	Machine *MachineLoad `json:"machine,omitempty"`
}

// MachineLoad is how busy the whole machine was while traffic ran (Linux:
// /proc/stat, sampled once a second). Harness, instances and generator
// share it: in a saturated second queues grow in all of them at once.
type MachineLoad struct {
	CPUs    int `json:"cpus"`
	Seconds int `json:"seconds"`
	// SaturatedSeconds had less than 5% of all CPUs idle.
	SaturatedSeconds int     `json:"saturated_seconds"`
	BusyPercent      float64 `json:"busy_percent"` // over the sampled seconds
}

// Saturated says whether the machine was out of CPU long enough (3 s and a
// tenth of the traffic) that the run measured it rather than the system.
func (m *MachineLoad) Saturated() bool {
	return m != nil && m.SaturatedSeconds >= 3 && m.SaturatedSeconds*10 >= m.Seconds
}

// Latencies in milliseconds.
type Latencies struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Series is one per-second time series of one service's version as seen by
// its router (Source "hop") or of the clients (Source "client", Version "").
type Series struct {
	Source  string  `json:"source"`
	Service string  `json:"service"`
	Version string  `json:"version,omitempty"`
	Points  []Point `json:"points"`
}

// Point is one second of a series; T is seconds since traffic start.
type Point struct {
	T        int     `json:"t"`
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	P50MS    float64 `json:"p50_ms"`
	P99MS    float64 `json:"p99_ms"`
}

// Service is one node of the topology graph.
type Service struct {
	Name      string   `json:"name"`
	Version   string   `json:"version"`
	Replicas  int      `json:"replicas"`
	DependsOn []string `json:"depends_on,omitempty"`
}
