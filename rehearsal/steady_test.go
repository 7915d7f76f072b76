package rehearsal

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// window100 is 100 client samples with latencies 1..100 ms, the first bad
// of them failing with a 500: availability (100-bad)%, and a nearest-rank
// p99 of exactly 99 ms (the 99th of 100 sorted values).
func window100(bad int) []record.Sample {
	out := make([]record.Sample, 100)
	for i := range out {
		out[i] = record.Sample{At: int64(i) * int64(50*time.Millisecond), LatencyUS: uint32(i+1) * 1000, Status: 200, Source: record.Client}
		if i < bad {
			out[i].Status = 500
		}
	}
	return out
}

func TestSteadyCheck(t *testing.T) {
	st := &scenarios.SteadyState{MinAvailability: 0.99, MaxP99: scenarios.Duration(99 * time.Millisecond),
		Window: scenarios.Duration(5 * time.Second), MinRequests: 20}

	c := steadyCheck(window100(1), st)
	assert.True(t, c.Passed, c.Message)
	assert.Equal(t, 100, c.Requests)
	assert.InDelta(t, 0.99, c.Availability, 1e-12)
	assert.InDelta(t, 99.0, c.P99MS, 1e-9)
	assert.Equal(t, "steady state: availability 99.0% over 5s >= 99%, p99 99ms over 5s <= 99ms (100 requests)", c.Message)

	c = steadyCheck(window100(7), st)
	assert.False(t, c.Passed)
	assert.Equal(t, "not in steady state: availability 93.0% over 5s < 99%", c.Message)

	st.MaxP99 = scenarios.Duration(98 * time.Millisecond)
	c = steadyCheck(window100(0), st)
	assert.False(t, c.Passed)
	assert.Equal(t, "not in steady state: p99 99ms over 5s > 98ms", c.Message)

	// Too few requests to vouch for a steady state is not one.
	c = steadyCheck(window100(0)[:19], &scenarios.SteadyState{MinAvailability: 0.5, Window: st.Window, MinRequests: 20})
	assert.False(t, c.Passed)
	assert.Equal(t, "not in steady state: only 19 requests over 5s, fewer than min_requests 20", c.Message)
	c = steadyCheck(nil, &scenarios.SteadyState{MaxP99: st.MaxP99, Window: st.Window, MinRequests: 1})
	assert.False(t, c.Passed)
	assert.Contains(t, c.Message, "only 0 requests over 5s")
}
