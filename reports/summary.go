package reports

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

const (
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
	ansiReset = "\x1b[0m"
)

// Summary writes the end-of-run summary for a terminal or a CI log: verdict,
// each expectation, rollout, faults, traffic and where the report files are
// (files maps format to path, as Write returns it). With color, it uses ANSI
// colors and ✓/✗; without, plain PASS/FAIL so that any log viewer reads it.
func Summary(w io.Writer, r *Result, files map[string]string, color bool) {
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return code + s + ansiReset
	}
	v := verdictOf(r)
	vc := ansiRed
	if v == GO {
		vc = ansiGreen
	}
	fmt.Fprintf(w, "%s  %s  (%s)\n", paint(ansiBold+vc, v), r.Scenario, headline(r))
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", oneLine(r.Error))
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range failedFirst(r.Expectations) {
		mark := resultWord(e)
		if color {
			mark = map[string]string{"PASS": paint(ansiGreen, "✓"), "FAIL": paint(ansiRed, "✗"), "SKIP": "-"}[mark]
		}
		line := ObservedText(e)
		if e.Skipped != "" {
			line = e.Skipped
		}
		if s := Shortfall(e); s != "" {
			line += ": " + s
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", mark, e.Name, line)
	}
	_ = tw.Flush()

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if l := rolloutLine(r); l != "" {
		fmt.Fprintf(tw, "rollout\t%s\n", l)
	}
	zero := Zero(r)
	for i, f := range r.Faults {
		label := ""
		if i == 0 {
			label = "faults"
		}
		fmt.Fprintf(tw, "%s\t%s %s on %s, %s\n", label, f.Name, f.Kind, f.Target, faultWindow(f, zero))
	}
	if r.Traffic.Requests > 0 {
		fmt.Fprintf(tw, "traffic\t%s\n", trafficLine(r.Traffic))
	}
	i := 0
	for _, f := range sortedFiles(files) {
		label := ""
		if i == 0 {
			label = "reports"
		}
		fmt.Fprintf(tw, "%s\t%s\n", label, paint(ansiDim, f))
		i++
	}
	_ = tw.Flush()
}

// sortedFiles lists the paths in Formats order, unknown formats last.
func sortedFiles(files map[string]string) []string {
	rank := map[string]int{}
	for i, f := range Formats {
		rank[f] = i + 1
	}
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank[keys[i]], rank[keys[j]]
		if ri == 0 {
			ri = len(Formats) + 1
		}
		if rj == 0 {
			rj = len(Formats) + 1
		}
		if ri != rj {
			return ri < rj
		}
		return strings.Compare(keys[i], keys[j]) < 0
	})
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = files[k]
	}
	return out
}
