package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSummaryPlain(t *testing.T) {
	var b bytes.Buffer
	files := map[string]string{"html": "out/x/report.html", "json": "out/x/result.json", "junit": "out/x/junit.xml"}
	Summary(&b, loadFixture(t, "nogo"), files, false)
	out := b.String()
	assert.NotContains(t, out, "\x1b[", "no ANSI codes without color")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	assert.Less(t, len(lines), 20, "short:\n%s", out)
	assert.True(t, strings.HasPrefix(lines[0], "NO-GO  checkout-canary  (2 of 4 expectations failed)"), lines[0])
	assert.Regexp(t, `^  FAIL +client error ratio +observed 0\.47%, threshold <= 0\.1%: over by 0\.37%`, lines[1])
	assert.Regexp(t, `^  FAIL +client p99 latency `, lines[2])
	assert.Regexp(t, `^  PASS +rollback completes within 30 s `, lines[3])
	assert.Contains(t, out, "rolled back, trigger analysis")
	assert.Contains(t, out, "slow-payments latency on checkout -> payments, 24.0s – 34.0s")
	assert.Contains(t, out, "8,003 requests")
	// Report paths in format order: json, junit, html.
	j, x, h := strings.Index(out, "result.json"), strings.Index(out, "junit.xml"), strings.Index(out, "report.html")
	require.True(t, j > 0 && x > j && h > x, out)
}

func TestSummaryColor(t *testing.T) {
	var b bytes.Buffer
	Summary(&b, loadFixture(t, "go"), nil, true)
	out := b.String()
	assert.Contains(t, out, ansiBold+ansiGreen+"GO"+ansiReset)
	assert.Equal(t, 3, strings.Count(out, "✓"))
	assert.NotContains(t, out, "✗")
	assert.NotContains(t, out, "reports ")
}
