package reports

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// mdTimelineMax caps the text timeline so the report stays comment-sized.
const mdTimelineMax = 25

// Markdown writes a short report for a pull-request comment or a CI job
// summary: verdict, failures first, the numbers that matter, a text timeline.
// It has no links and no images, so it reads the same everywhere.
func Markdown(w io.Writer, r *Result) error {
	b := bufio.NewWriter(w)
	zero := Zero(r)

	fmt.Fprintf(b, "### firedrill: %s: **%s**\n\n", mdText(orDash(r.Scenario)), verdictOf(r))
	meta := []string{mdText(headline(r))}
	if r.Runtime != "" {
		meta = append(meta, "runtime "+mdText(r.Runtime))
	}
	meta = append(meta, fmt.Sprintf("seed %d", r.Seed))
	if !r.StartedAt.IsZero() && !r.EndedAt.IsZero() {
		meta = append(meta, fmtDur(r.EndedAt.Sub(r.StartedAt)))
	}
	if r.RunID != "" {
		meta = append(meta, "run "+mdCode(r.RunID))
	}
	fmt.Fprintf(b, "%s\n\n", strings.Join(meta, " · "))

	if r.Error != "" {
		fmt.Fprintf(b, "**Error:** %s\n\n", mdText(oneLine(r.Error)))
	}
	for _, e := range r.Expectations {
		if !Failed(e) {
			continue
		}
		line := ObservedText(e)
		if s := Shortfall(e); s != "" {
			line += ": " + s
		}
		fmt.Fprintf(b, "- **FAILED %s**: %s\n", mdText(e.Name), mdText(line))
	}
	if countFailed(r.Expectations) > 0 {
		b.WriteString("\n")
	}

	if len(r.Expectations) > 0 {
		b.WriteString("| expectation | observed | threshold | result |\n|---|---|---|---|\n")
		for _, e := range failedFirst(r.Expectations) {
			res := map[string]string{"PASS": "pass", "FAIL": "**FAIL**", "SKIP": "skipped: " + mdCell(e.Skipped)}[resultWord(e)]
			fmt.Fprintf(b, "| %s | %s | %s | %s |\n", mdCell(e.Name), mdCell(e.Observed), mdCell(e.Threshold), res)
		}
		b.WriteString("\n")
	}

	if l := rolloutLine(r); l != "" {
		fmt.Fprintf(b, "**Rollout:** %s\n\n", mdText(l))
	}

	if len(r.Faults) > 0 {
		b.WriteString("| fault | kind | target | window |\n|---|---|---|---|\n")
		for _, f := range r.Faults {
			fmt.Fprintf(b, "| %s | %s | %s | %s |\n", mdCell(f.Name), mdCell(f.Kind), mdCell(f.Target), mdCell(faultWindow(f, zero)))
		}
		b.WriteString("\n")
	}

	if r.Traffic.Requests > 0 || r.Traffic.TargetRPS > 0 {
		fmt.Fprintf(b, "**Traffic:** %s\n\n", mdText(trafficLine(r.Traffic)))
	}

	if tl := timelineLines(r, mdTimelineMax); len(tl) > 0 {
		b.WriteString("**Timeline** (seconds since traffic start)\n\n```text\n")
		for _, l := range tl {
			b.WriteString(strings.ReplaceAll(l, "```", "'''") + "\n")
		}
		b.WriteString("```\n")
	}
	if db := debriefLines(r); len(db) > 0 { // debrief.go
		b.WriteString("\n**Debrief**\n\n")
		for _, l := range db {
			if rest, ok := strings.CutPrefix(l, Unannounced); ok { // highlighted
				b.WriteString("- **" + strings.TrimSpace(Unannounced) + "** " + mdText(rest) + "\n")
				continue
			}
			b.WriteString("- " + mdText(l) + "\n")
		}
	}
	return b.Flush()
}

// timelineLines is the text timeline of the important events, at most max
// lines (the last one saying how many were left out).
func timelineLines(r *Result, max int) []string {
	z := Zero(r)
	var lines []string
	n := 0
	for _, e := range withAlertEvents(r) { // alerts.go
		if !important(e) {
			continue
		}
		n++
		if len(lines) >= max {
			continue
		}
		text := oneLine(eventText(e))
		if s := subject(e); s != "" && !strings.Contains(text, s) {
			text += " (" + s + ")"
		}
		lines = append(lines, fmt.Sprintf("%7s  %-18s %s", fmtRel(relSec(z, e.At)), e.Kind, text))
	}
	if n > len(lines) {
		lines = append(lines, fmt.Sprintf("… %d more events in result.json", n-len(lines)))
	}
	return lines
}

// mdText keeps text from being read as Markdown or HTML markup, escaping
// only what could be, so that the raw text stays readable in a CI log.
var (
	mdEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "`", "\\`", "[", `\[`, "]", `\]`, "|", `\|`)
	mdTag     = regexp.MustCompile(`<([A-Za-z/!?])`)
	// An underscore inside a word never starts emphasis (CommonMark).
	mdUnderscore = regexp.MustCompile(`(^|[^A-Za-z0-9])_|_([^A-Za-z0-9]|$)`)
)

func mdText(s string) string {
	s = mdEscaper.Replace(s)
	s = mdTag.ReplaceAllString(s, "&lt;$1")
	return mdUnderscore.ReplaceAllStringFunc(s, func(m string) string { return strings.Replace(m, "_", `\_`, 1) })
}

// mdCell is mdText on one line, for table cells.
func mdCell(s string) string {
	if s == "" {
		return "-"
	}
	return mdText(oneLine(s))
}

// mdCode wraps s in a code span (no escaping inside).
func mdCode(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }
