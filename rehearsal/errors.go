package rehearsal

import "errors"

// ErrInterrupted is returned (wrapped) when the run's context ended before
// the run did. The partial result is still returned and written.
var ErrInterrupted = errors.New("run interrupted")

// InfraError is a failure of the environment rather than of the scenario or
// the system under test: no Docker, a service that would not start, a port
// that would not bind.
type InfraError struct{ Err error }

func (e *InfraError) Error() string { return "infrastructure error: " + e.Err.Error() }
func (e *InfraError) Unwrap() error { return e.Err }
