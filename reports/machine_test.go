package reports

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The traffic line says when the machine ran out of CPU for long enough,
// and only then.
func TestTrafficLineNamesASaturatedMachine(t *testing.T) {
	base := Traffic{Requests: 15000, Errors: 9000, AchievedRPS: 1000, TargetRPS: 1000}
	for _, c := range []struct {
		m    *MachineLoad
		want bool
	}{
		{nil, false},
		{&MachineLoad{CPUs: 2, Seconds: 15, SaturatedSeconds: 12, BusyPercent: 97.5}, true},
		{&MachineLoad{CPUs: 2, Seconds: 15, SaturatedSeconds: 2, BusyPercent: 60}, false},   // a blip
		{&MachineLoad{CPUs: 2, Seconds: 600, SaturatedSeconds: 30, BusyPercent: 40}, false}, // under a tenth
		{&MachineLoad{CPUs: 2, Seconds: 30, SaturatedSeconds: 3, BusyPercent: 50}, true},
	} {
		tr := base
		tr.Machine = c.m
		line := trafficLine(tr)
		assert.Equal(t, c.want, strings.Contains(line, "MACHINE SATURATED"), "%+v: %s", c.m, line)
	}
	tr := base
	tr.Machine = &MachineLoad{CPUs: 2, Seconds: 15, SaturatedSeconds: 12, BusyPercent: 97.5}
	assert.Contains(t, trafficLine(tr), "no idle CPU in 12 of 15 s (2 CPUs, 98% busy)")
}
