package scenarios

import (
	"fmt"
	"slices"
	"time"
)

// RolloutDuration is how long the rollout takes from traffic start when no
// step fails: start_at plus every step's pause (and gate), or what the
// strategy waits for (blue_green's preview and scale-down delay, rolling's
// pause per batch). Zero without a rollout.
func (s *Scenario) RolloutDuration() time.Duration {
	if s.Rollout == nil {
		return 0
	}
	return s.Rollout.plannedDuration() // rollout.go
}

// IsEdgeFault reports whether the fault acts on a dependency edge (toxics
// and down) rather than on an instance (kill and pause).
func (f *Fault) IsEdgeFault() bool {
	return f.Kind == FaultDown || slices.Contains(ToxicKinds, f.Kind)
}

// Target says what the fault acts on, for plans and reports:
// "checkout -> payments" for an edge, "service payments instance 0 (v1)"
// for an instance.
func (f *Fault) Target() string {
	if f.IsDatabaseFault() {
		return f.dbTarget() // types_db.go
	}
	if slices.Contains(HTTPFaultKinds, f.Kind) && f.Service != "" {
		return "service " + f.Service
	}
	if f.IsEdgeFault() || (f.Service == "" && f.Edge != "") {
		from, to := ParseEdge(f.Edge)
		if from == "" && to == "" {
			return f.Edge
		}
		return Edge{From: from, To: to}.String()
	}
	t := fmt.Sprintf("service %s instance %d", f.Service, f.Instance)
	if f.Version != "" {
		t += " (" + f.Version + ")"
	}
	return t
}
