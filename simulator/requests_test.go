package simulator

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// A new version answering 404 where the old one answers 200 has no error
// (4xx are not errors by default) but is rolled back: its 4xx share is
// compared with the old version's.
func TestClientErrorShareRollsBack(t *testing.T) {
	for name, ro := range map[string]*scenarios.Rollout{"canary": canary("auto"), "phased": phased()} {
		t.Run(name, func(t *testing.T) {
			m := newModel(0, 50*time.Millisecond)
			m.errRate["v1"] = 0
			m.status = map[string]int16{"v2": 404}
			out, log := runModel(t, m, ro)
			require.Equal(t, RolledBack, out.Result)
			assert.Equal(t, TriggerAnalysis, out.Trigger)
			assert.Zero(t, out.BadRequests, "no answer of v2 was an error")
			e := find(t, log, record.EvTriggerFired)
			assert.Contains(t, e.Message, "4xx share 100.0% vs 0.0% on v1")
			assert.Less(t, out.DetectedAt.Sub(out.RegressionAt), 5*time.Second, "caught in the first step")
		})
	}
}

// The same versions with 404 counted as an error (requests.errors) fail
// the error-rate guardrail, and the blast radius counts them.
func TestConfiguredErrorStatuses(t *testing.T) {
	m := newModel(0, 50*time.Millisecond)
	m.status = map[string]int16{"v2": 404}
	req := &scenarios.Requests{Errors: []string{"5xx", "404", "connection"}}
	clock := NewStepClock(t0)
	m.now = clock.Now
	log := record.NewLog(nil)
	c := &Controller{Clock: clock, Fleet: m, Router: m, Observer: m, Events: log, Rollout: canary("auto"), From: "v1",
		FromReplicas: 2, Start: t0, IsError: func(s record.Sample) bool { return req.IsError(int(s.Status), s.Err != record.ErrNone) }}
	out, err := c.Run(t.Context())
	require.NoError(t, err)
	require.Equal(t, RolledBack, out.Result)
	assert.Positive(t, out.BadRequests)
	assert.Equal(t, out.NewRequests, out.BadRequests, "every answer of v2 was a 404")
	assert.Contains(t, find(t, log, record.EvTriggerFired).Message, "error rate 100.0%")
}

// Equal 4xx shares (both versions answer some 404s) are no regression.
func TestEqualClientErrorSharesPromote(t *testing.T) {
	m := newModel(0, 50*time.Millisecond)
	m.errRate["v1"] = 0
	m.status = map[string]int16{"v1": 404, "v2": 404}
	out, _ := runModel(t, m, canary("auto"))
	assert.Equal(t, Promoted, out.Result)
}
