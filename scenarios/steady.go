package scenarios

import (
	"fmt"
	"time"
)

// SteadyState is the steady-state hypothesis of the drill (Chaos Toolkit's
// sense): what the clients see over Window right before the first
// perturbation (the earlier of the rollout's start and the first fault
// not tied to a rollout step). If it does not hold, nothing is injected,
// the rollout does not start, traffic stops and the verdict is ABORTED:
// a drill on a system already unwell would only measure that.
type SteadyState struct {
	// MinAvailability: the clients' success ratio must be at least this.
	MinAvailability float64 `yaml:"min_availability,omitempty" json:"min_availability,omitempty"`
	// MaxP99: the clients' p99 latency must be at most this.
	MaxP99      Duration `yaml:"max_p99,omitempty" json:"max_p99,omitempty"`
	Window      Duration `yaml:"window,omitempty" json:"window"`
	MinRequests int      `yaml:"min_requests,omitempty" json:"min_requests"`
}

// Defaults of steady_state (those of abort_if).
const (
	DefaultSteadyWindow      = DefaultAbortWindow
	DefaultSteadyMinRequests = DefaultAbortMinRequests
)

func (s *SteadyState) applyDefaults() {
	if s == nil {
		return
	}
	setDur(&s.Window, DefaultSteadyWindow)
	if s.MinRequests == 0 {
		s.MinRequests = DefaultSteadyMinRequests
	}
}

// FirstPerturbation is when the drill first disturbs the system, from
// traffic start: the rollout's start_at or the earliest fault at a fixed
// time, whichever is earlier (a fault tied to a rollout step comes after
// the rollout's start). ok is false when there is neither.
func (s *Scenario) FirstPerturbation() (at time.Duration, what string, ok bool) {
	if r := s.Rollout; r != nil {
		at, what, ok = r.StartAt.D(), "the rollout's start_at", true
	}
	for i, f := range s.Faults {
		if f == nil || f.Step > 0 {
			continue
		}
		if !ok || f.At.D() < at {
			at, what, ok = f.At.D(), fmt.Sprintf("fault %s (faults[%d].at)", f.Name, i), true
		}
	}
	return at, what, ok
}

func (c *checker) steadyState() {
	st := c.s.SteadyState
	if st == nil {
		return
	}
	if st.MinAvailability == 0 && st.MaxP99 == 0 {
		c.at("steady_state", "has no criterion; write min_availability (e.g. 0.99), max_p99 (e.g. 500ms) or both")
	}
	if st.MinAvailability != 0 && !within01(st.MinAvailability, true) {
		c.at("steady_state.min_availability", "%v is not a ratio from 0 to 1; write e.g. min_availability: 0.99", st.MinAvailability)
	}
	if st.MinRequests < 1 {
		c.at("steady_state.min_requests", "must be at least 1, not %d", st.MinRequests)
	}
	first, what, ok := c.s.FirstPerturbation()
	switch {
	case !ok:
		c.at("steady_state", "there is no rollout and no fault at a fixed time to check the steady state before; remove steady_state or add one")
	case st.Window < Duration(time.Second):
		c.at("steady_state.window", "%s: write a window of at least 1s, e.g. window: 5s", st.Window)
	case st.Window.D() > first:
		c.at("steady_state.window", "%s does not fit before the first perturbation, %s at %s: write a window of at most %s, or start it later",
			st.Window, what, Duration(first), Duration(first))
	}
}
