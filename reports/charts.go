package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"regexp"
	"sort"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The timeline figure: stacked panels that share one time axis (requests/s
// and error ratio per version of the rolled-out service, client latency),
// with rollout steps and fault windows shaded behind the curves, so that
// cause and effect line up vertically.

var (
	// versionColors: the old version first (blue), the new one second
	// (orange), as release dashboards usually show baseline and canary.
	versionColors = []string{"#2563eb", "#ea580c", "#16a34a", "#9333ea", "#0891b2", "#a16207"}
	stepFill      = []color.Color{rgba(100, 116, 139, 0.10), rgba(100, 116, 139, 0.22)}
	faultFill     = rgba(220, 38, 38, 0.13)
	faultInk      = rgb(185, 28, 28)
	rollbackInk   = rgb(127, 29, 29)
	promoteInk    = rgb(21, 128, 61)
	mutedInk      = rgb(71, 85, 105)
)

// legendItem is one entry of the HTML legend drawn under a chart.
type legendItem struct {
	Color  string
	Label  string
	Kind   string // line | band | fault | mark
	Dashed bool
}

// chart is one rendered figure and its legend.
type chart struct {
	SVG    []byte
	Legend []legendItem
}

type band struct {
	x0, x1 float64
	label  string
	fill   color.Color
	ink    color.Color
	row    int // label row from the top
	edges  bool
}

type mark struct {
	x     float64
	label string
	ink   color.Color
}

// overlay draws the bands (under the data: labels false) or the marks and,
// when labels, the labels of bands and marks (over the data).
type overlay struct {
	bands  []band
	marks  []mark
	over   bool
	labels bool
}

func (o overlay) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	clampX := func(x vg.Length) vg.Length {
		return vg.Length(math.Max(float64(c.Min.X), math.Min(float64(c.Max.X), float64(x))))
	}
	sty := text.Style{Font: font.From(sansFont, 7.5), Handler: p.Title.TextStyle.Handler, XAlign: draw.XLeft, YAlign: draw.YTop}
	for _, b := range o.bands {
		x0, x1 := clampX(trX(b.x0)), clampX(trX(b.x1))
		if x1 <= x0 {
			continue
		}
		if !o.over {
			c.FillPolygon(b.fill, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
			if b.edges {
				ls := draw.LineStyle{Color: b.ink, Width: vg.Points(0.6), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}
				c.StrokeLine2(ls, x0, c.Min.Y, x0, c.Max.Y)
				c.StrokeLine2(ls, x1, c.Min.Y, x1, c.Max.Y)
			}
			continue
		}
		if !o.labels || b.label == "" {
			continue
		}
		sty.Color = b.ink
		if sty.Width(b.label)+vg.Points(4) > x1-x0 {
			continue // a label that does not fit would collide with its neighbour's
		}
		c.FillText(sty, vg.Point{X: x0 + vg.Points(2), Y: c.Max.Y - vg.Points(2) - vg.Length(b.row)*vg.Points(10)}, b.label)
	}
	if !o.over {
		return
	}
	for _, m := range o.marks {
		x := trX(m.x)
		if x < c.Min.X || x > c.Max.X {
			continue
		}
		c.StrokeLine2(draw.LineStyle{Color: m.ink, Width: vg.Points(1.4)}, x, c.Min.Y, x, c.Max.Y)
		if o.labels && m.label != "" {
			sty.Color = m.ink
			sty.XAlign = draw.XLeft
			if x+sty.Width(m.label)+vg.Points(4) > c.Max.X {
				sty.XAlign = draw.XRight
				x -= vg.Points(4)
			} else {
				x += vg.Points(2)
			}
			c.FillText(sty, vg.Point{X: x, Y: c.Max.Y - vg.Points(2)}, m.label)
			sty.XAlign = draw.XLeft
		}
	}
}

var sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

// timelineChart builds the timeline figure, or nil when there is nothing to
// plot.
func timelineChart(r *Result) (ch *chart, err error) {
	// gonum/plot panics on some degenerate input; a report without its chart
	// is better than no report.
	defer func() {
		if p := recover(); p != nil {
			ch, err = nil, fmt.Errorf("timeline chart: %v", p)
		}
	}()
	zero := Zero(r)
	hop, client := pickSeries(r)
	if len(hop) == 0 && len(client) == 0 {
		return nil, nil
	}
	xmax := 1.0
	for _, s := range append(append([]Series(nil), hop...), client...) {
		for _, p := range s.Points {
			xmax = math.Max(xmax, float64(p.T+1))
		}
	}
	bands, marks, legend := annotations(r, zero, xmax)
	under := overlay{bands: bands}

	ch = &chart{}
	var panels []*plot.Plot
	if len(hop) > 0 {
		svc := hop[0].Service
		rps := newPanel("requests/s by version of "+svc, "req/s", xmax, under)
		errs := newPanel("error ratio by version of "+svc, "errors %", xmax, under)
		for i, s := range hop {
			hex := versionColors[i%len(versionColors)]
			addSegments(rps, s.Points, parseHex(hex), false, func(p Point) (float64, bool) { return float64(p.Requests), true })
			addSegments(errs, s.Points, parseHex(hex), false, func(p Point) (float64, bool) {
				if p.Requests == 0 {
					return 0, false // no traffic is not 0% errors: leave a gap
				}
				return 100 * float64(p.Errors) / float64(p.Requests), true
			})
			ch.Legend = append(ch.Legend, legendItem{Color: hex, Label: svc + " " + orDash(s.Version), Kind: "line"})
		}
		panels = append(panels, rps, errs)
	}
	if len(client) > 0 {
		lat := newPanel("client latency", "ms", xmax, under)
		for i, s := range client {
			hex := "#0f172a"
			if i > 0 {
				hex = versionColors[(i+2)%len(versionColors)]
			}
			name := "client"
			if len(client) > 1 {
				name = "client " + s.Service
			}
			addSegments(lat, s.Points, parseHex(hex), false, func(p Point) (float64, bool) { return p.P99MS, p.Requests > 0 })
			addSegments(lat, s.Points, parseHex(hex), true, func(p Point) (float64, bool) { return p.P50MS, p.Requests > 0 })
			ch.Legend = append(ch.Legend,
				legendItem{Color: hex, Label: name + " p99", Kind: "line"},
				legendItem{Color: hex, Label: name + " p50", Kind: "line", Dashed: true})
		}
		panels = append(panels, lat)
	}
	ch.Legend = append(ch.Legend, legend...)
	for i, p := range panels {
		headroom(p, i == 0)
		p.Add(overlay{bands: bands, marks: marks, over: true, labels: i == 0})
		if i < len(panels)-1 {
			p.X.Tick.Marker = niceTicks{n: 8, blank: true} // one set of time labels, at the bottom
		}
	}
	panels[len(panels)-1].X.Label.Text = "seconds since traffic start"

	const w, rowH = 10 * vg.Inch, 2.1 * vg.Inch
	h := rowH*vg.Length(len(panels)) + 0.3*vg.Inch
	cv := vgsvg.New(w, h)
	dc := draw.New(cv)
	grid := make([][]*plot.Plot, len(panels))
	for i, p := range panels {
		grid[i] = []*plot.Plot{p}
	}
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadY: vg.Points(8), PadTop: vg.Points(2), PadRight: vg.Points(8), PadLeft: vg.Points(2), PadBottom: vg.Points(2)}
	cs := plot.Align(grid, tiles, dc)
	for i, p := range panels {
		p.Draw(cs[i][0])
	}
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render timeline chart: %w", err)
	}
	ch.SVG = inlineSVG(buf.Bytes(), "timeline: requests, errors and latency over time with rollout steps and faults")
	return ch, nil
}

// pickSeries returns the hop series of the rolled-out service (old version
// first, new second, others by name) and the client series. Without a
// rollout (or series for it) it falls back to the first service that has
// hop series.
func pickSeries(r *Result) (hop, client []Series) {
	svc := ""
	for _, s := range r.Series {
		if s.Source == "hop" && (svc == "" || s.Service == r.Rollout.Service) {
			svc = s.Service
		}
	}
	for _, s := range r.Series {
		switch {
		case s.Source == "client":
			client = append(client, s)
		case s.Source == "hop" && s.Service == svc:
			hop = append(hop, s)
		}
	}
	rank := func(v string) string {
		switch v {
		case r.Rollout.From:
			return "0"
		case r.Rollout.To:
			return "1"
		}
		return "2" + v
	}
	sort.SliceStable(hop, func(i, j int) bool { return rank(hop[i].Version) < rank(hop[j].Version) })
	return hop, client
}

// annotations turns rollout steps, faults and the rollback into bands and
// marks on the time axis, with their legend entries.
func annotations(r *Result, zero time.Time, xmax float64) ([]band, []mark, []legendItem) {
	var bands []band
	var marks []mark
	var legend []legendItem
	ro := r.Rollout
	for i, st := range ro.Steps {
		end := xmax
		switch {
		case st.EndedAt != nil:
			end = relSec(zero, *st.EndedAt)
		case i+1 < len(ro.Steps):
			end = relSec(zero, ro.Steps[i+1].StartedAt)
		}
		label := fmt.Sprintf("step %d: %d%%", st.Index, st.Weight)
		if st.Result == "failed" {
			label += " ✗"
		}
		bands = append(bands, band{x0: relSec(zero, st.StartedAt), x1: end, label: label,
			fill: stepFill[i%2], ink: mutedInk})
	}
	if len(ro.Steps) > 0 {
		legend = append(legend, legendItem{Color: "#94a3b8", Label: "rollout step (weight to the new version)", Kind: "band"})
	}
	nf := 0
	for _, f := range r.Faults {
		if f.InjectedAt == nil {
			continue
		}
		end := xmax
		if f.RevertedAt != nil {
			end = relSec(zero, *f.RevertedAt)
		}
		bands = append(bands, band{x0: relSec(zero, *f.InjectedAt), x1: end, label: "fault: " + f.Name,
			fill: faultFill, ink: faultInk, row: 1 + nf%2, edges: true})
		nf++
	}
	if nf > 0 {
		legend = append(legend, legendItem{Color: "#dc2626", Label: "fault active", Kind: "fault"})
	}
	switch {
	case ro.RollbackStartedAt != nil:
		marks = append(marks, mark{x: relSec(zero, *ro.RollbackStartedAt), label: "rollback", ink: rollbackInk})
		if ro.CompletedAt != nil && ro.Outcome == RolledBack {
			marks = append(marks, mark{x: relSec(zero, *ro.CompletedAt), label: "", ink: rollbackInk})
		}
		legend = append(legend, legendItem{Color: "#7f1d1d", Label: "rollback started / completed", Kind: "mark"})
	case ro.Outcome == Promoted && ro.CompletedAt != nil:
		marks = append(marks, mark{x: relSec(zero, *ro.CompletedAt), label: "promoted", ink: promoteInk})
		legend = append(legend, legendItem{Color: "#15803d", Label: "promoted", Kind: "mark"})
	}
	return bands, marks, legend
}

func newPanel(title, ylabel string, xmax float64, under overlay) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sansFont, 9)
	p.Title.Padding = vg.Points(3)
	p.Y.Label.Text = ylabel
	for _, st := range []*text.Style{&p.X.Label.TextStyle, &p.Y.Label.TextStyle} {
		st.Font = font.From(sansFont, 8)
	}
	for _, st := range []*text.Style{&p.X.Tick.Label, &p.Y.Tick.Label} {
		st.Font = font.From(sansFont, 7.5)
		st.Color = mutedInk
	}
	p.X.Tick.Marker = niceTicks{n: 8}
	p.Y.Tick.Marker = niceTicks{n: 4}
	p.X.Min, p.X.Max = 0, xmax
	p.Y.Min, p.Y.Max = 0, 0
	p.X.Padding, p.Y.Padding = 0, 0
	g := plotter.NewGrid()
	g.Vertical.Color = rgb(226, 232, 240)
	g.Horizontal.Color = rgb(226, 232, 240)
	p.Add(under, g)
	return p
}

// headroom keeps the top of a panel clear for labels and a flat line off the
// frame.
func headroom(p *plot.Plot, labels bool) {
	top := p.Y.Max
	if top <= 0 {
		top = 1
	}
	f := 1.1
	if labels {
		f = 1.45
	}
	p.Y.Max = top * f
}

// addSegments plots the points for which y reports ok as lines, breaking the
// line where it does not (gonum refuses NaN points).
func addSegments(p *plot.Plot, pts []Point, col color.Color, dashed bool, y func(Point) (float64, bool)) {
	var seg plotter.XYs
	flush := func() {
		if len(seg) == 0 {
			return
		}
		l, err := plotter.NewLine(seg)
		if err == nil {
			l.Color = col
			l.Width = vg.Points(1.3)
			if dashed {
				l.Width = vg.Points(0.9)
				l.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
			}
			p.Add(l)
		}
		seg = nil
	}
	for _, pt := range pts {
		v, ok := y(pt)
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			flush()
			continue
		}
		// A point is a one-second bucket: draw it at its middle.
		seg = append(seg, plotter.XY{X: float64(pt.T) + 0.5, Y: v})
	}
	flush()
}

var svgHead = regexp.MustCompile(`(?s)^.*?<svg width="[^"]*" height="[^"]*"`)

// inlineSVG turns a standalone SVG document into an element for an HTML
// page: no XML prolog, scaled by CSS (viewBox kept), labelled for screen
// readers.
func inlineSVG(doc []byte, label string) []byte {
	head := fmt.Sprintf(`<svg class="chart" role="img" aria-label="%s" preserveAspectRatio="xMinYMin meet"`, htmlAttr(label))
	return svgHead.ReplaceAll(doc, []byte(head))
}

func rgb(r, g, b uint8) color.Color { return color.NRGBA{R: r, G: g, B: b, A: 255} }

func rgba(r, g, b uint8, a float64) color.Color {
	return color.NRGBA{R: r, G: g, B: b, A: uint8(math.Round(a * 255))}
}

func parseHex(s string) color.Color {
	var r, g, b uint8
	if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return color.Black
	}
	return rgb(r, g, b)
}

// niceTicks labels about n round values (1, 2, 2.5 or 5 times a power of
// ten), which read better than gonum's default for these small panels.
type niceTicks struct {
	n     int
	blank bool // ticks without labels
}

func (t niceTicks) Ticks(min, max float64) []plot.Tick {
	label := func(v float64) string {
		if t.blank {
			return ""
		}
		return fmtNum(v)
	}
	ends := []plot.Tick{{Value: min, Label: label(min)}, {Value: max, Label: label(max)}}
	if !(max > min) || t.n < 1 {
		return ends[:1]
	}
	step := niceStep((max - min) / float64(t.n))
	start := math.Ceil(min/step) * step
	// Counting ticks up front (not stepping until max) keeps a range that
	// float64 cannot step through, or a zero step, from looping forever.
	count := math.Floor((max-start)/step+1e-9) + 1
	if !(step > 0) || math.IsInf(step, 0) || math.IsNaN(count) || count < 1 || count > 100 {
		return ends
	}
	ticks := make([]plot.Tick, 0, int(count))
	for k := 0; k < int(count); k++ {
		v := start + float64(k)*step
		ticks = append(ticks, plot.Tick{Value: v, Label: label(v)})
	}
	return ticks
}

func niceStep(raw float64) float64 {
	exp := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / exp; {
	case f <= 1:
		return exp
	case f <= 2:
		return 2 * exp
	case f <= 2.5:
		return 2.5 * exp
	case f <= 5:
		return 5 * exp
	}
	return 10 * exp
}
