package verdict

import (
	"fmt"
	"sort"
	"strings"

	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// journeySuccess: the share of e.Journey's journeys that succeeded is at
// least e.Min.
func journeySuccess(ev *Evidence, e *scenarios.Expectation, x *reports.Expectation, _ *Findings) {
	x.Threshold = fmt.Sprintf(">= %.2f%%", e.Min*100)
	var j *reports.Journey
	for i := range ev.Journeys {
		if ev.Journeys[i].Name == e.Journey {
			j = &ev.Journeys[i]
		}
	}
	if j == nil || j.Done == 0 {
		x.Observed, x.Detail = "no journey ran", "journey "+e.Journey+" never ran to an answer (no traffic?)"
		return
	}
	x.Observed = fmt.Sprintf("%.2f%% (%d of %d)", j.Ratio*100, j.Succeeded, j.Done)
	x.Passed = j.Ratio >= e.Min
	setNum(x, j.Ratio, ">=", e.Min, "")
	if len(j.Failed) > 0 {
		var why []string
		for k, n := range j.Failed {
			why = append(why, fmt.Sprintf("%s (%d)", k, n))
		}
		sort.Strings(why)
		x.Detail = "failed at: " + strings.Join(why, ", ")
	}
}
