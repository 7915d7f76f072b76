package reports

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

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
