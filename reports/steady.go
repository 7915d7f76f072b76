package reports

import "time"

// SteadyState is the steady-state check made right before the run's first
// perturbation (scenario key steady_state): the clients' figures over its
// window and whether they held. When they did not, nothing was injected,
// the rollout did not start and the verdict is ABORTED.
type SteadyState struct {
	Passed bool      `json:"passed"`
	At     time.Time `json:"at"`
	// Before names the perturbation it guarded (a fault or the rollout).
	Before       string  `json:"before"`
	WindowS      float64 `json:"window_s"`
	Requests     int     `json:"requests"`
	Availability float64 `json:"availability"`
	P99MS        float64 `json:"p99_ms"`
	// Message is the sentence of the steady_state event.
	Message string `json:"message"`
}
