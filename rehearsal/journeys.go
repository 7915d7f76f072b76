package rehearsal

import (
	"context"
	"time"

	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/traffic"
)

// startJourneys sends the scenario's synthetic journeys to the entry
// service for as long as the traffic runs.
func (r *rehearsal) startJourneys(ctx context.Context) {
	if len(r.sc.Journeys) == 0 {
		return
	}
	var js []traffic.Journey
	for _, j := range r.sc.Journeys {
		tj := traffic.Journey{Name: j.Name, Rate: j.Rate}
		for _, s := range j.Steps {
			tj.Steps = append(tj.Steps, traffic.JourneyStep{Method: s.Method, Path: s.Path, Status: s.Status})
		}
		js = append(js, tj)
	}
	timeout := r.sc.Traffic.Timeout.D()
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	r.journeyRun = traffic.StartJourneys(ctx, r.topo.EntryURL(), js, r.sc.Traffic.Duration.D(), timeout)
}

// waitJourneys waits for the journeys in flight (before the topology
// goes down) and keeps their outcome for the result.
func (r *rehearsal) waitJourneys() {
	if r.journeyRun == nil {
		return
	}
	for _, st := range r.journeyRun.Wait() {
		j := reports.Journey{Name: st.Name, Done: st.Done, Succeeded: st.Succeeded, Failed: st.Failed}
		if st.Done > 0 {
			j.Ratio = float64(st.Succeeded) / float64(st.Done)
		}
		r.res.Journeys = append(r.res.Journeys, j)
	}
}
