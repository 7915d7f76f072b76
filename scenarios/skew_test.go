package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVersionSkewDefaultsAndDirections(t *testing.T) {
	s, err := Parse("t.yaml", []byte(withRollout+`expectations:
  - {kind: version_skew, direction: new_to_old}
  - {kind: version_skew, direction: new_to_old, min: 0.9, name: loose}
`))
	require.NoError(t, err)
	e := s.Expectations[0]
	assert.Equal(t, DefaultSkewMin, e.Min)
	assert.Equal(t, "version skew: new version -> old callees succeed >= 0.99", e.Name)
	assert.Equal(t, []string{SkewNewToOld}, SkewDirectionsOf(e.Direction))
	assert.Equal(t, []string{SkewOldToNew, SkewNewToOld}, SkewDirectionsOf(""))
	assert.Equal(t, 0.9, s.Expectations[1].Min)

	// b rolls out: a calls it, b calls nothing.
	s, err = Parse("t.yaml", []byte(strings.Replace(withRollout, "service: a", "service: b", 1)+"expectations:\n  - {kind: version_skew, direction: old_to_new}\n"))
	require.NoError(t, err)
	assert.Equal(t, SkewOldToNew, s.Expectations[0].Direction)
}

func TestVersionSkewInvalid(t *testing.T) {
	cases := []struct{ name, yaml, at, msg string }{
		{"both, but nobody calls a", withRollout + "expectations:\n  - {kind: version_skew}\n",
			"{kind: version_skew", "no service calls a, so no old caller can reach its new version"},
		{"b calls nothing", strings.Replace(withRollout, "service: a", "service: b", 1) + "expectations:\n  - {kind: version_skew, direction: new_to_old}\n",
			"new_to_old}", "b calls no other service, so its new version has no old callee"},
		{"no rollout", base + "expectations:\n  - {kind: version_skew}\n",
			"version_skew}", "version_skew needs a rollout"},
		{"unknown direction", withRollout + "expectations:\n  - {kind: version_skew, direction: sideways}\n",
			"sideways", `"sideways"`},
		{"min out of range", withRollout + "expectations:\n  - {kind: version_skew, direction: new_to_old, min: 2}\n",
			"2}", "lowest success ratio of crossing requests"},
		{"direction on another kind", withRollout + "expectations:\n  - {kind: availability, min: 0.9, direction: both}\n",
			"both}", "direction: applies to version_skew expectations, not availability"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { requireErrorAt(t, tc.yaml, tc.at, tc.msg) })
	}
}
