package simulator

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/firedrill/firedrill/scenarios"
)

// Live decisions: a release owner approves or rejects an open gate, or acts
// on an alert of a manual rollback, while the rehearsal runs (the CLI's
// control endpoint and `firedrill approve RUN`). A live decision that comes
// before the scenario's scheduled one wins; the scheduled one is then the
// answer given when nobody decides in time.

// ErrNothingToDecide is a live decision that found no open gate or alert.
var ErrNothingToDecide = errors.New("nothing waits for a decision")

// Desk carries live decisions to a running Controller. The zero value is
// not usable; use NewDesk. It is safe for concurrent use.
type Desk struct{ ch chan deskRequest }

type deskRequest struct {
	action, by string
	reply      chan error
}

// NewDesk returns a desk to set as Controller.Desk.
func NewDesk() *Desk { return &Desk{ch: make(chan deskRequest)} }

// Decide hands action (approve or reject for a gate; rollback or ignore
// for an alert) to the controller and returns once it was applied, or why
// not: ErrNothingToDecide when no gate is open and no alert waits (also
// while the controller is busy between watches), or ctx's error.
func (d *Desk) Decide(ctx context.Context, action, by string) error {
	if !slices.Contains(scenarios.GateActions, action) && !slices.Contains(scenarios.AlertActions, action) {
		return fmt.Errorf("unknown decision %q: approve or reject a gate, rollback or ignore an alert", action)
	}
	q := deskRequest{action: action, by: by, reply: make(chan error, 1)}
	select {
	case d.ch <- q:
	case <-ctx.Done():
		return fmt.Errorf("%w: the rollout is not waiting for a decision now (%v)", ErrNothingToDecide, ctx.Err())
	}
	select {
	case err := <-q.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// requests is the channel the watch loop listens on (nil without a desk:
// never ready).
func (r *run) requests() <-chan deskRequest {
	if r.Desk == nil {
		return nil
	}
	return r.Desk.ch
}
