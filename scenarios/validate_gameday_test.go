package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGamedayScriptValidated(t *testing.T) {
	good := `name: g
services:
  api: {fixture: httpsvc, depends_on: [db]}
  db: {fixture: httpsvc}
traffic: {entry: api, rate: 10, duration: 20s}
rollout:
  service: api
  to: v2
  steps: [{weight: 50, pause: 5s}]
  note: the release everyone expects
faults:
  - name: slow-db
    kind: latency
    edge: api -> db
    latency: 100ms
    at: 5s
    duration: 5s
    note: do they look past the release?
    announce: false
`
	sc, err := Parse("g.yaml", []byte(good))
	require.NoError(t, err)
	require.NoError(t, sc.Validate())
	assert.False(t, Announced(sc.Faults[0].Announce))
	assert.True(t, Announced(sc.Rollout.Announce), "announced unless said otherwise")
	assert.Equal(t, "do they look past the release?", sc.Faults[0].Note)

	bad := strings.Replace(good, "name: slow-db", "name: rollout", 1)
	bad = strings.Replace(bad, "note: do they look past the release?", `note: "   "`, 1)
	bad = strings.Replace(bad, "announce: false", "announce: maybe", 1)
	sc, err = Parse("g.yaml", []byte(bad))
	if err == nil {
		err = sc.Validate()
	}
	require.Error(t, err)
	assert.Contains(t, err.Error(), `faults[0].name: "rollout" is what the rollout's inject is called`)
	assert.Contains(t, err.Error(), "g.yaml:19:15: ", "announce must be a bool")

	bad = strings.Replace(good, "announce: false", "", 1)
	bad = strings.Replace(bad, "note: do they look past the release?", `note: "   "`, 1)
	bad = strings.Replace(bad, "note: the release everyone expects", "note: "+strings.Repeat("x", 501), 1)
	sc, err = Parse("g.yaml", []byte(bad))
	if err == nil {
		err = sc.Validate()
	}
	require.Error(t, err)
	assert.Contains(t, err.Error(), "g.yaml:18:11: faults[0].note: is blank")
	assert.Contains(t, err.Error(), "rollout.note: is 501 characters")
}
