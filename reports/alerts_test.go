package reports

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/firedrill/firedrill/record"
)

func TestTimelineShowsAlertFirings(t *testing.T) {
	z := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := 31.0
	r := &Result{SeriesStart: &z,
		Events: []record.Event{
			{At: z.Add(20 * time.Second), Kind: record.EvFaultInjected, Message: "down api"},
			{At: z.Add(40 * time.Second), Kind: record.EvFaultReverted, Message: "down api reverted"},
		},
		TelemetryGaps: []TelemetryGap{{Service: "api", Version: "v1", Instance: "api-1", FromS: 22, ToS: &end}},
		Alerts:        []Alert{{Name: "APIDown", Fired: true, Firings: []AlertFiring{{StartS: 24, EndS: &end, Window: "fault api-down"}, {StartS: 50}}}},
	}
	got := strings.Join(timelineLines(r, 10), "\n")
	want := []string{"20.0s  fault_injected", "22.0s  telemetry_gap      api-1 (api v1) stopped reporting for 9s", "24.0s  alert_firing       APIDown firing during fault api-down",
		"31.0s  alert_resolved     APIDown resolved", "40.0s  fault_reverted", "50.0s  alert_firing       APIDown firing: false alarm"}
	last := -1
	for _, w := range want {
		i := strings.Index(got, w)
		assert.Greater(t, i, last, "%q in order in\n%s", w, got)
		last = i
	}
}
