package traffic

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPacerOffsets(t *testing.T) {
	// Instant i of a rate-r schedule is i/r seconds after its start.
	p := pacer{rate: 3}
	assert.Equal(t, time.Duration(0), p.offset(0))
	assert.Equal(t, 333333333*time.Nanosecond, p.offset(1)) // 1/3 s, truncated
	assert.Equal(t, 666666666*time.Nanosecond, p.offset(2))
	assert.Equal(t, time.Second, p.offset(3))
	// Computed from i, so no drift after three million intervals of 1/3 s.
	assert.Equal(t, 1_000_000*time.Second, p.offset(3_000_000))
	assert.Equal(t, 100*time.Microsecond, pacer{rate: 10_000}.offset(1))
}

func TestPacerCount(t *testing.T) {
	// count(span) = ceil(span*rate): the instants 0, 1/r, ... below span.
	for _, c := range []struct {
		rate float64
		span time.Duration
		want int64
	}{
		{200, 2 * time.Second, 400},
		{3, time.Second, 3},       // 0, 1/3, 2/3
		{0.5, 3 * time.Second, 2}, // 0, 2 s
		{7, time.Second, 7},
		{1000, time.Millisecond, 1},
		{1000, 1500 * time.Microsecond, 2},
		{2000, 10 * time.Minute, 1_200_000},
		{100, 0, 0},
	} {
		assert.Equal(t, c.want, pacer{rate: c.rate}.count(c.span), "rate %v span %v", c.rate, c.span)
	}
}
