package firedrill

import (
	"context"
	"errors"

	"github.com/firedrill/firedrill/rehearsal"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// Exit codes of the CLI, also useful to wrappers.
const (
	ExitGO          = 0
	ExitNoGo        = 1
	ExitInvalid     = 2
	ExitInfra       = 3
	ExitInterrupted = 130
)

// ErrInterrupted is returned (wrapped) when the run's context ended before
// the run did. The partial result is still returned and written.
var ErrInterrupted = rehearsal.ErrInterrupted

// InfraError is a failure of the environment rather than of the scenario or
// the system under test: no Docker, a service that would not start, a port
// that would not bind.
type InfraError = rehearsal.InfraError

// ExitCode maps a run's result and error to the CLI's exit code.
func ExitCode(res *reports.Result, err error) int {
	var infra *InfraError
	switch {
	case errors.Is(err, ErrInterrupted), errors.Is(err, context.Canceled):
		return ExitInterrupted
	case scenarios.IsInvalid(err):
		return ExitInvalid
	case errors.As(err, &infra):
		return ExitInfra
	case err != nil:
		return ExitInfra
	case res != nil && res.Verdict == reports.GO:
		return ExitGO
	}
	return ExitNoGo
}
