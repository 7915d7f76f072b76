package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An interrupted run reads as interrupted everywhere: its own verdict, and
// what it did not judge is skipped in every format, never failed.
func TestInterruptedRunSkipsUnjudged(t *testing.T) {
	r := &Result{SchemaVersion: SchemaVersion, Scenario: "s", Verdict: INTERRUPTED, Interrupted: true,
		Expectations: []Expectation{
			{Name: "availability >= 0.99", Kind: "availability", Passed: true, Observed: "100%", Threshold: ">= 99%"},
			{Name: "rollout outcome is promoted", Kind: "rollout_outcome", Observed: "none", Threshold: "promoted", Skipped: "not judged: the run was interrupted before its end"},
		}}
	var sum bytes.Buffer
	Summary(&sum, r, nil, false)
	assert.Contains(t, sum.String(), "INTERRUPTED")
	assert.Contains(t, sum.String(), "1 held, 0 failed, 1 not judged of 2 expectations")
	assert.Regexp(t, `SKIP\s+rollout outcome is promoted\s+not judged`, sum.String())
	assert.NotContains(t, sum.String(), "FAIL")

	var md, junit, html bytes.Buffer
	require.NoError(t, Markdown(&md, r))
	assert.Contains(t, md.String(), "skipped: not judged")
	assert.NotContains(t, md.String(), "FAIL")
	require.NoError(t, JUnit(&junit, r))
	assert.Contains(t, junit.String(), `<skipped message="not judged: the run was interrupted before its end"></skipped>`)
	assert.Contains(t, junit.String(), `skipped="1"`)
	assert.Equal(t, 0, strings.Count(junit.String(), "<failure"))
	require.NoError(t, HTML(&html, r))
	assert.Contains(t, html.String(), `class="badge skip"`)
	assert.Contains(t, html.String(), `banner interrupted`)
}
