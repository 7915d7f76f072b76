// Package verdict judges a run's expectations. Each expectation kind has
// one checker, in a file of its own, registered by kind in one table
// (checkers below); a checker reads the run's Evidence and nothing else, so
// it can be tested without a topology. Adding an expectation kind is its
// file plus one line in the table.
package verdict

import (
	"math"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// Evidence is everything a run observed that its expectations are judged on.
type Evidence struct {
	Scenario *scenarios.Scenario
	// Seed is the run's seed (the Monte-Carlo power figures use it).
	Seed int64
	// Samples holds every request: the clients', each router's (hops) and
	// the shadow requests, timed from T0.
	Samples *record.Recorder
	// T0 is when traffic started (time zero of windows and fault instants);
	// zero when it never did. TrafficEnd is when the generator stopped.
	T0, TrafficEnd time.Time
	// Rollout is what the rollout controller did (the result's record).
	Rollout reports.Rollout
	// Faults are the scenario's faults as they happened, in file order.
	Faults []Fault
	// Databases by name; a database that never ran is missing.
	Databases map[string]*Database
	// Alerts is how the scenario's alerting rules did (package observe).
	Alerts []reports.Alert
	// Journeys are the synthetic journeys' outcomes.
	Journeys []reports.Journey
}

// Fault is one fault as it happened.
type Fault struct {
	Spec *scenarios.Fault
	// InjectedAt and RevertedAt are zero when it was not injected or not
	// reverted; Skipped or Err says why.
	InjectedAt, RevertedAt time.Time
	// ActionAt is when a database action (promote, backup, migrate) began
	// its work, after its gate (zero for other faults): the fault runner
	// stamps InjectedAt only once the action is done.
	ActionAt time.Time
	Skipped  string
	Err      error
}

// struck is when the fault struck: when an action began its work, else
// when it was injected (zero: never).
func (f Fault) struck() time.Time {
	if f.InjectedAt.IsZero() {
		return time.Time{}
	}
	if !f.ActionAt.IsZero() {
		return f.ActionAt
	}
	return f.InjectedAt
}

// Findings are what checkers add to the result besides their expectation.
type Findings struct {
	Recovery []reports.Recovery
	Breakers []reports.Breaker
}

// Checker judges one expectation e on ev into x (whose Name and Kind are
// set), adding its findings to out.
type Checker func(ev *Evidence, e *scenarios.Expectation, x *reports.Expectation, out *Findings)

// checkers is the table of expectation kinds; it is never written.
var checkers = map[string]Checker{
	scenarios.ExpectRolloutOutcome: rolloutOutcome,  // rollout_outcome.go
	scenarios.ExpectRollbackWithin: rollbackWithin,  // rollback_within.go
	scenarios.ExpectAvailability:   availability,    // availability.go
	scenarios.ExpectP99Latency:     p99Latency,      // p99_latency.go
	scenarios.ExpectCanaryPower:    canaryPower,     // canary_power.go
	scenarios.ExpectSLOBurn:        sloBurn,         // slo_burn.go
	scenarios.ExpectRTO:            rto,             // rto.go (and write_rto.go with a database)
	scenarios.ExpectBreaker:        breaker,         // breaker.go
	scenarios.ExpectRetries:        retries,         // retries.go
	scenarios.ExpectVersionSkew:    versionSkew,     // version_skew.go
	scenarios.ExpectRPO:            onDatabase(rpo), // rpo.go
	scenarios.ExpectNoSplitBrain:   onDatabase(splitBrain),
	scenarios.ExpectReplicationLag: onDatabase(replicationLag),
	scenarios.ExpectBackupRestore:  onDatabase(backupRestore),
	scenarios.ExpectMigration:      onDatabase(migration),
	scenarios.ExpectAlertFires:     alertFires,     // alert_fires.go
	scenarios.ExpectAlertSilent:    alertSilent,    // alert_fires.go
	scenarios.ExpectJourneySuccess: journeySuccess, // journey_success.go
}

// Judgement is the verdict's part of a result.
type Judgement struct {
	Expectations []reports.Expectation
	// Power of the canary plan (nil without a canary beside a baseline).
	Power       *reports.Power
	Replication []reports.Replication
	// Recovery: each database's ledger and backup findings, then the rto
	// expectations' ones, in order.
	Recovery []reports.Recovery
	Breakers []reports.Breaker
}

// Judge checks every expectation of ev's scenario.
func Judge(ev *Evidence) Judgement {
	j := Judgement{Power: resultPower(ev), Expectations: []reports.Expectation{}}
	if !ev.T0.IsZero() {
		j.Replication, j.Recovery = databaseFindings(ev)
	}
	out := Findings{Recovery: j.Recovery}
	for _, e := range ev.Scenario.Expectations {
		j.Expectations = append(j.Expectations, Check(ev, e, &out))
	}
	j.Recovery, j.Breakers = out.Recovery, out.Breakers
	return j
}

// Check judges one expectation.
func Check(ev *Evidence, e *scenarios.Expectation, out *Findings) reports.Expectation {
	x := reports.Expectation{Name: e.Name, Kind: e.Kind}
	c := checkers[e.Kind]
	if c == nil {
		x.Observed, x.Detail = "not evaluated", "this build does not evaluate expectations of kind "+e.Kind
		return x
	}
	c(ev, e, &x, out)
	if !x.Passed && x.Value != nil && x.Limit != nil && holds(*x.Value, x.Op, *x.Limit) {
		// It failed on another of its conditions (a loss window, a
		// duplicate, a replica not streaming): figures that hold would read
		// as a shortfall in the reports.
		x.Value, x.Op, x.Limit, x.Unit = nil, "", nil, ""
	}
	return x
}

// holds reports whether value op limit is true.
func holds(value float64, op string, limit float64) bool {
	switch op {
	case "<=":
		return value <= limit
	case "<":
		return value < limit
	case ">=":
		return value >= limit
	case ">":
		return value > limit
	}
	return value == limit
}

// setNum gives reports the figures to say by how much a check missed.
func setNum(x *reports.Expectation, value float64, op string, limit float64, unit string) {
	x.Value, x.Op, x.Limit, x.Unit = &value, op, &limit, unit
}

func ptr(x float64) *float64 { return &x }

func orText(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func errText(err error) string {
	if err == nil {
		return "no reason given"
	}
	return err.Error()
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }
