package rehearsal

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/reports"
)

func TestParseCPULine(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	busy, total, ok := parseCPULine("cpu  100 5 50 800 20 3 2 20 7 0")
	require.True(t, ok)
	assert.EqualValues(t, 1000, total, "user..steal; guest is inside user")
	assert.EqualValues(t, 180, busy, "all but idle and iowait; steal is busy (the host took it)")
	for _, bad := range []string{"", "cpu0 1 2 3 4 5", "cpu 1 2 x 4 5", "intr 1 2 3 4 5", "cpu 1 2 3"} {
		_, _, ok := parseCPULine(bad)
		assert.False(t, ok, "%q", bad)
	}
}

// Seconds are counted between readings; a second with under 5% idle is
// saturated.
func TestLoadCounter(t *testing.T) {
	var c loadCounter
	c.add(0, 0) // first reading only sets the base
	steps := []struct{ busy, total uint64 }{
		{196, 200}, // 2% idle: saturated
		{190, 200}, // 5% idle: not saturated
		{100, 200}, // half idle
		{200, 200}, // no idle
	}
	var b, tot uint64
	for _, s := range steps {
		b, tot = b+s.busy, tot+s.total
		c.add(b, tot)
	}
	got := c.load(2)
	require.NotNil(t, got)
	assert.Equal(t, reports.MachineLoad{CPUs: 2, Seconds: 4, SaturatedSeconds: 2, BusyPercent: 85.8}, *got)
	c.add(0, 0) // counters reset (not expected, but never a negative second)
	assert.Equal(t, 4, c.load(2).Seconds)
	var empty loadCounter
	assert.Nil(t, empty.load(2), "no whole second: nothing to say")
}

func TestReadCPU(t *testing.T) {
	p := filepath.Join(t.TempDir(), "stat")
	require.NoError(t, os.WriteFile(p, []byte("cpu  10 0 10 70 10 0 0 0 0 0\ncpu0 5 0 5 35 5 0 0 0 0 0\n"), 0o644))
	busy, total, err := readCPU(p)
	require.NoError(t, err)
	assert.EqualValues(t, 20, busy)
	assert.EqualValues(t, 100, total)
	_, _, err = readCPU(filepath.Join(t.TempDir(), "missing"))
	assert.Error(t, err)
	if _, err := os.Stat(procStat); err == nil {
		_, total, err := readCPU(procStat)
		require.NoError(t, err, "this machine's /proc/stat")
		assert.Positive(t, total)
	}
}
