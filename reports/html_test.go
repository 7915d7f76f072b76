package reports

import (
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withFindings adds the optional analysis sections to r.
func withFindings(r *Result) *Result {
	f := func(v float64) *float64 { return &v }
	yes, no, lost := true, false, 3
	opened := r.StartedAt.Add(27 * time.Second)
	closed := r.StartedAt.Add(38 * time.Second)
	r.Analysis = &CanaryAnalysis{Service: "checkout", Baseline: "1.4.2", Canary: "1.5.0", Method: "mann-whitney u",
		Verdict: "fail", Metrics: []MetricComparison{
			{Name: "error rate", Unit: "%", Baseline: 0.2, Canary: 7.2, PValue: f(0.0004), Verdict: "fail"},
			{Name: "p99 latency", Unit: "ms", Baseline: 44, Canary: 57, PValue: f(0.21), Verdict: "pass"},
		}}
	r.Power = &Power{Method: "monte-carlo", Effect: "error rate 0.2% -> 2%", Alpha: 0.05, Power: 0.62, Target: 0.8,
		Trials: 2000, RequestsNeeded: 1900, RequestsAvailable: 1240}
	r.Recovery = []Recovery{{Name: "payments recovers", Fault: "slow-payments", Service: "checkout",
		RTOSeconds: f(4.2), RTOTargetSeconds: f(10), RPOSeconds: f(0), LostWrites: &lost, Passed: &yes}}
	r.Breakers = []Breaker{{Service: "checkout", Target: "payments", Opens: 2, FirstOpenedAt: &opened,
		LastClosedAt: &closed, FinalState: "closed", Passed: &no, Detail: "opened twice, expected once"}}
	r.ScenarioYAML = "name: checkout-canary\ntraffic: {rps: 200}\n"
	return r
}

func renderHTML(t *testing.T, r *Result) string {
	t.Helper()
	return render(t, r, "html")
}

var sectionID = regexp.MustCompile(`<(?:section|header|details) id="([a-z-]+)"`)

func sections(html string) []string {
	var ids []string
	for _, m := range sectionID.FindAllStringSubmatch(html, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestHTMLSections(t *testing.T) {
	base := []string{"verdict", "timeline", "expectations", "rollout", "faults", "traffic", "topology", "events", "run"}
	assert.Equal(t, base, sections(renderHTML(t, loadFixture(t, "sample-result"))),
		"optional sections render only with data")

	all := sections(renderHTML(t, withFindings(loadFixture(t, "sample-result"))))
	assert.Equal(t, []string{"verdict", "timeline", "expectations", "rollout", "analysis", "power", "recovery",
		"breakers", "faults", "traffic", "topology", "events", "run", "scenario"}, all)

	// Without series, events or topology, those sections go too.
	assert.Equal(t, []string{"verdict", "expectations", "run"}, sections(renderHTML(t, &Result{Scenario: "bare"})))
}

func TestHTMLFindings(t *testing.T) {
	h := renderHTML(t, withFindings(loadFixture(t, "sample-result")))
	assert.Contains(t, h, "<td>error rate</td><td class=\"num\">0.2%</td><td class=\"num\">7.2%</td><td class=\"num\">0.0004</td>")
	assert.Contains(t, h, "<strong>62%</strong> (target 80%)")
	assert.Contains(t, h, `<span style="width: 62%"></span><i style="left: 80%"></i>`)
	assert.Contains(t, h, "4.2 s <span class=\"muted\">(≤ 10 s)</span>")
	// Breaker times are relative to traffic start, which is 3 s after the run
	// start in the fixture: 27 - 3 = 24 s, 38 - 3 = 35 s.
	assert.Contains(t, h, `<td class="num">24.0s</td><td class="num">35.0s</td>`)
}

func TestHTMLNoGoBannerAboveTheFold(t *testing.T) {
	h := renderHTML(t, loadFixture(t, "sample-result"))
	banner := h[strings.Index(h, `<header id="verdict"`):strings.Index(h, "</header>")]
	assert.Contains(t, banner, `class="banner nogo"`)
	assert.Contains(t, banner, `<div class="verdict-mark">NO-GO</div>`)
	// Names each failed expectation and by how much, before anything else.
	assert.Contains(t, banner, "<strong>client error ratio</strong>: observed <b>0.47%</b>, threshold &lt;= 0.1% <span class=\"by\">over by 0.37% (4.7× the limit)</span>")
	assert.Contains(t, banner, "<strong>client p99 latency</strong>")
	assert.NotContains(t, banner, "rollback completes within 30 s", "passed expectations are not in the banner")
	assert.Less(t, strings.Index(h, "</header>"), strings.Index(h, `id="timeline"`))

	g := renderHTML(t, loadFixture(t, "go"))
	assert.Contains(t, g, `class="banner go"`)
	assert.Contains(t, g, "all 3 expectations held")

	i := renderHTML(t, loadFixture(t, "interrupted"))
	assert.Contains(t, i, `class="banner nogo"`)
	assert.Contains(t, i, "<strong>Interrupted:</strong>")
}

// networkRef finds anything that would make a browser fetch from the
// network: src/href/xlink:href to a remote URL, CSS url() or @import.
var networkRef = regexp.MustCompile(`(?i)(?:\b(?:src|href|action|poster|srcset)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//)|url\(\s*["']?\s*(?:[a-z]+:)?//|@import|<script|<link\b|<iframe|<object|<embed`)

func TestHTMLSelfContained(t *testing.T) {
	for _, name := range []string{"sample-result", "go", "interrupted"} {
		h := renderHTML(t, withFindings(loadFixture(t, name)))
		assert.Empty(t, networkRef.FindAllString(h, -1), name)
		assert.Contains(t, h, `content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`, "CSP forbids any load")
	}
	// The check finds what it is meant to find.
	for _, bad := range []string{`<img src="https://x/y.png">`, `<a href='//cdn/x'>`, `<image xlink:href="http://x">`,
		`background: url("https://x")`, `@import "x.css"`, `<script>`, `<link rel="stylesheet" href="x.css">`} {
		assert.NotEmpty(t, networkRef.FindAllString(bad, -1), bad)
	}
}

func TestHTMLCharts(t *testing.T) {
	h := renderHTML(t, loadFixture(t, "sample-result"))
	svgs := regexp.MustCompile(`(?s)<svg class="(chart|graph)".*?</svg>`).FindAllString(h, -1)
	require.Len(t, svgs, 2, "the timeline chart and the topology graph")
	for _, s := range svgs {
		assert.Contains(t, s, "viewBox=")
		assert.NotRegexp(t, `^<svg[^>]* width="[0-9.]+pt"`, s, "sized by CSS, not fixed")
		wellFormed(t, s)
	}
	chart := svgs[0]
	for _, c := range regexp.MustCompile(`(?:fill|stroke):([^;"]+)`).FindAllStringSubmatch(chart, -1) {
		assert.Regexp(t, `^(#[0-9A-Fa-f]{6}|none)$`, c[1], "every color is valid CSS")
	}
	// Labels of steps, the fault window and the rollback are drawn.
	for _, label := range []string{"step 1: 10%", "step 2: 25% ✗", "fault: slow-payments", "rollback",
		"requests/s by version of checkout", "error ratio by version of checkout", "client latency",
		"seconds since traffic start"} {
		assert.Contains(t, chart, ">"+label+"</text>")
	}
	// The legend names both versions, old first.
	assert.Regexp(t, `(?s)checkout 1\.4\.2</li>.*checkout 1\.5\.0</li>`, h)
}

func TestHTMLTopology(t *testing.T) {
	g := string(topologySVG(loadFixture(t, "sample-result")))
	wellFormed(t, g)
	assert.Equal(t, 3, strings.Count(g, `<path class="edge`), "web->checkout, checkout->payments, checkout->inventory")
	assert.Equal(t, 1, strings.Count(g, `<path class="edge hit"`))
	assert.Contains(t, g, ">slow-payments (latency)</text>")
	assert.Contains(t, g, ">1.4.2 → 1.5.0 ×3</text>")
	assert.NotContains(t, g, "pause-inventory", "a skipped fault did not hit anything")

	// Columns by depth: web (0) left of checkout (1) left of payments (2).
	x := func(name string) string {
		m := regexp.MustCompile(`<rect x="([0-9.]+)"[^>]*/><text class="name"[^>]*>` + name + `<`).FindStringSubmatch(g)
		require.NotNil(t, m, name)
		return m[1]
	}
	assert.Equal(t, []string{"14.0", "334.0", "654.0", "654.0"}, []string{x("web"), x("checkout"), x("payments"), x("inventory")})

	// A cycle does not hang and a fault on a service marks its box.
	r := &Result{Topology: []Service{{Name: "a", DependsOn: []string{"b"}}, {Name: "b", DependsOn: []string{"a"}}},
		Faults: []Fault{{Name: "kill-b", Kind: "kill", Target: "b-0", InjectedAt: &time.Time{}}}}
	c := string(topologySVG(r))
	wellFormed(t, c)
	assert.Contains(t, c, `<g class="node hit">`)
	assert.Contains(t, c, ">kill-b (kill)</text>")
}

func TestHTMLEscapes(t *testing.T) {
	r := loadFixture(t, "sample-result")
	r.Scenario = `<script>alert(1)</script>`
	r.Expectations[0].Name = `<img src=x onerror=alert(1)>`
	r.Events = append(r.Events, record.Event{At: r.EndedAt, Kind: "note", Message: `</td><script>alert(2)</script>`})
	r.Topology[0].Name = `<b onclick=x>`
	r.Faults[0].Name = `"><svg onload=alert(3)>`
	r.Error = `<iframe src=javascript:alert(4)>`
	h := renderHTML(t, r)
	for _, raw := range []string{"<script>alert", "<img src=x", "<svg onload", "<b onclick", "<iframe"} {
		if i := strings.Index(h, raw); i >= 0 {
			t.Errorf("unescaped %q in: ...%s...", raw, h[max(0, i-80):min(len(h), i+80)])
		}
	}
	assert.Contains(t, h, "&lt;script&gt;alert(1)&lt;/script&gt;")
	assert.Contains(t, h, "&lt;b onclick=x&gt;")
	wellFormed(t, string(topologySVG(r)))
}

// wellFormed parses an SVG fragment as XML.
func wellFormed(t *testing.T, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		require.NoError(t, err, "SVG is not well-formed XML")
	}
}
