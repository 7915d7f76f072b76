package reports

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNiceTicks(t *testing.T) {
	values := func(min, max float64, n int) []float64 {
		var v []float64
		for _, tk := range (niceTicks{n: n}).Ticks(min, max) {
			v = append(v, tk.Value)
		}
		return v
	}
	// 0..40 in about 8 steps: 40/8 = 5, a round step.
	assert.Equal(t, []float64{0, 5, 10, 15, 20, 25, 30, 35, 40}, values(0, 40, 8))
	// 0..290 in about 4: 72.5 rounds up to 100.
	assert.Equal(t, []float64{0, 100, 200}, values(0, 290, 4))
	// 0..17.4 in about 4: 4.35 rounds up to 5.
	assert.Equal(t, []float64{0, 5, 10, 15}, values(0, 17.4, 4))
	// 0..1.45 in about 4: 0.3625 rounds up to 0.5.
	assert.Equal(t, []float64{0, 0.5, 1}, values(0, 1.45, 4))
	assert.Equal(t, "2.5", (niceTicks{n: 4}).Ticks(0, 10)[1].Label)
	assert.Empty(t, (niceTicks{n: 4, blank: true}).Ticks(0, 10)[1].Label)

	// Ranges float64 cannot step through end in the two end ticks, not in
	// an endless loop.
	assert.Len(t, (niceTicks{n: 4}).Ticks(0, 5e-324), 2)
	assert.Len(t, (niceTicks{n: 4}).Ticks(1e18, 1e18+4096), 3) // 4096/4 = 1024, rounded up to 2000
	assert.Len(t, (niceTicks{n: 4}).Ticks(-math.MaxFloat64, math.MaxFloat64), 2)
}

func TestPickSeries(t *testing.T) {
	r := loadFixture(t, "sample-result")
	hop, client := pickSeries(r)
	require.Len(t, hop, 2)
	assert.Equal(t, []string{"1.4.2", "1.5.0"}, []string{hop[0].Version, hop[1].Version}, "old version first")
	require.Len(t, client, 1)
	assert.Equal(t, "web", client[0].Service)

	// Without a rollout, the first service with hop series is shown.
	r.Rollout = Rollout{}
	hop, _ = pickSeries(r)
	require.NotEmpty(t, hop)
	assert.Equal(t, "web", hop[0].Service)
}

func TestAnnotations(t *testing.T) {
	r := loadFixture(t, "sample-result")
	bands, marks, legend := annotations(r, Zero(r), 40)
	type span struct {
		X0, X1 float64
		Label  string
	}
	var got []span
	for _, b := range bands {
		got = append(got, span{b.x0, b.x1, b.label})
	}
	// The fixture's times, relative to traffic start: steps 5-13 and 13-19 s,
	// the latency fault 24-34 s; the skipped fault has no band.
	assert.Equal(t, []span{{5, 13, "step 1: 10%"}, {13, 19, "step 2: 25% ✗"}, {24, 34, "fault: slow-payments"}}, got)
	require.Len(t, marks, 2)
	assert.InDelta(t, 19.0, marks[0].x, 1e-9)
	assert.Equal(t, "rollback", marks[0].label)
	assert.InDelta(t, 21.4, marks[1].x, 1e-9)
	assert.Len(t, legend, 3)

	// A fault still active at the end runs to the edge of the chart.
	r.Faults[0].RevertedAt = nil
	bands, _, _ = annotations(r, Zero(r), 40)
	assert.Equal(t, 40.0, bands[2].x1)
}

func TestTimelineChartWithoutSeries(t *testing.T) {
	ch, err := timelineChart(loadFixture(t, "go"))
	require.NoError(t, err)
	assert.Nil(t, ch)
}
