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

func TestCompare(t *testing.T) {
	const body = `services:
  a: {fixture: httpsvc}
traffic: {entry: a, rate: 1, duration: 1s}
`
	s, err := Parse("t.yaml", []byte("name: t\ncompare: {last: 3, p99_margin: 0.2}\n"+body))
	require.NoError(t, err)
	assert.Equal(t, 3, s.Compare.Last)
	assert.Equal(t, 0.2, *s.Compare.P99Margin)
	assert.Nil(t, s.Compare.RestoreMargin)

	_, err = Parse("t.yaml", []byte("name: t\ncompare: {last: 3}\n"+body))
	assert.ErrorContains(t, err, "t.yaml:2:10: compare: compares nothing")
	_, err = Parse("t.yaml", []byte("name: t\ncompare:\n  restore_margin: -1\n"+body))
	assert.ErrorContains(t, err, "t.yaml:3:19: compare.restore_margin: is a fraction")
}
