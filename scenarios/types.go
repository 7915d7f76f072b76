// Package scenarios is the scenario file format: types, Load, defaults,
// validation and the JSON Schema. It starts nothing.
package scenarios

import (
	"strings"
	"time"
)

// Scenario is one rehearsal: a topology, its traffic, a rollout, faults and
// the expectations that decide GO / NO-GO.
type Scenario struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Runtime is "local" (default) or "docker".
	Runtime string `yaml:"runtime,omitempty" json:"runtime,omitempty"`
	// Seed for every random choice of the harness; --seed overrides it.
	Seed int64 `yaml:"seed,omitempty" json:"seed,omitempty"`

	// Services in file order (the YAML mapping's order is kept).
	Services     []*Service     `yaml:"-" json:"services"`
	Traffic      Traffic        `yaml:"traffic" json:"traffic"`
	Rollout      *Rollout       `yaml:"rollout,omitempty" json:"rollout,omitempty"`
	Faults       []*Fault       `yaml:"faults,omitempty" json:"faults,omitempty"`
	Expectations []*Expectation `yaml:"expectations,omitempty" json:"expectations,omitempty"`
	// Databases and the write Ledger of stateful rehearsals (types_db.go).
	Databases map[string]*Database `yaml:"databases,omitempty" json:"databases,omitempty"`
	Ledger    *Ledger              `yaml:"ledger,omitempty" json:"ledger,omitempty"`
	// Alerts: the team's Prometheus alerting rules, evaluated over the run's
	// series and scored against its fault and regression windows
	// (validate_alerts.go, package observe).
	Alerts *Alerts `yaml:"alerts,omitempty" json:"alerts,omitempty"`
	// Journeys are synthetic multi-step user flows sent beside the traffic
	// (validate_journeys.go).
	Journeys []*Journey `yaml:"journeys,omitempty" json:"journeys,omitempty"`

	// Risk is the release's risk class for `firedrill gate`: low, medium
	// or high (validate_history.go; the policy says what each needs).
	Risk string `yaml:"risk,omitempty" json:"risk,omitempty"`
	// Compare measures the run against the scenario's last GO runs in the
	// run history (types_history.go).
	Compare *Compare `yaml:"compare,omitempty" json:"compare,omitempty"`

	// AbortIf is a safety floor: the drill stops early, verdict ABORTED,
	// when what the clients see falls below it (abort.go).
	AbortIf *AbortIf `yaml:"abort_if,omitempty" json:"abort_if,omitempty"`

	// File is the path the scenario was loaded from ("" when built in code).
	File string `yaml:"-" json:"-"`

	// src remembers where each value sits in File, so that Validate can
	// point at it; nil for a scenario built in code.
	src *source
}

// Service returns the named service, or nil.
func (s *Scenario) Service(name string) *Service {
	for _, svc := range s.Services {
		if svc != nil && svc.Name == name {
			return svc
		}
	}
	return nil
}

// Edges returns every dependency edge of the topology, in service order.
func (s *Scenario) Edges() []Edge {
	var out []Edge
	for _, svc := range s.Services {
		if svc == nil {
			continue
		}
		for _, d := range svc.DependsOn {
			out = append(out, Edge{From: svc.Name, To: d})
		}
	}
	return out
}

// Edge is a dependency A -> B; every edge has its own Toxiproxy proxy.
type Edge struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func (e Edge) String() string { return e.From + " -> " + e.To }

// Service is one service of the topology: N instances of one version behind
// a router.
type Service struct {
	Name string `yaml:"-" json:"name"`
	// Fixture names a built-in sample service ("httpsvc"); exclusive with Command and Image.
	Fixture string `yaml:"fixture,omitempty" json:"fixture,omitempty"`
	// Command is any program with its arguments. Arguments and environment
	// values are Go templates: {{.Port}}, {{.Host}}, {{.Service}},
	// {{.Version}}, {{.Instance}}, {{dep "payments"}} (host:port of the
	// dependency's proxy), {{depurl "payments"}} (http://host:port).
	Command []string `yaml:"command,omitempty" json:"command,omitempty"`
	// Image is a local container image (docker runtime).
	Image    string            `yaml:"image,omitempty" json:"image,omitempty"`
	Replicas int               `yaml:"replicas,omitempty" json:"replicas"`
	Version  string            `yaml:"version,omitempty" json:"version"`
	Env      map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
	// Args are extra arguments appended to the fixture's or command's own.
	Args      []string `yaml:"args,omitempty" json:"args,omitempty"`
	DependsOn []string `yaml:"depends_on,omitempty" json:"depends_on,omitempty"`
	Health    Health   `yaml:"health,omitempty" json:"health"`
	// StartTimeout bounds how long an instance may take to become healthy.
	StartTimeout Duration `yaml:"start_timeout,omitempty" json:"start_timeout"`
	// Port an image service listens on inside its container (docker;
	// default: the image's only EXPOSEd TCP port, else 8080).
	Port int `yaml:"port,omitempty" json:"port,omitempty"`
	// Entrypoint replaces an image's entrypoint (docker).
	Entrypoint []string `yaml:"entrypoint,omitempty" json:"entrypoint,omitempty"`

	// Requests says how the rollout judge classes this service's answers
	// (validate_requests.go): which are errors; 4xx that are not are
	// counted apart and compared between versions.
	Requests *Requests `yaml:"requests,omitempty" json:"requests,omitempty"`
	// Config is a template of a file written to each instance's directory
	// before it starts ({{.Config}} is its path): for programs that take
	// their port from a file, not their command line (command services,
	// local runtime).
	Config string `yaml:"config,omitempty" json:"config,omitempty"`
}

// Health is how the router and the runtime decide an instance is healthy.
// Exactly one of HTTP (a path) or TCP is used; the default is HTTP /healthz
// for fixtures and TCP for commands.
type Health struct {
	HTTP     string   `yaml:"http,omitempty" json:"http,omitempty"`
	TCP      bool     `yaml:"tcp,omitempty" json:"tcp,omitempty"`
	Interval Duration `yaml:"interval,omitempty" json:"interval"`
	Timeout  Duration `yaml:"timeout,omitempty" json:"timeout"`
	// UnhealthyAfter consecutive failures take an instance out of rotation.
	UnhealthyAfter int `yaml:"unhealthy_after,omitempty" json:"unhealthy_after"`
	// HealthyAfter consecutive successes bring it back.
	HealthyAfter int `yaml:"healthy_after,omitempty" json:"healthy_after"`
	// EjectAfter consecutive 5xx or transport errors eject an instance
	// from its router (passive outlier ejection; 0: off) for EjectFor
	// times its ejection count (default 5s), never more than
	// EjectMaxPercent of the service's instances at once (default 50).
	EjectAfter      int      `yaml:"eject_after,omitempty" json:"eject_after,omitempty"`
	EjectFor        Duration `yaml:"eject_for,omitempty" json:"eject_for,omitempty"`
	EjectMaxPercent int      `yaml:"eject_max_percent,omitempty" json:"eject_max_percent,omitempty"`
	// Exec is a command run inside an image service's container until it
	// exits 0, before the router's check decides (docker start-up wait).
	Exec []string `yaml:"exec,omitempty" json:"exec,omitempty"`
	// Log is a regular expression the container logs once ready (docker
	// start-up wait).
	Log string `yaml:"log,omitempty" json:"log,omitempty"`
}

// Traffic is the open-loop load sent to the entry service's router.
type Traffic struct {
	Entry string `yaml:"entry" json:"entry"`
	// Paths are requested in turn (round-robin); default ["/"].
	Paths    []string `yaml:"paths,omitempty" json:"paths"`
	Method   string   `yaml:"method,omitempty" json:"method"`
	Rate     float64  `yaml:"rate" json:"rate"`
	Duration Duration `yaml:"duration" json:"duration"`
	// Timeout per request; a timeout is a failed request.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout"`
	// Warmup is traffic sent before time zero and not counted.
	Warmup Duration `yaml:"warmup,omitempty" json:"warmup"`
}

// Rollout moves one service from its version to a new one.
type Rollout struct {
	Service string `yaml:"service" json:"service"`
	// Strategy is canary (default), blue_green, rolling or phased.
	Strategy string `yaml:"strategy,omitempty" json:"strategy"`
	// To is the new version label.
	To string `yaml:"to" json:"to"`
	// Env and Args of the new version, merged over the service's own.
	Env  map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
	Args []string          `yaml:"args,omitempty" json:"args,omitempty"`
	// Replicas of the new version (default 1 for canary and phased, the
	// service's replicas for blue_green and rolling).
	Replicas int `yaml:"replicas,omitempty" json:"replicas"`
	// StartAt is when the rollout begins, from traffic start (default 5s).
	StartAt Duration `yaml:"start_at,omitempty" json:"start_at"`
	// Steps of canary and phased rollouts (blue_green and rolling have none).
	Steps []*Step `yaml:"steps" json:"steps"`
	// Analysis is the default check for every step; a step may override it.
	Analysis Analysis `yaml:"analysis,omitempty" json:"analysis"`
	// Rollback is "auto" (default) or "manual" (a trigger raises an alert
	// and the rollback waits for Decision).
	Rollback string `yaml:"rollback,omitempty" json:"rollback"`

	// Options of the strategies (see rollout.go for defaults).
	BlueGreen *BlueGreen `yaml:"blue_green,omitempty" json:"blue_green,omitempty"`
	Rolling   *Rolling   `yaml:"rolling,omitempty" json:"rolling,omitempty"`
	Phased    *Phased    `yaml:"phased,omitempty" json:"phased,omitempty"`
	// Triggers besides analysis that roll the release back.
	Triggers *Triggers `yaml:"triggers,omitempty" json:"triggers,omitempty"`
	// Decision is the human decision a manual rollback waits for after an
	// alert (none: the alert is only raised).
	Decision *Decision `yaml:"decision,omitempty" json:"decision,omitempty"`
	// Mitigation turns a feature flag off instead of the first rollback.
	Mitigation *Mitigation `yaml:"mitigation,omitempty" json:"mitigation,omitempty"`

	// Readiness of the new version (validate_ready.go): a deploy whose
	// instances are not ready within ReadyTimeout rolls back with trigger
	// not_ready (0: ReadyTimeoutFor's default).
	ReadyTimeout Duration `yaml:"ready_timeout,omitempty" json:"ready_timeout,omitempty"`

	// Game day (validate_gameday.go): the new version on traffic is an
	// inject; the facilitator's note on it, and whether responders are told.
	Note     string `yaml:"note,omitempty" json:"note,omitempty"`
	Announce *bool  `yaml:"announce,omitempty" json:"announce,omitempty"`
}

// Step is one canary step: route Weight percent to the new version, then
// watch for Pause.
type Step struct {
	Weight   int       `yaml:"weight" json:"weight"`
	Pause    Duration  `yaml:"pause" json:"pause"`
	Analysis *Analysis `yaml:"analysis,omitempty" json:"analysis,omitempty"`
	// Gate holds the rollout after Pause until a decision approves (go on)
	// or rejects (roll back) it; analysis keeps watching meanwhile.
	Gate *Decision `yaml:"gate,omitempty" json:"gate,omitempty"`
	// LagGate holds the step until replication lag is low (types_db.go).
	LagGate *LagGate `yaml:"lag_gate,omitempty" json:"lag_gate,omitempty"`
	// JourneyGate: the step is promoted only when a synthetic journey went
	// through often enough during it (journey_gate.go).
	JourneyGate *JourneyGate `yaml:"journey_gate,omitempty" json:"journey_gate,omitempty"`
}

// BlueGreen options: a full preview stack of the new version is judged on
// preview traffic, then all traffic switches at once; the old stack stays
// for ScaleDownDelay so that a rollback is a switch back.
type BlueGreen struct {
	// Preview is the traffic the preview is judged on before the switch:
	// mirror (default: copies of live requests, responses discarded),
	// synthetic (requests of its own) or none.
	Preview string `yaml:"preview,omitempty" json:"preview"`
	// MirrorPercent of live requests are copied to the preview (default 100).
	MirrorPercent int `yaml:"mirror_percent,omitempty" json:"mirror_percent"`
	// SyntheticRate is the preview's request rate (synthetic; default 20).
	SyntheticRate float64 `yaml:"synthetic_rate,omitempty" json:"synthetic_rate"`
	// PreviewFor is how long the preview is judged (default 10s).
	PreviewFor Duration `yaml:"preview_for,omitempty" json:"preview_for"`
	// ScaleDownDelay keeps the old stack after the switch, watched by
	// analysis (default 10s).
	ScaleDownDelay Duration `yaml:"scale_down_delay,omitempty" json:"scale_down_delay"`
	// Gate holds the switch until a decision approves or rejects it.
	Gate *Decision `yaml:"gate,omitempty" json:"gate,omitempty"`
}

// Rolling options: old instances are replaced in batches, never more than
// MaxSurge above and MaxUnavailable below the replica count.
type Rolling struct {
	// MaxSurge extra instances may run during a batch (default 1 when
	// both limits are 0).
	MaxSurge int `yaml:"max_surge,omitempty" json:"max_surge"`
	// MaxUnavailable instances may be missing during a batch (default 0).
	MaxUnavailable int `yaml:"max_unavailable,omitempty" json:"max_unavailable"`
	// Pause after each batch, watched by analysis (default 5s).
	Pause Duration `yaml:"pause,omitempty" json:"pause"`
}

// Phased options: users are split into cohorts by the hash of a request
// header (or cookie), so a user stays in one cohort; each step moves
// weight percent of the cohorts to the new version.
type Phased struct {
	// Header whose value picks the cohort (default X-Request-Id).
	Header string `yaml:"header,omitempty" json:"header,omitempty"`
	// Cookie whose value picks the cohort, instead of a header.
	Cookie string `yaml:"cookie,omitempty" json:"cookie,omitempty"`
}

// Triggers are the rollback triggers besides analysis.
type Triggers struct {
	// Health fires when an instance of the new version fails its health
	// checks or is ejected (default true).
	Health *bool `yaml:"health,omitempty" json:"health,omitempty"`
	// BurnRate fires on a fast error-budget burn of the service.
	BurnRate *BurnRate `yaml:"burn_rate,omitempty" json:"burn_rate,omitempty"`
}

// BurnRate is the SRE Workbook's multi-window burn-rate alert (14.4x over
// 1h and 5m, 6x over 6h and 30m) with its windows scaled so that the 1h
// window is Window.
type BurnRate struct {
	// Objective is the SLO's share of good requests, e.g. 0.999.
	Objective float64 `yaml:"objective,omitempty" json:"objective"`
	// Window stands for the workbook's 1h (default traffic.duration/6, at
	// least 5s).
	Window Duration `yaml:"window,omitempty" json:"window"`
}

// Decision is a human decision scheduled in the scenario.
type Decision struct {
	// After is how long after the gate opened or the alert was raised the
	// decision comes.
	After Duration `yaml:"after,omitempty" json:"after"`
	// Action is approve or reject (gates), rollback or ignore (alerts).
	Action string `yaml:"action,omitempty" json:"action"`
}

// Mitigation is what a trigger does first instead of a rollback.
type Mitigation struct {
	// Flag is turned off (POST /flags/{flag}?on=false) on every instance
	// of the new version; a second trigger rolls back.
	Flag string `yaml:"flag,omitempty" json:"flag"`
}

// Analysis is the threshold check run on the canary's live samples (as seen
// by its router) every Interval while a step lasts.
type Analysis struct {
	Interval Duration `yaml:"interval,omitempty" json:"interval"`
	// Window of recent samples judged at each look (default 5s).
	Window Duration `yaml:"window,omitempty" json:"window"`
	// MaxErrorRate is the highest canary error ratio tolerated (0..1); 0 means unchecked.
	MaxErrorRate float64 `yaml:"max_error_rate,omitempty" json:"max_error_rate"`
	// MaxP99 is the highest canary p99 latency tolerated; 0 means unchecked.
	MaxP99 Duration `yaml:"max_p99,omitempty" json:"max_p99"`
	// MinRequests in the window before a verdict is taken (default 20).
	MinRequests int `yaml:"min_requests,omitempty" json:"min_requests"`
	// Failures is how many consecutive failed looks trigger the rollback (default 1).
	Failures int `yaml:"failures,omitempty" json:"failures"`

	// Judge compares the new version with the baseline (the old version
	// serving at the same time): sequential (default; an mSPRT on the error
	// rate at every look), statistical (error rate and Mann-Whitney latency
	// test once per step, at its end) or threshold (only the limits above,
	// which apply as guardrails with every judge).
	Judge string `yaml:"judge,omitempty" json:"judge"`
	// Alpha is the judge's false-alarm rate (default 0.05).
	Alpha float64 `yaml:"alpha,omitempty" json:"alpha"`
	// ErrorMargin is the tolerated absolute error-rate increase (default 0.01).
	ErrorMargin float64 `yaml:"error_margin,omitempty" json:"error_margin"`
	// LatencyMargin is the tolerated relative latency increase of the
	// statistical judge (default 0.1, i.e. 10% slower).
	LatencyMargin float64 `yaml:"latency_margin,omitempty" json:"latency_margin"`
}

// Fault kinds.
const (
	// Toxiproxy toxics on an edge.
	FaultLatency   = "latency"
	FaultBandwidth = "bandwidth"
	FaultSlowClose = "slow_close"
	FaultTimeout   = "timeout"
	FaultResetPeer = "reset_peer"
	FaultSlicer    = "slicer"
	FaultLimitData = "limit_data"
	FaultDown      = "down"  // the edge's proxy disabled
	FaultKill      = "kill"  // SIGKILL an instance; restart after RestartAfter
	FaultPause     = "pause" // SIGSTOP for the duration, then SIGCONT
	// Container faults (docker runtime only).
	FaultPartition = "partition" // cut the instance off the run network, reconnect after
	FaultStop      = "stop"      // graceful stop (SIGTERM), start again after
	FaultRestart   = "restart"   // graceful restart at the fault's instant
)

// ToxicKinds are the fault kinds that are Toxiproxy toxics.
var ToxicKinds = []string{FaultLatency, FaultBandwidth, FaultSlowClose, FaultTimeout, FaultResetPeer, FaultSlicer, FaultLimitData}

// Fault is one fault injected at At (from traffic start, or from the start of
// rollout step Step when Step > 0) for Duration, then reverted.
type Fault struct {
	Name string `yaml:"name,omitempty" json:"name"`
	Kind string `yaml:"kind" json:"kind"`
	// Edge is "A -> B" for toxics and down.
	Edge string `yaml:"edge,omitempty" json:"edge,omitempty"`
	// Direction is "downstream" (responses, B to A; default), "upstream" or "both".
	Direction string  `yaml:"direction,omitempty" json:"direction,omitempty"`
	Toxicity  float64 `yaml:"toxicity,omitempty" json:"toxicity,omitempty"`
	// Service and Instance select the target of kill and pause: Instance is
	// the instance's index within the service's current version (default 0).
	Service  string `yaml:"service,omitempty" json:"service,omitempty"`
	Instance int    `yaml:"instance,omitempty" json:"instance"`
	// Version of the targeted instance (default: the service's version).
	Version string `yaml:"version,omitempty" json:"version,omitempty"`

	At       Duration `yaml:"at" json:"at"`
	Step     int      `yaml:"step,omitempty" json:"step,omitempty"`
	Duration Duration `yaml:"duration" json:"duration"`

	// Toxic attributes.
	Latency       Duration `yaml:"latency,omitempty" json:"latency,omitempty"`               // latency
	Jitter        Duration `yaml:"jitter,omitempty" json:"jitter,omitempty"`                 // latency
	RateKBps      int64    `yaml:"rate_kbps,omitempty" json:"rate_kbps,omitempty"`           // bandwidth
	Delay         Duration `yaml:"delay,omitempty" json:"delay,omitempty"`                   // slow_close, slicer
	Timeout       Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`               // timeout, reset_peer
	AverageSize   int      `yaml:"average_size,omitempty" json:"average_size,omitempty"`     // slicer
	SizeVariation int      `yaml:"size_variation,omitempty" json:"size_variation,omitempty"` // slicer
	Bytes         int64    `yaml:"bytes,omitempty" json:"bytes,omitempty"`                   // limit_data

	// RestartAfter is how long a killed instance stays down before the
	// runtime restarts it; 0 means restart at once, "never" is -1.
	RestartAfter Duration `yaml:"restart_after,omitempty" json:"restart_after,omitempty"`

	// Database faults and actions (types_db.go): the database, the replica
	// (1..replicas; 0 = any), and a promotion's lag gate.
	Database string   `yaml:"database,omitempty" json:"database,omitempty"`
	Replica  int      `yaml:"replica,omitempty" json:"replica,omitempty"`
	LagGate  *LagGate `yaml:"lag_gate,omitempty" json:"lag_gate,omitempty"`
	// migrate: the SQL to run, and a query counting what must be zero before it.
	SQL       string `yaml:"sql,omitempty" json:"sql,omitempty"`
	VerifySQL string `yaml:"verify_sql,omitempty" json:"verify_sql,omitempty"`

	// HTTP faults (http_abort, http_delay; validate_httpfaults.go), applied
	// by the router of Service, or of Edge's dependency for requests from
	// Edge's caller. http_delay waits Delay.
	Status      int     `yaml:"status,omitempty" json:"status,omitempty"`             // http_abort: the status answered (default 503)
	Percent     float64 `yaml:"percent,omitempty" json:"percent,omitempty"`           // share of matching requests hit (default 100)
	MatchPath   string  `yaml:"match_path,omitempty" json:"match_path,omitempty"`     // only paths starting with it
	MatchHeader string  `yaml:"match_header,omitempty" json:"match_header,omitempty"` // only requests with "Name" or "Name: value"
	// Resource faults (docker runtime; validate_resources.go): limits set
	// live on an instance's container, put back at the revert.
	CPUs     float64 `yaml:"cpus,omitempty" json:"cpus,omitempty"`           // cpu_throttle: CPUs it may use (>= 0.01)
	MemoryMB int64   `yaml:"memory_mb,omitempty" json:"memory_mb,omitempty"` // memory_limit: MB of memory, no swap (>= 6)
	// netem (also latency, jitter): packets of the instance dropped or corrupted.
	LossPercent    float64 `yaml:"loss_percent,omitempty" json:"loss_percent,omitempty"`
	CorruptPercent float64 `yaml:"corrupt_percent,omitempty" json:"corrupt_percent,omitempty"`

	// Game day (validate_gameday.go): the facilitator's note on this inject,
	// and whether responders are told of it (default true).
	Note     string `yaml:"note,omitempty" json:"note,omitempty"`
	Announce *bool  `yaml:"announce,omitempty" json:"announce,omitempty"`
}

// HTTP fault kinds, applied by a router.
const (
	FaultHTTPAbort = "http_abort"
	FaultHTTPDelay = "http_delay"
)

// HTTPFaultKinds are the fault kinds a router applies.
var HTTPFaultKinds = []string{FaultHTTPAbort, FaultHTTPDelay}

// Resource fault kinds (docker runtime only).
const (
	FaultCPUThrottle = "cpu_throttle"
	FaultMemoryLimit = "memory_limit"
	FaultNetem       = "netem" // delay, loss, corruption of an instance's packets
)

// ResourceFaultKinds act on an instance's container: its limits, its network.
var ResourceFaultKinds = []string{FaultCPUThrottle, FaultMemoryLimit, FaultNetem}

// EdgeEnds splits Edge into its two service names.
func (f *Fault) EdgeEnds() (from, to string) { return ParseEdge(f.Edge) }

// Expectation kinds.
const (
	ExpectRolloutOutcome = "rollout_outcome" // Outcome: promoted | rolled_back | none
	ExpectRollbackWithin = "rollback_within" // Within: regression on traffic -> rollback completed
	ExpectAvailability   = "availability"    // Min success ratio of client requests
	ExpectP99Latency     = "p99_latency"     // Max p99 of client requests

	// Analysis expectations (issue 5): see REFERENCE.md for their keys.
	ExpectCanaryPower = "canary_power" // Min power of the canary plan against Regression
	ExpectSLOBurn     = "slo_burn"     // MaxBurn of a multi-window burn-rate alert at Objective
	ExpectRTO         = "rto"          // Max recovery time after Fault (or the rollback)
	ExpectBreaker     = "breaker"      // Service's breaker on Dependency trips, fast-fails, recloses
	ExpectRetries     = "retries"      // Service's retries to Dependency stay bounded During a fault

	// Alert rehearsal (validate_alerts.go): Alert of the alerts: rules fires
	// within Within of a fault or regression starting / never fires.
	ExpectAlertFires  = "alert_fires"
	ExpectAlertSilent = "alert_silent"
	// Journeys (validate_journeys.go): Journey's success ratio >= Min.
	ExpectJourneySuccess = "journey_success"
)

// Expectation is one check of the verdict. Window bounds it to [From, To)
// from traffic start; zero To means the end of the run.
type Expectation struct {
	Name    string   `yaml:"name,omitempty" json:"name"`
	Kind    string   `yaml:"kind" json:"kind"`
	Outcome string   `yaml:"outcome,omitempty" json:"outcome,omitempty"`
	Within  Duration `yaml:"within,omitempty" json:"within,omitempty"`
	Min     float64  `yaml:"min,omitempty" json:"min,omitempty"`
	Max     Duration `yaml:"max,omitempty" json:"max,omitempty"`
	From    Duration `yaml:"from,omitempty" json:"from,omitempty"`
	To      Duration `yaml:"to,omitempty" json:"to,omitempty"`

	// canary_power: the regression the plan must detect with power >= Min.
	Regression *Regression `yaml:"regression,omitempty" json:"regression,omitempty"`
	// slo_burn and rto: the SLO's target share of good requests.
	Objective float64 `yaml:"objective,omitempty" json:"objective,omitempty"`
	// slo_burn: the burn rate that must not hold over both Window and
	// 12 x Window at once.
	MaxBurn float64  `yaml:"max_burn,omitempty" json:"max_burn,omitempty"`
	Window  Duration `yaml:"window,omitempty" json:"window,omitempty"`
	// rto: the fault (a name or a glob such as outage-*) or "rollback"
	// whose instant recovery is measured from; Stability is how long the
	// objective must hold.
	Fault     string   `yaml:"fault,omitempty" json:"fault,omitempty"`
	Stability Duration `yaml:"stability,omitempty" json:"stability,omitempty"`
	// alert_fires, alert_silent: the alert's name in the alerts: rules file.
	Alert string `yaml:"alert,omitempty" json:"alert,omitempty"`
	// journey_success: the journey's name.
	Journey string `yaml:"journey,omitempty" json:"journey,omitempty"`
	// Service is the caller (breaker, retries) or the service whose router
	// samples are judged instead of the clients' (slo_burn, rto).
	Service    string `yaml:"service,omitempty" json:"service,omitempty"`
	Dependency string `yaml:"dependency,omitempty" json:"dependency,omitempty"`
	// During names the fault whose window breaker and retries are judged in.
	During string `yaml:"during,omitempty" json:"during,omitempty"`
	// breaker checks.
	Trips              *bool    `yaml:"trips,omitempty" json:"trips,omitempty"`
	FastFail           Duration `yaml:"fast_fail,omitempty" json:"fast_fail,omitempty"`
	MaxCallsBeforeTrip int      `yaml:"max_calls_before_trip,omitempty" json:"max_calls_before_trip,omitempty"`
	MaxCallsWhileOpen  int      `yaml:"max_calls_while_open,omitempty" json:"max_calls_while_open,omitempty"`
	MaxFastFailLatency Duration `yaml:"max_fast_fail_latency,omitempty" json:"max_fast_fail_latency,omitempty"`
	ReclosesWithin     Duration `yaml:"recloses_within,omitempty" json:"recloses_within,omitempty"`
	// retries checks.
	MaxAttemptsPerRequest int     `yaml:"max_attempts_per_request,omitempty" json:"max_attempts_per_request,omitempty"`
	MaxAmplification      float64 `yaml:"max_amplification,omitempty" json:"max_amplification,omitempty"`
	MaxPeakToMean         float64 `yaml:"max_peak_to_mean,omitempty" json:"max_peak_to_mean,omitempty"`
	MaxHerdRatio          float64 `yaml:"max_herd_ratio,omitempty" json:"max_herd_ratio,omitempty"`
	// Database expectations (types_db.go); rto with database measures writes.
	Database    string   `yaml:"database,omitempty" json:"database,omitempty"`
	MaxLost     int      `yaml:"max_lost,omitempty" json:"max_lost,omitempty"`
	MaxWindow   Duration `yaml:"max_window,omitempty" json:"max_window,omitempty"`
	MaxLag      Duration `yaml:"max_lag,omitempty" json:"max_lag,omitempty"`
	MaxLagBytes int64    `yaml:"max_lag_bytes,omitempty" json:"max_lag_bytes,omitempty"`
	// migration: the migrate action judged, the app whose old version must
	// keep serving after it, and bounds on the migration itself.
	Migration       string   `yaml:"migration,omitempty" json:"migration,omitempty"`
	App             string   `yaml:"app,omitempty" json:"app,omitempty"`
	MinAvailability float64  `yaml:"min_availability,omitempty" json:"min_availability,omitempty"`
	MaxDuration     Duration `yaml:"max_duration,omitempty" json:"max_duration,omitempty"`
	MaxLockWait     Duration `yaml:"max_lock_wait,omitempty" json:"max_lock_wait,omitempty"`
	// version_skew (skew.go): which crossings are judged (default both).
	Direction string `yaml:"direction,omitempty" json:"direction,omitempty"`
}

// Regression is the change a canary_power expectation fears; set one or
// more parts.
type Regression struct {
	// ErrorRateIncrease is an absolute increase of the error ratio (0.01 =
	// one percentage point).
	ErrorRateIncrease float64 `yaml:"error_rate_increase,omitempty" json:"error_rate_increase,omitempty"`
	// ErrorRateRatio multiplies the baseline's error ratio (2 = doubled).
	ErrorRateRatio float64 `yaml:"error_rate_ratio,omitempty" json:"error_rate_ratio,omitempty"`
	// LatencyRatio is the canary's latency over the baseline's (1.2 = 20% slower).
	LatencyRatio float64 `yaml:"latency_ratio,omitempty" json:"latency_ratio,omitempty"`
}

// Duration is a time.Duration written as "250ms", "5s", "1m30s" in files.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// ParseEdge splits "A -> B" into its ends; both are "" when s is not an edge.
func ParseEdge(s string) (from, to string) {
	a, b, ok := strings.Cut(s, "->")
	if !ok {
		return "", ""
	}
	return strings.TrimSpace(a), strings.TrimSpace(b)
}

// EntryService is traffic.entry, or (in a scenario built in code without
// one) the first service nothing depends on.
func (s *Scenario) EntryService() string {
	if s.Traffic.Entry != "" {
		return s.Traffic.Entry
	}
	dependedOn := map[string]bool{}
	for _, e := range s.Edges() {
		dependedOn[e.To] = true
	}
	for _, svc := range s.Services {
		if svc != nil && !dependedOn[svc.Name] {
			return svc.Name
		}
	}
	return ""
}
