package verdict

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// countSkew sorts hop samples by who called which version; the expectation
// needs requests in each direction it judges.
func TestVersionSkewCounting(t *testing.T) {
	rec := record.NewRecorder(time.Unix(0, 0))
	add := func(at time.Duration, src record.Source, caller, svc, ver string, status int) {
		rec.Observe(record.Observation{Source: src, Service: svc, Version: ver, Caller: caller, Intended: time.Unix(0, int64(at)), Status: status})
	}
	for i := range 4 {
		status := 200
		if i == 3 {
			status = 502
		}
		add(time.Second, record.Hop, "gateway@v1", "checkout", "v2", status) // old -> new
	}
	add(time.Second, record.Hop, "checkout@v2", "payments", "v1", 200)   // new -> old
	add(time.Second, record.Hop, "checkout@v2", "payments", "v1", 500)   // new -> old
	add(time.Second, record.Hop, "checkout@v1", "payments", "v1", 500)   // old -> old: no crossing
	add(time.Second, record.Hop, "gateway@v1", "checkout", "v1", 500)    // old -> old
	add(time.Second, record.Client, "", "gateway", "v1", 500)            // clients have no version
	add(time.Second, record.Hop, "", "checkout", "v2", 500)              // no caller header
	add(20*time.Second, record.Hop, "gateway@v1", "checkout", "v2", 500) // outside [0, 10s)

	ro := &scenarios.Rollout{Service: "checkout", To: "v2"}
	c := countSkew(rec, ro, 0, 10*time.Second)
	o2n, n2o := c[scenarios.SkewOldToNew], c[scenarios.SkewNewToOld]
	assert.Equal(t, [2]int{4, 1}, [2]int{o2n.requests, o2n.failed})
	assert.Equal(t, [2]int{2, 1}, [2]int{n2o.requests, n2o.failed})
	assert.Equal(t, "checkout@v2 -> payments@v1 1 of 2", n2o.worstPairs())

	ev := &Evidence{Scenario: &scenarios.Scenario{Rollout: ro}, Samples: rec}
	var x reports.Expectation
	versionSkew(ev, &scenarios.Expectation{Min: 0.7, Direction: scenarios.SkewOldToNew, To: scenarios.Duration(10 * time.Second)}, &x, nil)
	assert.True(t, x.Passed, "75%% >= 70%%: %s", x.Detail)
	assert.Equal(t, "old_to_new 75.00%", x.Observed)
	x = reports.Expectation{}
	versionSkew(ev, &scenarios.Expectation{Min: 0.7, To: scenarios.Duration(10 * time.Second)}, &x, nil)
	assert.False(t, x.Passed, "new_to_old is 50%%")
	require.NotNil(t, x.Value)
	assert.Equal(t, 50.0, *x.Value, "the worse direction")
	assert.Contains(t, x.Detail, "look at new_to_old first")

	x = reports.Expectation{}
	versionSkew(ev, &scenarios.Expectation{Min: 0.7, From: scenarios.Duration(30 * time.Second)}, &x, nil)
	assert.False(t, x.Passed, "nothing crossed after 30 s: nothing shows that it works")
	assert.Equal(t, "old_to_new none, new_to_old none", x.Observed)
	assert.Nil(t, x.Value, "no ratio to compare")
}
