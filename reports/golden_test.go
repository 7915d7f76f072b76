package reports

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixtures are fixed results: a GO run, a NO-GO run (a rolled-back canary
// and a latency fault) and an interrupted run.
var fixtures = []string{"go", "nogo", "interrupted"}

func loadFixture(t *testing.T, name string) *Result {
	t.Helper()
	r, err := Load(filepath.Join("testdata", name+".json"))
	require.NoError(t, err)
	return r
}

func render(t *testing.T, r *Result, format string) string {
	t.Helper()
	b, err := Render(r, format)
	require.NoError(t, err)
	return string(b)
}

// TestGolden compares the Markdown and JUnit output of each fixture with a
// reviewed copy. Run `go test ./reports -update` after an intended change
// and review the diff.
func TestGolden(t *testing.T) {
	for _, name := range fixtures {
		for format, ext := range map[string]string{"md": ".md", "junit": ".xml"} {
			t.Run(name+"."+format, func(t *testing.T) {
				got := render(t, loadFixture(t, name), format)
				golden := filepath.Join("testdata", "golden", name+ext)
				if *update {
					require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
					require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
				}
				want, err := os.ReadFile(golden)
				require.NoError(t, err, "missing golden file: run go test ./reports -update")
				assert.Equal(t, string(want), got, "output changed: if intended, run go test ./reports -update and review the diff")
			})
		}
	}
}

func TestMarkdownNoGo(t *testing.T) {
	md := render(t, loadFixture(t, "nogo"), "md")
	lines := strings.Split(md, "\n")
	assert.Less(t, len(lines), 60, "a typical run must fit a PR comment")
	assert.Contains(t, lines[0], "**NO-GO**")

	// Failures come first: in the bullet list and in the table.
	failErr := strings.Index(md, "FAILED client error ratio")
	failLat := strings.Index(md, "FAILED client p99 latency")
	table := strings.Index(md, "| expectation |")
	require.True(t, failErr > 0 && failLat > 0 && table > failLat, md)
	assert.Contains(t, md, "over by 0.37% (4.7× the limit)") // 0.47 - 0.1 = 0.37; 0.47 / 0.1 = 4.7
	assert.Contains(t, md, "over by 143 ms")                 // 393 - 250
	rows := lines[indexOf(lines, "| expectation | observed | threshold | result |")+2:]
	assert.True(t, strings.HasSuffix(rows[0], "**FAIL** |") && strings.HasSuffix(rows[1], "**FAIL** |"), rows[:4])
	assert.True(t, strings.HasSuffix(rows[2], "pass |") && strings.HasSuffix(rows[3], "pass |"), rows[:4])

	// 19.0 s (rollback completed at 21.4 s) - 5.0 s (first canary traffic) = 16.4 s
	assert.Contains(t, md, "regression to rollback completed 16.4 s")
	assert.Contains(t, md, "| slow-payments | latency | checkout -> payments | 24.0s – 34.0s (10.0 s) |")
	assert.Contains(t, md, "8,003 requests, 38 errors")

	// The timeline keeps the important events only: failed analyses yes,
	// passed analyses and instance starts no.
	assert.Contains(t, md, "  19.0s  trigger_fired ")
	assert.Contains(t, md, "  21.4s  rollback_completed ")
	assert.Contains(t, md, "  17.0s  analysis ")
	assert.NotContains(t, md, "  15.0s  analysis ")
	assert.NotContains(t, md, "instance_started")
	assert.NotContains(t, md, "http", "the Markdown report has no links")
}

func TestMarkdownInterrupted(t *testing.T) {
	md := render(t, loadFixture(t, "interrupted"), "md")
	assert.Contains(t, md, "**NO-GO**")
	assert.Contains(t, md, "run interrupted: results are partial")
	assert.Contains(t, md, "**Error:** interrupted by SIGINT")
	assert.Contains(t, md, "  10.9s  interrupted ")
	assert.Contains(t, md, "7.0s – (not reverted)")
}

func TestMarkdownEscapes(t *testing.T) {
	r := loadFixture(t, "go")
	r.Expectations[0].Name = "p99 | <script>x</script> *bold* [link](javascript:x)"
	md := render(t, r, "md")
	assert.Contains(t, md, `| p99 \| &lt;script>x&lt;/script> \*bold\* \[link\](javascript:x) |`)
	assert.NotContains(t, md, "<script>")
}

func TestMarkdownWithoutVerdictIsNoGo(t *testing.T) {
	// A result that never got a verdict (the run crashed) must not read as GO.
	md := render(t, &Result{Scenario: "x", Error: "boom"}, "md")
	assert.Contains(t, md, "**NO-GO**")
	assert.Contains(t, md, "no expectations were checked")
}

type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Time     string `xml:"time,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Type    string `xml:"type,attr"`
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"error"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseJUnit(t *testing.T, s string) junitDoc {
	t.Helper()
	var d junitDoc
	require.NoError(t, xml.Unmarshal([]byte(s), &d))
	require.Len(t, d.Suites, 1, "one test suite per scenario")
	return d
}

func TestJUnitCounts(t *testing.T) {
	for _, tc := range []struct {
		name                         string
		tests, failures, errors      int
		time                         string
		scenario                     string
		failedNames                  []string
		errorType, errorTextContains string
	}{
		{name: "go", tests: 3, time: "31.250", scenario: "quickstart"},
		{name: "nogo", tests: 4, failures: 2, time: "43.800", scenario: "checkout-canary",
			failedNames: []string{"client error ratio", "client p99 latency"}},
		{name: "interrupted", tests: 2, errors: 1, time: "12.400", scenario: "payments-failover",
			errorType: "interrupted", errorTextContains: "cleanup completed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := parseJUnit(t, render(t, loadFixture(t, tc.name), "junit"))
			s := d.Suites[0]
			assert.Equal(t, tc.scenario, s.Name)
			assert.Equal(t, []int{tc.tests, tc.failures, tc.errors}, []int{s.Tests, s.Failures, s.Errors})
			assert.Equal(t, []int{tc.tests, tc.failures, tc.errors}, []int{d.Tests, d.Failures, d.Errors})
			assert.Equal(t, tc.time, s.Time)
			require.Len(t, s.Cases, tc.tests)
			var failed []string
			errs := 0
			for _, c := range s.Cases {
				assert.Equal(t, tc.scenario, c.Classname)
				if c.Failure != nil {
					failed = append(failed, c.Name)
					assert.Regexp(t, `^observed .+, threshold .+$`, c.Failure.Message)
				}
				if c.Error != nil {
					errs++
					assert.Equal(t, tc.errorType, c.Error.Type)
					assert.Contains(t, c.Error.Text, tc.errorTextContains)
				}
			}
			assert.Equal(t, tc.failedNames, failed)
			assert.Equal(t, tc.errors, errs)
		})
	}
}

func TestJUnitFailureText(t *testing.T) {
	d := parseJUnit(t, render(t, loadFixture(t, "nogo"), "junit"))
	f := d.Suites[0].Cases[0].Failure
	require.NotNil(t, f)
	assert.Equal(t, "observed 0.47%, threshold <= 0.1%", f.Message)
	assert.Equal(t, "over by 0.37% (4.7× the limit)\n38 of 8003 client requests failed", f.Text)
}

func TestJUnitRunError(t *testing.T) {
	// An errored (not interrupted) run with an ANSI-colored error: one error
	// test case, and still well-formed XML.
	r := loadFixture(t, "go")
	r.Error = "\x1b[31mdocker: no such image\x1b[0m\nsecond line"
	out := render(t, r, "junit")
	d := parseJUnit(t, out)
	s := d.Suites[0]
	assert.Equal(t, []int{4, 0, 1}, []int{s.Tests, s.Failures, s.Errors})
	last := s.Cases[len(s.Cases)-1]
	require.NotNil(t, last.Error)
	assert.Equal(t, "error", last.Error.Type)
	assert.Equal(t, "\uFFFD[31mdocker: no such image\uFFFD[0m", last.Error.Message)
	validateJUnit(t, out)
}

// xmllint returns the xmllint binary; it skips the test when it is missing,
// except in CI, where the check must run.
func xmllint(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmllint is missing: install libxml2-utils (apt-get install -y libxml2-utils)")
		}
		t.Skip("xmllint is missing: apt-get install -y libxml2-utils to run this test")
	}
	return p
}

// checkSchema validates doc against testdata/junit-10.xsd with xmllint.
func checkSchema(t *testing.T, doc string) error {
	t.Helper()
	path := filepath.Join(t.TempDir(), "junit.xml")
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o644))
	var out bytes.Buffer
	cmd := exec.Command(xmllint(t), "--noout", "--nonet", "--schema", filepath.Join("testdata", "junit-10.xsd"), path)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return &schemaError{err: err, out: out.String()}
	}
	return nil
}

type schemaError struct {
	err error
	out string
}

func (e *schemaError) Error() string { return e.err.Error() + ": " + e.out }

func validateJUnit(t *testing.T, doc string) {
	t.Helper()
	assert.NoError(t, checkSchema(t, doc))
}

func TestJUnitValidatesAgainstXSD(t *testing.T) {
	xmllint(t)
	for _, name := range append(fixtures, "sample-result") {
		t.Run(name, func(t *testing.T) { validateJUnit(t, render(t, loadFixture(t, name), "junit")) })
	}
	t.Run("the schema rejects a broken file", func(t *testing.T) {
		// Without this, a validator that accepts anything would pass above.
		good := render(t, loadFixture(t, "nogo"), "junit")
		bad := strings.Replace(good, `<testcase name="client error ratio"`, `<testcase`, 1)
		require.NotEqual(t, good, bad)
		err := checkSchema(t, bad)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "name")
	})
}

func indexOf(lines []string, s string) int {
	for i, l := range lines {
		if l == s {
			return i
		}
	}
	return -1
}
