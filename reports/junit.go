package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// JUnit XML, in the shape Jenkins, GitLab, GitHub test reporters and most CI
// systems read (testdata/junit-10.xsd): one <testsuite> per scenario, one
// <testcase> per expectation, and an <error> test case when the run itself
// was interrupted or failed, so CI never shows a broken run as green.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr,omitempty"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Hostname   string          `xml:"hostname,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  *junitText      `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

// junitSkipped marks an expectation an interrupted run could not judge.
type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// Texts are CDATA so that their line breaks stay line breaks for people
// reading the file (chardata would encode them as &#xA;).
type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

type junitText struct {
	Text string `xml:",cdata"`
}

// JUnit writes r as JUnit XML.
func JUnit(w io.Writer, r *Result) error {
	name := r.Scenario
	if name == "" {
		name = "firedrill"
	}
	secs := "0.000"
	if !r.StartedAt.IsZero() && r.EndedAt.After(r.StartedAt) {
		secs = strconv.FormatFloat(r.EndedAt.Sub(r.StartedAt).Seconds(), 'f', 3, 64)
	}
	s := junitSuite{Name: name, Time: secs, Hostname: r.Hostname}
	if !r.StartedAt.IsZero() {
		// No zone suffix: the ant schema's pattern rejects one; it is UTC.
		s.Timestamp = r.StartedAt.UTC().Format("2006-01-02T15:04:05")
	}
	for _, p := range [][2]string{
		{"verdict", verdictOf(r)}, {"runtime", r.Runtime}, {"seed", strconv.FormatInt(r.Seed, 10)},
		{"run_id", r.RunID}, {"scenario_file", r.ScenarioFile}, {"rollout", rolloutLine(r)},
		{"traffic", trafficLine(r.Traffic)}, {"out_dir", r.OutDir},
	} {
		if p[1] != "" {
			s.Properties = append(s.Properties, junitProperty{Name: p[0], Value: p[1]})
		}
	}

	for _, e := range r.Expectations {
		c := junitCase{Name: e.Name, Classname: name, Time: "0.000"}
		if e.Skipped != "" {
			c.Skipped = &junitSkipped{Message: e.Skipped}
			s.Skipped++
		}
		if Failed(e) {
			msg := ObservedText(e)
			text := strings.TrimSpace(e.Detail)
			if sf := Shortfall(e); sf != "" {
				text = strings.TrimSpace(sf + "\n" + text)
			}
			c.Failure = &junitProblem{Message: msg, Type: orDefault(e.Kind, "expectation"), Text: xmlSafe(text)}
			s.Failures++
		}
		s.Cases = append(s.Cases, c)
	}
	if r.Interrupted || r.Error != "" {
		p := &junitProblem{Type: "error", Message: firstLine(r.Error), Text: xmlSafe(r.Error)}
		if r.Interrupted {
			p.Type = "interrupted"
			p.Message = "the run was interrupted before it finished; results are partial"
		}
		s.Cases = append(s.Cases, junitCase{Name: "run", Classname: name, Time: secs, Error: p})
		s.Errors++
	}
	s.Tests = len(s.Cases)
	if tl := timelineLines(r, 200); len(tl) > 0 {
		s.SystemOut = &junitText{Text: xmlSafe("\n" + strings.Join(tl, "\n") + "\n")}
	}

	doc := junitSuites{Name: "firedrill", Tests: s.Tests, Failures: s.Failures, Errors: s.Errors,
		Time: secs, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encode junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// xmlSafe replaces the characters XML 1.0 cannot carry (ANSI escapes from a
// subprocess' error, say) with U+FFFD: the encoder escapes attributes itself
// but writes CDATA as is, and one such byte makes the whole file unreadable.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}
