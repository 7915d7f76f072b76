package scenarios

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJourneysValidated(t *testing.T) {
	good := `name: j
services:
  api: {fixture: httpsvc}
traffic: {entry: api, rate: 10, duration: 5s}
journeys:
  - name: checkout
    rate: 2
    steps: [{path: /cart, status: 200}, {method: POST, path: /pay, status: 201}]
expectations:
  - {kind: journey_success, journey: checkout, min: 0.99}
`
	sc, err := Parse("j.yaml", []byte(good))
	require.NoError(t, err)
	require.NoError(t, sc.Validate())
	assert.Equal(t, "journey checkout succeeds >= 0.99", sc.Expectations[0].Name)

	bad := `name: j
services:
  api: {fixture: httpsvc}
traffic: {entry: api, rate: 10, duration: 5s}
journeys:
  - name: checkout
    rate: 0
    steps: [{path: cart}, {method: FETCH, path: /pay, status: 42}]
expectations:
  - {kind: journey_success, journey: chekout, min: 0.99}
`
	sc, err = Parse("j.yaml", []byte(bad))
	if err == nil {
		err = sc.Validate()
	}
	require.Error(t, err)
	for _, want := range []string{
		"j.yaml:7:11: journeys[0].rate: must be above 0",
		"journeys[0].steps[0].path: must start with /",
		`journeys[0].steps[1].method: unknown method "FETCH"`,
		"journeys[0].steps[1].status: 42 is not an HTTP status",
		`expectations[0].journey: "chekout" is not a journey of this scenario; did you mean "checkout"?`,
	} {
		assert.Contains(t, err.Error(), want)
	}
}
