package cluster

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestInstanceSeed(t *testing.T) {
	assert.Equal(t, InstanceSeed(7, "api-v1-0"), InstanceSeed(7, "api-v1-0"), "fixed by the run seed and the name")
	seen := map[int64]string{}
	for _, seed := range []int64{0, 1, 2, 3, 42} {
		for _, name := range []string{"api-v1-0", "api-v1-1", "api-v2-0"} {
			s := InstanceSeed(seed, name)
			_, dup := seen[s]
			assert.False(t, dup, "seed %d %s collides with %s", seed, name, seen[s])
			seen[s] = name
		}
	}
	// Neighbouring run seeds must not give neighbouring instance seeds:
	// about half of the 64 bits differ (SplitMix64's avalanche).
	diff := InstanceSeed(1, "api-v1-0") ^ InstanceSeed(2, "api-v1-0")
	n := 0
	for ; diff != 0; diff &= diff - 1 {
		n++
	}
	assert.Greater(t, n, 16)
}
