package verdict

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

func TestAlertExpectations(t *testing.T) {
	lat := func(x float64) *float64 { return &x }
	ev := &Evidence{Scenario: &scenarios.Scenario{}, Alerts: []reports.Alert{
		{Name: "InTime", Fired: true, Window: "fault db", LatencyS: lat(4), Firings: []reports.AlertFiring{{StartS: 24, Window: "fault db"}}},
		{Name: "Late", Fired: true, Window: "fault db", LatencyS: lat(16), Firings: []reports.AlertFiring{{StartS: 36, Window: "fault db"}}},
		{Name: "Never"},
		{Name: "Noisy", Fired: true, FalseAlarms: 1, Firings: []reports.AlertFiring{{StartS: 3}}},
	}}
	for _, c := range []struct {
		kind, alert string
		within      time.Duration
		pass        bool
		observed    string
	}{
		{scenarios.ExpectAlertFires, "InTime", 5 * time.Second, true, "fired 4.0s after fault db started"},
		{scenarios.ExpectAlertFires, "Late", 5 * time.Second, false, "fired 16.0s after fault db started"},
		{scenarios.ExpectAlertFires, "Late", 0, true, "fired 16.0s after fault db started"},
		{scenarios.ExpectAlertFires, "Never", 5 * time.Second, false, "never fired"},
		{scenarios.ExpectAlertFires, "Noisy", 5 * time.Second, false, "fired only outside every window (1 false alarms)"},
		{scenarios.ExpectAlertFires, "Missing", 0, false, "not evaluated"},
		{scenarios.ExpectAlertSilent, "Never", 0, true, "never fired"},
		{scenarios.ExpectAlertSilent, "Noisy", 0, false, "fired 1 times, first at +3.0s"},
	} {
		e := &scenarios.Expectation{Kind: c.kind, Alert: c.alert, Within: scenarios.Duration(c.within)}
		x := Check(ev, e, &Findings{})
		assert.Equal(t, c.pass, x.Passed, "%s %s: %s", c.kind, c.alert, x.Observed)
		assert.Equal(t, c.observed, x.Observed, "%s %s", c.kind, c.alert)
	}
}
