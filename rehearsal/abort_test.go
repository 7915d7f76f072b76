package rehearsal

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

func TestFloorCheck(t *testing.T) {
	a := &scenarios.AbortIf{AvailabilityBelow: 0.5, MinRequests: 4}
	ok, bad := record.Sample{Status: 200}, record.Sample{Status: 503}
	_, _, breached := floorCheck([]record.Sample{bad, bad, bad}, a)
	assert.False(t, breached, "3 requests are fewer than min_requests")
	avail, n, breached := floorCheck([]record.Sample{ok, bad, bad, bad}, a)
	assert.True(t, breached)
	assert.Equal(t, 0.25, avail)
	assert.Equal(t, 4, n)
	_, _, breached = floorCheck([]record.Sample{ok, ok, bad, bad}, a)
	assert.False(t, breached, "exactly at the floor is not below it")
	_, _, breached = floorCheck(nil, a)
	assert.False(t, breached)
}
