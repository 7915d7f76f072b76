package rehearsal

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/simulator"
	"github.com/firedrill/firedrill/traffic"
)

// The journey gate of a step judges the journeys that started during it:
// it passes (an event says so) while the flow works, fails naming the
// journey when it breaks, and fails without enough journeys to judge.
func TestJourneyGateJudgesTheStep(t *testing.T) {
	var broken atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if broken.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	gate := &scenarios.JourneyGate{Journey: "browse", Min: 0.9}
	r := &rehearsal{events: record.NewLog(nil), sc: &scenarios.Scenario{
		Rollout: &scenarios.Rollout{Steps: []*scenarios.Step{{Weight: 50, JourneyGate: gate}, {Weight: 100}}}}}
	r.journeyRun = traffic.StartJourneys(context.Background(), srv.URL, []traffic.Journey{{Name: "browse", Rate: 40, Steps: []traffic.JourneyStep{{Path: "/"}}}},
		2*time.Second, time.Second)
	defer r.journeyRun.Wait()

	stepAt := func(step int) {
		r.events.Add(record.Event{Kind: record.EvStepStarted, Fields: map[string]any{"step": step, "weight": 50}})
	}
	var ge *simulator.GateError
	require.ErrorAs(t, r.journeyGate(1), &ge, "step 1 never started: nothing to judge")
	assert.Contains(t, ge.Error(), "no journey of browse ran during the step")

	stepAt(1)
	time.Sleep(600 * time.Millisecond) // ~24 journeys
	require.NoError(t, r.journeyGate(1))
	passed, ok := r.events.Find(EvJourneyGate, "", time.Time{})
	require.True(t, ok)
	assert.Contains(t, passed.Message, "journey browse succeeded 100.0%")
	assert.NoError(t, r.journeyGate(2), "step 2 has no gate")
	assert.NoError(t, r.journeyGate(3), "nor is there a step 3")

	broken.Store(true)
	stepAt(1) // the step judged from now: every journey since fails
	time.Sleep(600 * time.Millisecond)
	err := r.journeyGate(1)
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, TriggerJourney, ge.Trigger)
	assert.Equal(t, "browse", ge.Fields["journey"])
	assert.Equal(t, 0.0, ge.Fields["success_ratio"])
	assert.Contains(t, err.Error(), "journey browse succeeded 0.0%")
	assert.Contains(t, err.Error(), "below the gate's 90.0%")

	gate.MinJourneys = 1000
	err = r.journeyGate(1)
	require.True(t, errors.As(err, &ge))
	assert.Contains(t, err.Error(), "the gate needs 1000 to judge")
}
