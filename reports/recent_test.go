package reports

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The HTML report shows the recent history only when the caller gave it.
func TestHTMLRecentHistory(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	at := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	r := &Result{Scenario: "q", Verdict: NOGO, StartedAt: at, EndedAt: at.Add(time.Minute)}
	var b bytes.Buffer
	require.NoError(t, HTML(&b, r))
	assert.NotContains(t, b.String(), "Recent history")

	r.Recent = []RecentRun{
		{ID: 1, StartedAt: at.Add(-48 * time.Hour), Version: "v2", Verdict: GO, DetectS: f(3), P99MS: f(100)},
		{ID: 2, StartedAt: at.Add(-24 * time.Hour), Version: "v2", Verdict: GO, P99MS: f(240)},
		{ID: 3, StartedAt: at, Version: "v2", Verdict: NOGO, DetectS: f(5), P99MS: f(170), This: true},
	}
	b.Reset()
	require.NoError(t, HTML(&b, r))
	assert.Contains(t, b.String(), "Recent history")
	assert.Contains(t, b.String(), "verdict <code>██▁</code> · detect <code>▁ █</code> · p99 <code>▁█▅</code>")
	assert.Contains(t, b.String(), "<strong>#3 (this run)</strong>")
	assert.Contains(t, b.String(), `<a href="#history">history</a>`)
}
