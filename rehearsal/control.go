package rehearsal

import (
	"fmt"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/rehearsal/control"
	"github.com/firedrill/firedrill/simulator"
)

// serveDecisions returns the desk the controller takes live decisions
// from and, when the run has a rollout and Config.Control asks, serves it
// on the control endpoint from before traffic starts; stop ends it.
func (r *rehearsal) serveDecisions() (desk *simulator.Desk, stop func()) {
	desk = r.cfg.Desk
	if (r.sc.Rollout == nil && len(r.sc.Faults) == 0) || !r.cfg.Control { // faults: acknowledgements
		return desk, func() {}
	}
	if desk == nil {
		desk = simulator.NewDesk()
	}
	stop, err := control.Serve(desk, control.Info{RunID: r.runID, Scenario: r.sc.Name, OutDir: r.dir, Started: time.Now().UTC()}, r.acknowledge)
	if err != nil {
		// The scheduled decisions still hold: the rehearsal goes on.
		r.events.Add(record.Event{Kind: control.EvEndpoint, Message: "no live decisions in this run: " + err.Error(),
			Fields: map[string]any{"run_id": r.runID, "error": err.Error()}})
		return desk, func() {}
	}
	r.events.Add(record.Event{Kind: control.EvEndpoint, Message: fmt.Sprintf("live decisions: firedrill approve|reject|decide %s; acknowledgements: firedrill ack %s", r.runID, r.runID),
		Fields: map[string]any{"run_id": r.runID}})
	return desk, stop
}
