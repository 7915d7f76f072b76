// Package simulator holds the rollout controller and its strategies. It works
// on a Clock, a Fleet, a Router and an Observer, so the same controller drives
// a live topology or a virtual-time model.
package simulator

import (
	"context"
	"time"
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
	// Deploy starts replicas of a version (receiving no traffic yet) and
	// returns once they are healthy.
	Deploy(ctx context.Context, service, version string, replicas int, env map[string]string, args []string) error
	// Retire drains and stops every instance of a version.
	Retire(ctx context.Context, service, version string) error
}

// Router splits a service's traffic between versions.
type Router interface {
	SetWeights(ctx context.Context, service string, w map[string]int) error
}

// WindowStats is what the analysis sees of one version over a window.
type WindowStats struct {
	Requests int
	Errors   int
	P99      time.Duration
}

// ErrorRate is Errors/Requests (0 without requests).
func (w WindowStats) ErrorRate() float64 {
	if w.Requests == 0 {
		return 0
	}
	return float64(w.Errors) / float64(w.Requests)
}

// Observer reports how a version of a service served over [from, to).
type Observer interface {
	Window(service, version string, from, to time.Time) WindowStats
}
