package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// WriteReports writes simulation.json, report.md and report.html (with
// histograms) of the summaries into dir, and returns the files written.
func WriteReports(dir string, ss []*Summary) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report directory %s: %w; pick a writable --out", dir, err)
	}
	var js, md, ht bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetIndent("", "  ")
	var v any = map[string]any{"plans": ss}
	if len(ss) == 1 {
		v = ss[0]
	}
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode the simulation: %w", err)
	}
	WriteMarkdown(&md, ss)
	WriteHTML(&ht, ss)
	var files []string
	for _, f := range []struct {
		name string
		b    []byte
	}{{"simulation.json", js.Bytes()}, {"report.md", md.Bytes()}, {"report.html", ht.Bytes()}} {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.b, 0o644); err != nil {
			return files, fmt.Errorf("write %s: %w", p, err)
		}
		files = append(files, p)
	}
	return files, nil
}

// WriteMarkdown writes the summaries as Markdown: each plan's figures and
// text histograms, then the plans side by side.
func WriteMarkdown(w io.Writer, ss []*Summary) {
	fmt.Fprintln(w, "# Simulation")
	for _, s := range ss {
		fmt.Fprintf(w, "\n## %s\n\n```\n", s.Scenario)
		WriteText(w, s)
		fmt.Fprintln(w, "```")
		for _, h := range histograms(s) {
			fmt.Fprintf(w, "\n### %s\n\n```\n", h.title)
			for _, b := range h.bins {
				fmt.Fprintf(w, "%12s  %-40s %d\n", b.label, strings.Repeat("#", barLen(b.n, h.max, 40)), b.n)
			}
			fmt.Fprintln(w, "```")
		}
	}
	if len(ss) > 1 {
		fmt.Fprint(w, "\n## Plans side by side\n\n```\n")
		WriteComparison(w, ss)
		fmt.Fprintln(w, "```")
	}
}

// WriteHTML writes a self-contained page: the same text, and the
// histograms as SVG bar charts.
func WriteHTML(w io.Writer, ss []*Summary) {
	fmt.Fprint(w, `<!doctype html><html><head><meta charset="utf-8"><title>firedrill simulate</title>
<style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em}svg text{font-size:10px}</style></head><body><h1>Simulation</h1>`)
	for _, s := range ss {
		var t bytes.Buffer
		WriteText(&t, s)
		fmt.Fprintf(w, "<h2>%s</h2><pre>%s</pre>", html.EscapeString(s.Scenario), html.EscapeString(t.String()))
		for _, h := range histograms(s) {
			fmt.Fprintf(w, "<h3>%s</h3>%s", html.EscapeString(h.title), h.svg())
		}
	}
	if len(ss) > 1 {
		var t bytes.Buffer
		WriteComparison(&t, ss)
		fmt.Fprintf(w, "<h2>Plans side by side</h2><pre>%s</pre>", html.EscapeString(t.String()))
	}
	fmt.Fprintln(w, "</body></html>")
}

type bin struct {
	label string
	n     int
}

type histogram struct {
	title string
	bins  []bin
	max   int
}

// histograms bins a summary's figures into at most 20 bins each.
func histograms(s *Summary) []histogram {
	var out []histogram
	add := func(title string, h hist, unit float64, fmtv string) {
		if len(h) == 0 {
			return
		}
		out = append(out, binned(title, h, unit, fmtv))
	}
	add(fmt.Sprintf("time to detect (s), %d trials", s.DetectS.N), s.Histograms.DetectMS, 0.001, "%.3g")
	add(fmt.Sprintf("time to rollback (s), %d trials", s.RollbackS.N), s.Histograms.RollbackMS, 0.001, "%.3g")
	add(fmt.Sprintf("bad requests, %d trials", s.BadRequests.N), s.Histograms.BadRequests, 1, "%.0f")
	return out
}

func binned(title string, h hist, unit float64, fmtv string) histogram {
	vals, counts := h.Sorted()
	lo, hi := float64(vals[0])*unit, float64(vals[len(vals)-1])*unit
	k := min(20, len(vals))
	width := (hi - lo) / float64(k)
	if width <= 0 {
		width = 1
	}
	bins := make([]bin, k)
	for i := range bins {
		bins[i].label = fmt.Sprintf("≥"+fmtv, lo+float64(i)*width)
	}
	for i, v := range vals {
		j := min(k-1, int(math.Floor((float64(v)*unit-lo)/width)))
		bins[j].n += counts[i]
	}
	res := histogram{title: title, bins: bins}
	for _, b := range bins {
		res.max = max(res.max, b.n)
	}
	return res
}

func barLen(n, maxN, width int) int {
	if maxN == 0 {
		return 0
	}
	return int(math.Round(float64(n) / float64(maxN) * float64(width)))
}

// svg draws the histogram as bars with their lower bounds below.
func (h histogram) svg() string {
	const bw, height = 36, 120
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d">`, bw*len(h.bins)+10, height+40)
	for i, x := range h.bins {
		bh := barLen(x.n, h.max, height)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#4a7bd0"><title>%s: %d</title></rect>`,
			i*bw+5, height-bh+10, bw-4, bh, html.EscapeString(x.label), x.n)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`, i*bw+5, height+25, html.EscapeString(strings.TrimPrefix(x.label, "≥")))
	}
	b.WriteString("</svg>")
	return b.String()
}
