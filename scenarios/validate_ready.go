package scenarios

import "time"

// Readiness of a rollout's new version.

const (
	// ReadyIntervals is how many health intervals a deploy of the new
	// version gets to be ready by default: the first check runs at once,
	// so this leaves room for a slow start and a few failed checks.
	ReadyIntervals = 5
	// MinReadyTimeout is the default bound's floor: a process on a busy
	// machine needs a moment to start whatever the health interval.
	MinReadyTimeout = 5 * time.Second
	// MinReadyTimeoutDocker is the floor on the docker runtime, where
	// creating and starting a container takes seconds under load.
	MinReadyTimeoutDocker = 15 * time.Second
)

// ReadyTimeoutFor is how long a deploy of the rollout's new version may
// take to be ready before the rollout rolls back with trigger not_ready:
// rollout.ready_timeout, else ReadyIntervals health intervals of the
// service, at least MinReadyTimeout (MinReadyTimeoutDocker on docker).
// Zero without a rollout.
func (s *Scenario) ReadyTimeoutFor() time.Duration {
	ro := s.Rollout
	if ro == nil {
		return 0
	}
	if d := ro.ReadyTimeout.D(); d > 0 {
		return d
	}
	interval := DefaultHealthInterval.D()
	if svc := s.Service(ro.Service); svc != nil && svc.Health.Interval > 0 {
		interval = svc.Health.Interval.D()
	}
	floor := MinReadyTimeout
	if s.Runtime == "docker" {
		floor = MinReadyTimeoutDocker
	}
	return max(ReadyIntervals*interval, floor)
}
