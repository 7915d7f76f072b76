package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const resBase = `name: t
runtime: docker
services:
  api:
    fixture: httpsvc
    replicas: 2
traffic: {entry: api, rate: 10, duration: 30s}
faults:
  - {name: cpu, kind: cpu_throttle, service: api, cpus: 0.05, at: 1s, duration: 5s}
  - {name: mem, kind: memory_limit, service: api, instance: 1, memory_mb: 64, at: 1s, duration: 5s}
`

func TestResourceFaults(t *testing.T) {
	s, err := Parse("t.yaml", []byte(resBase))
	require.NoError(t, err)
	assert.InDelta(t, 0.05, s.Faults[0].CPUs, 0)
	assert.EqualValues(t, 64, s.Faults[1].MemoryMB)
	n, err := Parse("t.yaml", []byte(strings.Replace(resBase, "kind: memory_limit, service: api, instance: 1, memory_mb: 64",
		"kind: netem, service: api, instance: 1, latency: 50ms, jitter: 5ms, loss_percent: 2, corrupt_percent: 1", 1)))
	require.NoError(t, err)
	assert.InDelta(t, 2, n.Faults[1].LossPercent, 0)
	assert.InDelta(t, 1, n.Faults[1].CorruptPercent, 0)

	for _, tc := range []struct{ name, old, new, want string }{
		{"local runtime", "runtime: docker\n", "", "faults[0].kind: cpu_throttle needs the docker runtime"},
		{"cpus too low", "cpus: 0.05", "cpus: 0.001", "faults[0].cpus: a cpu_throttle fault needs cpus of at least 0.01"},
		{"memory too low", "memory_mb: 64", "memory_mb: 2", "faults[1].memory_mb: a memory_limit fault needs memory_mb of at least 6"},
		{"cpus on memory", "memory_mb: 64", "memory_mb: 64, cpus: 1", "faults[1].cpus: applies to cpu_throttle faults"},
		{"no such instance", "instance: 1", "instance: 2", "instance 2 does not exist"},
		{"netem needs an effect", "kind: memory_limit, service: api, instance: 1, memory_mb: 64", "kind: netem, service: api, instance: 1", "faults[1].kind: a netem fault needs latency"},
		{"netem loss range", "kind: memory_limit, service: api, instance: 1, memory_mb: 64", "kind: netem, service: api, instance: 1, loss_percent: 120", "faults[1].loss_percent: 120 is not a percentage"},
		{"netem on local", "runtime: docker\n", "", "cpu_throttle needs the docker runtime"},
		{"loss on a toxic", "kind: memory_limit, service: api, instance: 1, memory_mb: 64", "kind: kill, service: api, instance: 1, loss_percent: 5", "faults[1].loss_percent: applies to netem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(resBase, tc.old, tc.new, 1)
			require.NotEqual(t, resBase, src)
			_, err := Parse("t.yaml", []byte(src))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Regexp(t, `t\.yaml:\d+:\d+: `, err.Error())
		})
	}
}
