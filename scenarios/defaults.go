package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Defaults, named so that REFERENCE.md, the schema and the code agree.
const (
	DefaultRuntime        = "local"
	DefaultVersion        = "v1"
	DefaultHealthPath     = "/healthz"
	DefaultMethod         = "GET"
	DefaultStrategy       = "canary"
	DefaultRollback       = "auto"
	DefaultDirection      = "downstream"
	DefaultReplicas       = 1
	DefaultUnhealthyAfter = 2
	DefaultHealthyAfter   = 1
	DefaultMinRequests    = 20
	DefaultFailures       = 1
	DefaultToxicity       = 1.0

	DefaultHealthInterval = Duration(time.Second)
	DefaultHealthTimeout  = Duration(time.Second)
	DefaultStartTimeout   = Duration(30 * time.Second)
	DefaultTrafficTimeout = Duration(2 * time.Second)
	DefaultStartAt        = Duration(5 * time.Second)
	DefaultInterval       = Duration(time.Second)
	DefaultWindow         = Duration(5 * time.Second)
)

// ApplyDefaults fills every unset field with its default. Zero means unset
// here; Parse keeps the zeros a file writes where zero is a value of its
// own (zeros.go: start_at, error_margin, latency_margin, scale_down_delay).
// Parse calls it; call it yourself on a scenario built in code before
// Validate. It is idempotent and never fails: nil entries are left for
// Validate to report.
func (s *Scenario) ApplyDefaults() {
	setStr(&s.Runtime, DefaultRuntime)
	for _, svc := range s.Services {
		if svc != nil {
			svc.applyDefaults()
		}
	}
	s.Traffic.applyDefaults()
	if r := s.Rollout; r != nil {
		r.applyStrategyDefaults(s) // rollout.go
		r.applyDefaults()
	}
	for i, f := range s.Faults {
		if f != nil {
			f.applyDefaults(i, s)
		}
	}
	s.applyDatabaseDefaults()     // types_db.go
	s.AbortIf.applyDefaults()     // abort.go
	s.SteadyState.applyDefaults() // steady.go
	for _, e := range s.Expectations {
		if e != nil {
			e.applyAnalysisDefaults(s) // validate_expect.go
			e.applySkewDefaults()      // skew.go
			setStr(&e.Name, e.defaultName())
		}
	}
}

func setStr(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

func setInt(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

func setDur(p *Duration, v Duration) {
	if *p == 0 {
		*p = v
	}
}

func (svc *Service) applyDefaults() {
	setInt(&svc.Replicas, DefaultReplicas)
	setStr(&svc.Version, DefaultVersion)
	h := &svc.Health
	if h.HTTP == "" && !h.TCP {
		// Fixtures serve /healthz; an arbitrary program or image may not
		// speak HTTP at all, but it listens.
		if svc.Fixture != "" {
			h.HTTP = DefaultHealthPath
		} else {
			h.TCP = true
		}
	}
	setDur(&h.Interval, DefaultHealthInterval)
	setDur(&h.Timeout, DefaultHealthTimeout)
	setInt(&h.UnhealthyAfter, DefaultUnhealthyAfter)
	setInt(&h.HealthyAfter, DefaultHealthyAfter)
	setDur(&svc.StartTimeout, DefaultStartTimeout)
}

func (t *Traffic) applyDefaults() {
	if len(t.Paths) == 0 {
		t.Paths = []string{"/"}
	}
	setStr(&t.Method, DefaultMethod)
	setDur(&t.Timeout, DefaultTrafficTimeout)
}

func (r *Rollout) applyDefaults() {
	setStr(&r.Strategy, DefaultStrategy)
	setStr(&r.Rollback, DefaultRollback)
	setInt(&r.Replicas, DefaultReplicas)
	setDur(&r.StartAt, DefaultStartAt)
	r.Analysis.applyDefaults()
	for _, st := range r.Steps {
		if st == nil {
			continue
		}
		if st.Analysis == nil {
			a := r.Analysis
			st.Analysis = &a
			continue
		}
		st.Analysis.inherit(r.Analysis)
	}
}

func (a *Analysis) applyDefaults() {
	setDur(&a.Interval, DefaultInterval)
	setDur(&a.Window, DefaultWindow)
	setInt(&a.MinRequests, DefaultMinRequests)
	setInt(&a.Failures, DefaultFailures)
	a.applyJudgeDefaults() // rollout.go
}

// inherit fills what a step's own analysis leaves unset from the rollout's:
// a step that only tightens max_p99 still checks the error rate.
func (a *Analysis) inherit(from Analysis) {
	setDur(&a.Interval, from.Interval)
	setDur(&a.Window, from.Window)
	if a.MaxErrorRate == 0 {
		a.MaxErrorRate = from.MaxErrorRate
	}
	setDur(&a.MaxP99, from.MaxP99)
	setInt(&a.MinRequests, from.MinRequests)
	setInt(&a.Failures, from.Failures)
	a.inheritJudge(from) // rollout.go
}

func (f *Fault) applyDefaults(index int, s *Scenario) {
	setStr(&f.Name, f.Kind+"-"+strconv.Itoa(index))
	if slices.Contains(ToxicKinds, f.Kind) {
		setStr(&f.Direction, DefaultDirection)
		if f.Toxicity == 0 {
			f.Toxicity = DefaultToxicity
		}
	}
	if f.Kind == FaultKill && f.RestartAfter == 0 {
		// For a kill, duration is how long the instance stays down.
		f.RestartAfter = f.Duration
	}
	if f.Kind == FaultKill || f.Kind == FaultPause {
		if svc := s.Service(f.Service); svc != nil {
			setStr(&f.Version, svc.Version)
		}
	}
}

// defaultName is a readable name: "availability >= 0.95".
func (e *Expectation) defaultName() string {
	var name string
	switch e.Kind {
	case ExpectAvailability:
		name = "availability >= " + strconv.FormatFloat(e.Min, 'g', -1, 64)
	case ExpectP99Latency:
		name = "p99 latency <= " + e.Max.String()
	case ExpectRolloutOutcome:
		name = "rollout outcome is " + e.Outcome
	case ExpectRollbackWithin:
		name = "rollback within " + e.Within.String()
	case ExpectCanaryPower, ExpectSLOBurn, ExpectRTO, ExpectBreaker, ExpectRetries:
		name = e.analysisName() // validate_expect.go
	case ExpectVersionSkew:
		name = e.skewName() // skew.go
	case ExpectRPO, ExpectNoSplitBrain, ExpectReplicationLag, ExpectBackupRestore, ExpectMigration:
		name = e.databaseName() // types_db.go
	case ExpectAlertFires, ExpectAlertSilent, ExpectJourneySuccess:
		name = e.observeName() // validate_alerts.go
	default:
		name = e.Kind
	}
	switch {
	case e.To > 0:
		name += fmt.Sprintf(" during [%s, %s)", e.From, e.To)
	case e.From > 0:
		name += fmt.Sprintf(" from %s", e.From)
	}
	return name
}
