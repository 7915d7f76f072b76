package scenarios

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What init writes validates, for every strategy and runtime.
func TestInitScenarioValidates(t *testing.T) {
	for _, strategy := range InitStrategies {
		for _, runtime := range Runtimes {
			for _, svcs := range [][]string{nil, {"solo"}, {"web", "api", "db", "cache"}} {
				data, err := InitScenario(InitOptions{Strategy: strategy, Runtime: runtime, Services: svcs})
				require.NoError(t, err)
				s, err := Parse("init.yaml", data)
				require.NoError(t, err, "%s %s %v:\n%s", strategy, runtime, svcs, data)
				assert.Equal(t, runtime, s.Runtime)
				assert.NotEmpty(t, s.Expectations)
				assert.Less(t, s.RolloutDuration(), s.Traffic.Duration.D(), "the rollout ends inside the traffic")
			}
		}
	}
	_, err := InitScenario(InitOptions{Strategy: "big-bang"})
	assert.ErrorContains(t, err, "canary, bluegreen, rolling, phased")
	_, err = InitScenario(InitOptions{Services: []string{"a", "a"}})
	assert.ErrorContains(t, err, "unique")
}

func TestWarnings(t *testing.T) {
	s, err := Parse("t.yaml", []byte(base))
	require.NoError(t, err)
	require.Len(t, s.Warnings(), 1)
	assert.Contains(t, s.Warnings()[0], "no expectations: nothing is checked, so the run can only be GO")
	s, err = Parse("t.yaml", []byte(base+"expectations: [{kind: availability, min: 0.9}]\n"))
	require.NoError(t, err)
	assert.Empty(t, s.Warnings())
}
