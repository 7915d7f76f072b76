// Package simulator holds the rollout controller and its strategies
// (canary, blue-green, rolling, phased). It works on a Clock, a Fleet, a
// Router and an Observer, so the same controller drives a live topology or
// a virtual-time model; capabilities only some strategies need (scaling a
// version down instance by instance, cohort routing, mirroring, feature
// flags) are optional interfaces found by type assertion.
package simulator

import (
	"context"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/record"
)

// Clock is the controller's only source of time.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// RealClock is wall-clock time.
type RealClock struct{}

func (RealClock) Now() time.Time                         { return time.Now() }
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Fleet starts and stops versions of services.
type Fleet interface {
	// Deploy starts replicas more instances of a version (receiving no
	// traffic yet) and returns once they are healthy (ready).
	Deploy(ctx context.Context, service, version string, replicas int, env map[string]string, args []string) error
	// Retire drains and stops every instance of a version.
	Retire(ctx context.Context, service, version string) error
}

// Router splits a service's traffic between versions.
type Router interface {
	SetWeights(ctx context.Context, service string, w map[string]int) error
}

// Query selects the samples of one service's router.
type Query struct {
	Service string
	Version string // "" for every version
	// Shadow selects requests no user waits for (mirrored copies and
	// synthetic preview requests) instead of the ones served to callers.
	Shadow   bool
	From, To time.Time // [From, To) by the requests' intended start
}

// Observer reports what a service's router saw.
type Observer interface {
	// Start is time zero of the samples' At offsets.
	Start() time.Time
	// Samples returns the samples matching q.
	Samples(q Query) []record.Sample
}

// InstanceScaler retires some instances of a version, oldest first, after
// draining them. Rolling needs it.
type InstanceScaler interface {
	RetireInstances(ctx context.Context, service, version string, n int) error
}

// Cohorts makes a router pick a version by the hash of a request's header
// (or cookie) value instead of at random, so that a user stays with one
// version; Order lists the versions from the first to receive cohorts to
// the last, so raising the last one's weight only moves users onto it.
type Cohorts struct {
	Header string
	Cookie string
	Order  []string
}

// CohortRouter routes by cohort. Phased needs it.
type CohortRouter interface {
	SetCohorts(ctx context.Context, service string, c Cohorts) error
}

// Mirrorer copies a share of a service's live requests to a version; the
// copies' responses are measured (Shadow samples) and discarded. A percent
// of 0 stops mirroring. Blue-green's mirror preview needs it.
type Mirrorer interface {
	SetMirror(ctx context.Context, service, version string, percent int) error
}

// SyntheticSource sends requests of its own to a version of a service
// (Shadow samples) until stop is called. Blue-green's synthetic preview
// needs it.
type SyntheticSource interface {
	StartSynthetic(ctx context.Context, service, version string, rate float64) (stop func(), err error)
}

// FlagSetter turns a feature flag on or off on every instance of a
// version. Mitigation needs it.
type FlagSetter interface {
	SetFlag(ctx context.Context, service, version, flag string, on bool) error
}

// WindowStats is what the analysis sees of one version over a window.
type WindowStats struct {
	Requests int
	Errors   int
	P99      time.Duration
	// ClientErrors are 4xx answers not counted as errors (requests.go).
	ClientErrors int
}

// ErrorRate is Errors/Requests (0 without requests).
func (w WindowStats) ErrorRate() float64 {
	if w.Requests == 0 {
		return 0
	}
	return float64(w.Errors) / float64(w.Requests)
}

func stats(s []record.Sample) WindowStats {
	sum := analysis.Summarize(s)
	return WindowStats{Requests: sum.Requests, Errors: sum.Errors, P99: sum.P99}
}
