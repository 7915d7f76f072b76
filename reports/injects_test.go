package reports

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
)

// Known windows: a fault 8s..14s, the release 4s..14.6s (rolled back after
// a rejection); acknowledgements named, unnamed, early and late.
func TestInjectTimings(t *testing.T) {
	z := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return z.Add(time.Duration(s * float64(time.Second))) }
	p := func(s float64) *time.Time { x := at(s); return &x }
	specs := []InjectSpec{
		{Name: "slow-payments", Kind: "latency", Note: "quiet", Announced: false, Start: at(8), End: p(14), EndedBy: "scheduled revert"},
		{Name: "rollout", Kind: KindRollout, Announced: true, Start: at(4), End: p(14.6), EndedBy: "rollback (trigger gate_rejected)"},
		{Name: "never-acked", Kind: "kill", Start: at(20), End: p(21), EndedBy: "scheduled revert"},
	}
	ack := func(s float64, by, inject string) record.Event {
		return record.Event{At: at(s), Kind: EvAcknowledged, Fields: map[string]any{"by": by, "inject": inject}}
	}
	events := []record.Event{
		ack(3, "early", ""),               // before anything: covers nothing
		ack(5.5, "dave", "rollout"),       // named: the release at 1.5s
		ack(7.9, "erin", "slow-payments"), // named, before it started: nothing
		ack(10.25, "carol", ""),           // unnamed: whatever is under way (both)
		{At: at(12), Kind: "gate_rejected", Fields: map[string]any{"by": "live: alice", "step": 1}},
		ack(22, "late", ""), // after never-acked ended: unnamed does not reach back
	}
	got := Injects(specs, events)
	require.Len(t, got, 3)

	fault := got[0]
	require.NotNil(t, fault.TimeToAcknowledgeS)
	assert.InDelta(t, 2.25, *fault.TimeToAcknowledgeS, 1e-9)
	assert.Equal(t, "carol", fault.AcknowledgedBy)
	assert.False(t, fault.Announced)
	require.NotNil(t, fault.TimeToMitigateS)
	assert.InDelta(t, 6, *fault.TimeToMitigateS, 1e-9)
	assert.Equal(t, "scheduled revert", fault.MitigatedBy, "the rejection rolled the release back, not the fault")

	release := got[1]
	require.NotNil(t, release.TimeToAcknowledgeS)
	assert.InDelta(t, 1.5, *release.TimeToAcknowledgeS, 1e-9)
	assert.Equal(t, "dave", release.AcknowledgedBy)
	assert.Equal(t, "rollback (trigger gate_rejected) after gate_rejected by live: alice", release.MitigatedBy)
	assert.InDelta(t, 10.6, *release.TimeToMitigateS, 1e-9)
	assert.Len(t, release.Actions, 3, "dave's and carol's acknowledgements and alice's rejection")

	assert.Nil(t, got[2].TimeToAcknowledgeS, "nobody acknowledged it")
	assert.Nil(t, got[2].AcknowledgedAt)
	assert.InDelta(t, 1, *got[2].TimeToMitigateS, 1e-9)

	spec := InjectSpec{Name: "rollout", Kind: KindRollout, Start: at(4)}
	promoted := Injects([]InjectSpec{spec}, events)
	assert.Nil(t, promoted[0].MitigatedAt, "a promoted release is never mitigated")
	assert.True(t, spec.Covers(at(100), ""), "and stays under way")
}
