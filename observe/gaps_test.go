package observe

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
)

// Two instances of api over 10 s at 10 rps each: api-b is silent from 3 s
// to 6 s (killed, then back), api-a from 8 s to the end (replaced); traffic
// to api never stops, so both are gaps. A 1 s silence is not.
func TestGapsOfInstanceSeries(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := record.NewRecorder(t0)
	for ms := 0; ms < 10_000; ms += 100 {
		at := time.Duration(ms) * time.Millisecond
		obs := func(inst string) {
			rec.Observe(record.Observation{Source: record.Hop, Service: "api", Version: "v1", Instance: inst, Intended: t0.Add(at), Latency: time.Millisecond, Status: 200})
		}
		if at < 8*time.Second {
			obs("api-a")
		}
		if at < 3*time.Second || at >= 6*time.Second {
			obs("api-b")
		}
		if at >= 8*time.Second {
			obs("api-c") // the replacement
		}
	}
	events := []record.Event{
		{At: t0.Add(2900 * time.Millisecond), Kind: record.EvInstanceStopped, Target: "api-b", Message: "killed: signal 9"},
		{At: t0.Add(5 * time.Second), Kind: record.EvInstanceStopped, Target: "api-c", Message: "unrelated"},
	}
	gaps := Gaps(rec, t0, 9, events)
	require.Len(t, gaps, 2, "%+v", gaps)
	b, a := gaps[0], gaps[1]
	assert.Equal(t, "api-b", b.Instance)
	assert.Equal(t, "v1", b.Version)
	assert.Equal(t, 3.0, b.FromS)
	require.NotNil(t, b.ToS)
	assert.Equal(t, 6.0, *b.ToS)
	assert.Equal(t, "instance_stopped: killed: signal 9", b.Cause)
	assert.Equal(t, "api-a", a.Instance)
	assert.Equal(t, 8.0, a.FromS)
	assert.Nil(t, a.ToS, "never came back")
	assert.Empty(t, a.Cause)
}

// When traffic to the service stops, its instances' silence is not a gap.
func TestNoGapWhenTrafficStops(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := record.NewRecorder(t0)
	for ms := 0; ms < 4000; ms += 100 {
		rec.Observe(record.Observation{Source: record.Hop, Service: "api", Version: "v1", Instance: "api-a", Intended: t0.Add(time.Duration(ms) * time.Millisecond), Status: 200})
	}
	assert.Empty(t, Gaps(rec, t0, 9, nil))
}
