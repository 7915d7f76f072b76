package reports

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
)

func TestDebriefSaysWhoNoticedWhat(t *testing.T) {
	z := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) *time.Time { x := z.Add(time.Duration(s * float64(time.Second))); return &x }
	end := 19.0
	r := &Result{SeriesStart: &z,
		Faults:  []Fault{{Name: "slow-payments", InjectedAt: at(8), RevertedAt: at(14)}},
		Rollout: Rollout{Outcome: RolledBack, RegressionAt: at(4), CompletedAt: at(14.6)},
		Events:  []record.Event{{At: *at(9.1), Kind: "gate_approved", Fields: map[string]any{"by": "live: alice"}}},
		Alerts: []Alert{
			{Name: "CheckoutSlow", Fired: true, Firings: []AlertFiring{{StartS: 11, EndS: &end, Window: "fault slow-payments"}}},
			{Name: "ErrorPage"},
			{Name: "Noisy", Fired: true, FalseAlarms: 2, Firings: []AlertFiring{{StartS: 1}, {StartS: 25}}},
		},
	}
	got := strings.Join(debriefLines(r), "\n")
	for _, want := range []string{
		"fault slow-payments at 8.0s: CheckoutSlow fired after 3.0s; gate_approved by live: alice after 1.1s; over after 6.0s",
		"rollout at 4.0s: no alert fired; gate_approved by live: alice after 5.1s; over after 10.6s",
		"alert ErrorPage never fired",
		"alert Noisy: 2 false alarms",
	} {
		assert.Contains(t, got, want)
	}
	assert.Empty(t, debriefLines(&Result{}), "nothing to debrief without alerts or decisions")
}

// A game day's injects: the unannounced one is highlighted, with its note,
// who acknowledged it and what ended it.
func TestDebriefOfInjects(t *testing.T) {
	z := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return z.Add(time.Duration(s * float64(time.Second))) }
	p := func(s float64) *time.Time { x := at(s); return &x }
	end := 19.0
	events := []record.Event{
		{At: at(10.25), Kind: EvAcknowledged, Fields: map[string]any{"by": "live: carol", "inject": ""}},
		{At: at(12), Kind: "gate_rejected", Fields: map[string]any{"by": "live: alice"}},
	}
	r := &Result{SeriesStart: &z, Events: events,
		Alerts: []Alert{{Name: "CheckoutSlow", Fired: true, Firings: []AlertFiring{{StartS: 11, EndS: &end, Window: "fault slow-payments"}}}},
		Injects: Injects([]InjectSpec{
			{Name: "slow-payments", Kind: "latency", Note: "do they\nlook past the release?", Start: at(8), End: p(14), EndedBy: "scheduled revert"},
			{Name: "rollout", Kind: KindRollout, Announced: true, Start: at(4), End: p(14.6), EndedBy: "rollback (trigger gate_rejected)"},
			{Name: "late", Kind: "kill", Announced: true, Start: at(20), End: p(21), EndedBy: "scheduled revert"},
		}, events)}
	got := debriefLines(r)
	require.GreaterOrEqual(t, len(got), 3)
	assert.Equal(t, "UNANNOUNCED: fault slow-payments at 8.0s (note: do they look past the release?): CheckoutSlow fired after 3.0s; "+
		"acknowledged by live: carol after 2.2s; gate_rejected by live: alice after 4.0s; mitigated after 6.0s by scheduled revert", got[0])
	assert.Equal(t, "rollout at 4.0s: no alert fired; acknowledged by live: carol after 6.2s; gate_rejected by live: alice after 8.0s; "+
		"mitigated after 10.6s by rollback (trigger gate_rejected) after gate_rejected by live: alice", got[1])
	assert.Equal(t, "fault late at 20.0s: no alert fired; nobody acknowledged it; mitigated after 1.0s by scheduled revert", got[2])

	var md strings.Builder
	require.NoError(t, Markdown(&md, r))
	assert.Contains(t, md.String(), "- **UNANNOUNCED:** fault slow-payments at 8.0s")
	var page strings.Builder
	require.NoError(t, HTML(&page, r))
	assert.Contains(t, page.String(), `<li><strong class="by">UNANNOUNCED</strong> fault slow-payments at 8.0s (note: do they look past the release?)`)
}
