package observe

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// An unannounced inject stays off what responders watch: the dashboard's
// active faults and timeline, and /metrics; the announced one shows.
func TestUnannouncedInjectHidden(t *testing.T) {
	quiet := false
	sc := &scenarios.Scenario{Name: "gd", Services: []*scenarios.Service{{Name: "api", Version: "v1"}},
		Faults: []*scenarios.Fault{{Name: "told", Kind: "latency"}, {Name: "secret", Kind: "latency", Announce: &quiet}}}
	start := time.Now()
	m := NewMetrics(sc, record.NewRecorder(start))
	for _, f := range []string{"told", "secret"} {
		m.Event(record.Event{At: start, Kind: record.EvFaultInjected, Message: f + ": +100ms", Fields: map[string]any{"fault": f}})
	}
	st := m.State()
	assert.Equal(t, []string{"told"}, st.Faults)
	var timeline []string
	for _, e := range st.Events {
		timeline = append(timeline, e.Message)
	}
	assert.Equal(t, []string{"told: +100ms"}, timeline)

	srv, err := Serve("127.0.0.1:0", m, nil)
	require.NoError(t, err)
	defer srv.Close()
	fams := scrape(t, srv.Addr())
	_, told := value(fams, "firedrill_fault_active", map[string]string{"fault": "told"})
	_, secret := value(fams, "firedrill_fault_active", map[string]string{"fault": "secret"})
	assert.True(t, told)
	assert.False(t, secret, "not on /metrics either")
}
