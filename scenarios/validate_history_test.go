package scenarios

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRisk(t *testing.T) {
	const body = `services:
  a: {fixture: httpsvc}
traffic: {entry: a, rate: 1, duration: 1s}
`
	s, err := Parse("t.yaml", []byte("name: t\nrisk: high\n"+body))
	require.NoError(t, err)
	assert.Equal(t, "high", s.Risk)

	_, err = Parse("t.yaml", []byte("name: t\nrisk: extreme\n"+body))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `t.yaml:2:7: risk: unknown risk "extreme"`)
}
