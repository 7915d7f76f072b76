package verdict

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

func TestJourneySuccess(t *testing.T) {
	ev := &Evidence{Scenario: &scenarios.Scenario{}, Journeys: []reports.Journey{
		{Name: "checkout", Done: 40, Succeeded: 30, Ratio: 0.75, Failed: map[string]int{"2 POST /pay: 503": 10}},
		{Name: "browse", Done: 40, Succeeded: 40, Ratio: 1},
	}}
	x := Check(ev, &scenarios.Expectation{Kind: scenarios.ExpectJourneySuccess, Journey: "checkout", Min: 0.9}, &Findings{})
	assert.False(t, x.Passed)
	assert.Equal(t, "75.00% (30 of 40)", x.Observed)
	assert.Equal(t, "failed at: 2 POST /pay: 503 (10)", x.Detail)
	x = Check(ev, &scenarios.Expectation{Kind: scenarios.ExpectJourneySuccess, Journey: "browse", Min: 0.99}, &Findings{})
	assert.True(t, x.Passed)
	x = Check(ev, &scenarios.Expectation{Kind: scenarios.ExpectJourneySuccess, Journey: "missing", Min: 0.5}, &Findings{})
	assert.False(t, x.Passed)
	assert.Equal(t, "no journey ran", x.Observed)
}
