package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// The HTML report is one self-contained file: inline CSS, inline SVG, no
// script, and a Content-Security-Policy that forbids loading anything, so it
// opens the same from a CI artifact, an e-mail or an air-gapped laptop.

//go:embed templates/report.html.tmpl
var htmlTemplate string

//go:embed templates/report.css
var htmlCSS string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"num":      fmtNum,
	"count":    fmtCount,
	"pct":      func(f float64) string { return withUnit(100*f, "%") },
	"unit":     withUnit,
	"utc":      func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"deref":    func(f *float64) float64 { return *f },
	"deref2":   func(b *bool) bool { return *b },
	"derefInt": func(n *int) int { return *n },
	"lower":    strings.ToLower,
	// rel is replaced per report, where the time zero is known.
	"rel": func(*time.Time) string { return "" },
}).Parse(htmlTemplate))

type htmlExp struct {
	Expectation
	Shortfall string
}

type htmlStep struct {
	Index    int
	Weight   int
	Start    string
	End      string
	Duration string
	Result   string
}

type htmlFault struct {
	Fault
	Window string
	Failed bool
}

type htmlEvent struct {
	Rel       string
	Clock     string
	Kind      string
	Subject   string
	Message   string
	Fields    string
	Important bool
}

type htmlRow struct{ Label, Value string }

type htmlData struct {
	R            *Result
	CSS          template.CSS
	Verdict      string
	VerdictClass string
	Headline     string
	Failed       []htmlExp
	Expectations []htmlExp
	Chart        *chart
	ChartSVG     template.HTML
	ChartError   string
	RolloutLine  string
	RolloutRows  []htmlRow
	Steps        []htmlStep
	Faults       []htmlFault
	TrafficLine  string
	ErrorRatio   string
	Graph        template.HTML
	Events       []htmlEvent
	Meta         []htmlRow
	Recent       []htmlRecent // recent.go
	Trend        htmlTrend
	Debrief      []htmlDebrief // debrief.go
}

// HTML writes the self-contained HTML report.
func HTML(w io.Writer, r *Result) error {
	d := htmlView(r)
	zero := Zero(r)
	t, err := reportTmpl.Clone()
	if err != nil {
		return fmt.Errorf("render html report: %w", err)
	}
	t.Funcs(template.FuncMap{"rel": func(at *time.Time) string { return fmtRel(relSec(zero, *at)) }})
	if err := t.Execute(w, d); err != nil {
		return fmt.Errorf("render html report: %w", err)
	}
	return nil
}

func htmlView(r *Result) *htmlData {
	zero := Zero(r)
	d := &htmlData{R: r, CSS: template.CSS(htmlCSS), Verdict: verdictOf(r), Headline: headline(r)}
	d.VerdictClass = "nogo"
	if d.Verdict == GO && !r.Interrupted && r.Error == "" {
		d.VerdictClass = "go"
	}
	if d.Verdict == INTERRUPTED {
		d.VerdictClass = "interrupted"
	}
	for _, e := range failedFirst(r.Expectations) {
		he := htmlExp{Expectation: e, Shortfall: Shortfall(e)}
		d.Expectations = append(d.Expectations, he)
		if Failed(e) {
			d.Failed = append(d.Failed, he)
		}
	}

	ch, err := timelineChart(r)
	if err != nil {
		d.ChartError = err.Error()
	}
	if ch != nil {
		d.Chart = ch
		// Generated here from numbers; gonum escapes the text it draws.
		d.ChartSVG = template.HTML(ch.SVG) //nolint:gosec
	}
	if g := topologySVG(r); g != nil {
		d.Graph = template.HTML(g) //nolint:gosec // built with esc() on every name
	}

	d.Recent, d.Trend = recentView(r.Recent)
	d.RolloutLine = rolloutLine(r)
	d.RolloutRows = rolloutRows(r, zero)
	for _, st := range r.Rollout.Steps {
		hs := htmlStep{Index: st.Index, Weight: st.Weight, Start: fmtRel(relSec(zero, st.StartedAt)), Result: st.Result}
		if st.EndedAt != nil {
			hs.End = fmtRel(relSec(zero, *st.EndedAt))
			hs.Duration = fmtDur(st.EndedAt.Sub(st.StartedAt))
		}
		d.Steps = append(d.Steps, hs)
	}
	for _, f := range r.Faults {
		d.Faults = append(d.Faults, htmlFault{Fault: f, Window: faultWindow(f, zero), Failed: f.Error != ""})
	}
	d.Debrief = htmlDebriefOf(r) // debrief.go
	if r.Traffic.Requests > 0 || r.Traffic.TargetRPS > 0 {
		d.TrafficLine = trafficLine(r.Traffic)
		d.ErrorRatio = pct(r.Traffic.Errors, r.Traffic.Requests)
	}
	for _, e := range withAlertEvents(r) { // alert firings and telemetry gaps too (alerts.go)
		he := htmlEvent{Rel: fmtRel(relSec(zero, e.At)), Clock: e.At.UTC().Format("15:04:05.000"), Kind: e.Kind,
			Subject: subject(e), Message: e.Message, Important: important(e)}
		if len(e.Fields) > 0 {
			he.Fields = fieldsText(e.Fields)
		}
		d.Events = append(d.Events, he)
	}

	d.Meta = metaRows(r)
	return d
}

// rolloutRows are the rollout table's rows that have a value.
func rolloutRows(r *Result, zero time.Time) []htmlRow {
	ro := r.Rollout
	rel := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return fmtRel(relSec(zero, *t))
	}
	var out []htmlRow
	for _, row := range []htmlRow{
		{"service", ro.Service}, {"strategy", ro.Strategy}, {"from → to", strings.Trim(ro.From+" → "+ro.To, " →")},
		{"outcome", outcomeText(ro.Outcome)}, {"trigger", strings.TrimSpace(ro.Trigger + " " + parenthesize(triggerWhy(r)))},
		{"started", rel(ro.StartedAt)}, {"regression (new version got traffic)", rel(ro.RegressionAt)},
		{"detected", rel(ro.DetectedAt)}, {"rollback started", rel(ro.RollbackStartedAt)},
		{"traffic restored", rel(ro.TrafficRestoredAt)}, {"completed", rel(ro.CompletedAt)},
		{"time to detect", between(ro.RegressionAt, ro.DetectedAt)},
		{"regression → traffic restored", between(ro.RegressionAt, ro.TrafficRestoredAt)},
		{"regression → rollback completed", rolledBackIn(ro)},
		{"rollback duration", between(ro.RollbackStartedAt, ro.CompletedAt)},
	} {
		if row.Value != "" && !(row.Label == "outcome" && ro.Service == "") {
			out = append(out, row)
		}
	}
	return out
}

// metaRows describe the run: scenario, runtime, seed, versions, host.
func metaRows(r *Result) []htmlRow {
	meta := []htmlRow{
		{"scenario", r.Scenario}, {"description", r.Description}, {"scenario file", r.ScenarioFile},
		{"runtime", r.Runtime}, {"seed", fmt.Sprint(r.Seed)}, {"run id", r.RunID},
	}
	if !r.StartedAt.IsZero() {
		meta = append(meta, htmlRow{"started", r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")})
	}
	if !r.StartedAt.IsZero() && !r.EndedAt.IsZero() {
		meta = append(meta, htmlRow{"duration", fmtDur(r.EndedAt.Sub(r.StartedAt))})
	}
	var versions []string
	for _, s := range r.Topology {
		if s.Version != "" {
			versions = append(versions, s.Name+" "+s.Version)
		}
	}
	if ro := r.Rollout; ro.To != "" {
		versions = append(versions, ro.Service+" "+ro.To+" (rolled out)")
	}
	meta = append(meta, htmlRow{"service versions", strings.Join(versions, ", ")},
		htmlRow{"firedrill", r.ToolVersion}, htmlRow{"host", r.Hostname}, htmlRow{"output folder", r.OutDir},
		htmlRow{"schema version", fmt.Sprint(r.SchemaVersion)})
	var out []htmlRow
	for _, m := range meta {
		if m.Value != "" {
			out = append(out, m)
		}
	}
	return out
}

func parenthesize(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// rolledBackIn is the time from regression to rollback completed, for a
// rollout that was rolled back.
func rolledBackIn(ro Rollout) string {
	if ro.Outcome != RolledBack {
		return ""
	}
	return between(ro.RegressionAt, ro.CompletedAt)
}
