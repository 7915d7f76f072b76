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
	// Strategy is "canary" (the only one so far).
	Strategy string `yaml:"strategy,omitempty" json:"strategy"`
	// To is the new version label.
	To string `yaml:"to" json:"to"`
	// Env and Args of the new version, merged over the service's own.
	Env  map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
	Args []string          `yaml:"args,omitempty" json:"args,omitempty"`
	// Replicas of the new version during the canary (default 1).
	Replicas int `yaml:"replicas,omitempty" json:"replicas"`
	// StartAt is when the rollout begins, from traffic start (default 5s).
	StartAt Duration `yaml:"start_at,omitempty" json:"start_at"`
	Steps   []*Step  `yaml:"steps" json:"steps"`
	// Analysis is the default check for every step; a step may override it.
	Analysis Analysis `yaml:"analysis,omitempty" json:"analysis"`
	// Rollback is "auto" (default) or "manual" (a breach only raises an alert).
	Rollback string `yaml:"rollback,omitempty" json:"rollback"`
}

// Step is one canary step: route Weight percent to the new version, then
// watch for Pause.
type Step struct {
	Weight   int       `yaml:"weight" json:"weight"`
	Pause    Duration  `yaml:"pause" json:"pause"`
	Analysis *Analysis `yaml:"analysis,omitempty" json:"analysis,omitempty"`
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
}

// EdgeEnds splits Edge into its two service names.
func (f *Fault) EdgeEnds() (from, to string) { return ParseEdge(f.Edge) }

// Expectation kinds.
const (
	ExpectRolloutOutcome = "rollout_outcome" // Outcome: promoted | rolled_back | none
	ExpectRollbackWithin = "rollback_within" // Within: regression on traffic -> rollback completed
	ExpectAvailability   = "availability"    // Min success ratio of client requests
	ExpectP99Latency     = "p99_latency"     // Max p99 of client requests
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
