package reports

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A drill refused by its steady-state check says so, not that a safety
// floor stopped it.
func TestHeadlineOfARefusedDrill(t *testing.T) {
	reason := "not in steady state: availability 93.6% over 5s < 99%, before fault kill-0 (faults[0].at) at +5s: no fault was injected"
	r := &Result{Verdict: ABORTED, Aborted: reason, SteadyState: &SteadyState{Passed: false, Message: reason}}
	assert.Equal(t, "no expectations were checked; "+reason, headline(r))
	r.SteadyState.Passed, r.Aborted = true, "availability 10.0% fell below the abort_if floor 50.0%"
	assert.Equal(t, "no expectations were checked; stopped by its safety floor: "+r.Aborted, headline(r))
}
