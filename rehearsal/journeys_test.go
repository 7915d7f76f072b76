package rehearsal

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/reports"
)

// Journeys run beside the traffic against the entry service and are
// judged by journey_success: the fake answers 200, so a journey expecting
// 200 succeeds every time and one expecting 201 never does.
func TestRunJudgesJourneys(t *testing.T) {
	sc := parse(t, `
name: fake-journeys
seed: 7
services:
  api: {fixture: httpsvc}
traffic: {entry: api, rate: 20, duration: 1s}
journeys:
  - name: browse
    rate: 10
    steps: [{path: /cart, status: 200}, {path: /item}]
  - name: pay
    rate: 5
    steps: [{path: /cart}, {method: POST, path: /pay, status: 201}]
expectations:
  - {kind: journey_success, journey: browse, min: 1}
  - {kind: journey_success, journey: pay, min: 0.5}
`)
	rt := &fakeRuntime{t: t, status: func(string, int64) int { return http.StatusOK }}
	res, dir, err := run(context.Background(), t, sc, rt)
	require.NoError(t, err)
	require.Len(t, res.Journeys, 2)
	browse, pay := res.Journeys[0], res.Journeys[1]
	assert.Equal(t, 10, browse.Done, "10 journeys/s for 1 s")
	assert.Equal(t, 10, browse.Succeeded)
	assert.Equal(t, 5, pay.Done)
	assert.Zero(t, pay.Succeeded)
	assert.Equal(t, map[string]int{"2 POST /pay: 200": 5}, pay.Failed)
	require.Len(t, res.Expectations, 2)
	assert.True(t, res.Expectations[0].Passed, res.Expectations[0].Observed)
	assert.False(t, res.Expectations[1].Passed)
	assert.Equal(t, reports.NOGO, res.Verdict)
	assert.Len(t, loadResult(t, dir).Journeys, 2)
}
