package reports

import (
	"fmt"
	"html"
	"sort"
	"strings"
)

// The topology graph is drawn by hand rather than with a layout engine:
// service graphs in scenarios are small DAGs, and columns by call depth
// (entry on the left) read like the request path.

const (
	nodeW, nodeH = 170.0, 50.0
	colGap       = 150.0
	rowGap       = 26.0
	graphPad     = 14.0
)

type node struct {
	svc      Service
	depth    int
	row      int
	x, y     float64
	faults   []string // faults aimed at the service itself (kill, pause)
	rollout  string   // "from → to" when this service was rolled out
	external bool     // a dependency not listed as a service
}

// graph is the topology of a result laid out for drawing.
type graph struct {
	nodes      map[string]*node
	order      []string               // services first, then external dependencies
	edgeFaults map[[2]string][]string // faults on an edge, by (caller, dependency)
	width      float64
	height     float64
}

// topologySVG draws services as boxes in columns by depth, with arrows from
// caller to dependency; edges and services hit by a fault are red and
// labelled with the fault. It returns nil without a topology.
func topologySVG(r *Result) []byte {
	if len(r.Topology) == 0 {
		return nil
	}
	g := newGraph(r)
	g.markFaults(r)
	g.layout()

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="graph" role="img" aria-label="service dependency graph" viewBox="0 0 %.0f %.0f" style="max-width:%.0fpx" xmlns="http://www.w3.org/2000/svg">`+"\n",
		g.width, g.height, g.width*1.2)
	b.WriteString(`<defs><marker id="fd-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#475569"/></marker>` +
		`<marker id="fd-arrow-hit" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#dc2626"/></marker></defs>` + "\n")
	// Labels go last so that no box or edge covers them.
	labels := g.drawEdges(&b)
	labels = append(labels, g.drawNodes(&b)...)
	b.WriteString(strings.Join(labels, ""))
	b.WriteString("</svg>")
	return []byte(b.String())
}

// newGraph has a node per service and per dependency that is none.
func newGraph(r *Result) *graph {
	g := &graph{nodes: map[string]*node{}, edgeFaults: map[[2]string][]string{}}
	add := func(s Service, external bool) {
		if _, ok := g.nodes[s.Name]; !ok {
			g.nodes[s.Name] = &node{svc: s, external: external}
			g.order = append(g.order, s.Name)
		}
	}
	for _, s := range r.Topology {
		add(s, false)
	}
	for _, s := range r.Topology {
		for _, d := range s.DependsOn {
			add(Service{Name: d}, true)
		}
	}
	return g
}

// markFaults notes the faults by edge and by service, and the rollout.
func (g *graph) markFaults(r *Result) {
	for _, f := range r.Faults {
		if f.InjectedAt == nil {
			continue
		}
		if a, b, ok := splitEdge(f.Target); ok {
			g.edgeFaults[[2]string{a, b}] = append(g.edgeFaults[[2]string{a, b}], f.Name+" ("+f.Kind+")")
			continue
		}
		if n := nodeFor(g.nodes, f.Target); n != nil {
			n.faults = append(n.faults, f.Name+" ("+f.Kind+")")
		}
	}
	if n, ok := g.nodes[r.Rollout.Service]; ok && r.Rollout.To != "" {
		n.rollout = orDash(r.Rollout.From) + " → " + r.Rollout.To
	}
}

// layout places nodes in columns by depth and sizes the drawing.
func (g *graph) layout() {
	nodes, order := g.nodes, g.order
	// Depth is the longest call path from an entry; the pass count bound
	// keeps a (misconfigured) cycle from looping forever.
	for pass := 0; pass < len(order); pass++ {
		changed := false
		for _, name := range order {
			n := nodes[name]
			for _, d := range n.svc.DependsOn {
				if m := nodes[d]; m.depth < n.depth+1 {
					m.depth = n.depth + 1
					changed = true
				}
			}
		}
		if !changed {
			break
		}
	}
	cols := map[int][]*node{}
	maxDepth, maxRows := 0, 0
	for _, name := range order {
		n := nodes[name]
		cols[n.depth] = append(cols[n.depth], n)
		maxDepth = max(maxDepth, n.depth)
		maxRows = max(maxRows, len(cols[n.depth]))
	}
	height := 2*graphPad + float64(maxRows)*nodeH + float64(maxRows-1)*rowGap
	bottom := 0.0 // room for fault labels under the lowest boxes
	for _, n := range nodes {
		bottom = max(bottom, 13*float64(len(n.faults)))
	}
	for d, col := range cols {
		// Center each column vertically so that single nodes sit in the middle.
		top := (height - (float64(len(col))*nodeH + float64(len(col)-1)*rowGap)) / 2
		for i, n := range col {
			n.row = i
			n.x = graphPad + float64(d)*(nodeW+colGap)
			n.y = top + float64(i)*(nodeH+rowGap)
		}
	}
	g.height = height + bottom
	g.width = 2*graphPad + float64(maxDepth+1)*nodeW + float64(maxDepth)*colGap
}

// drawEdges draws an arrow per dependency and returns the fault labels.
func (g *graph) drawEdges(b *strings.Builder) (labels []string) {
	for _, name := range g.order {
		n := g.nodes[name]
		deps := append([]string(nil), n.svc.DependsOn...)
		sort.Strings(deps)
		for _, d := range deps {
			m := g.nodes[d]
			x1, y1 := n.x+nodeW, n.y+nodeH/2
			x2, y2 := m.x, m.y+nodeH/2
			if m.depth <= n.depth { // a back edge (cycle): route it below
				x2 = m.x + nodeW/2
				y2 = m.y + nodeH
			}
			cx := (x1 + x2) / 2
			hit := g.edgeFaults[[2]string{name, d}]
			cls, marker := "edge", "fd-arrow"
			if len(hit) > 0 {
				cls, marker = "edge hit", "fd-arrow-hit"
			}
			fmt.Fprintf(b, `<path class="%s" d="M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f" marker-end="url(#%s)"/>`+"\n",
				cls, x1, y1, cx, y1, cx, y2, x2, y2, marker)
			for i, l := range hit {
				labels = append(labels, fmt.Sprintf(`<text class="edge-label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n",
					cx, (y1+y2)/2-6-float64(len(hit)-1-i)*13, esc(clip(l, 26))))
			}
		}
	}
	return labels
}

// drawNodes draws a box per node and returns the fault labels.
func (g *graph) drawNodes(b *strings.Builder) (labels []string) {
	for _, name := range g.order {
		n := g.nodes[name]
		cls := "node"
		if n.external {
			cls += " external"
		}
		if len(n.faults) > 0 {
			cls += " hit"
		}
		if n.rollout != "" {
			cls += " rolled"
		}
		fmt.Fprintf(b, `<g class="%s"><rect x="%.1f" y="%.1f" width="%.0f" height="%.0f" rx="6"/>`, cls, n.x, n.y, nodeW, nodeH)
		fmt.Fprintf(b, `<text class="name" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, n.x+nodeW/2, n.y+20, esc(clip(name, 22)))
		sub := n.svc.Version
		if n.rollout != "" {
			sub = n.rollout
		}
		if n.svc.Replicas > 1 {
			sub += fmt.Sprintf(" ×%d", n.svc.Replicas)
		}
		if n.external {
			sub = "not in the topology"
		}
		fmt.Fprintf(b, `<text class="sub" x="%.1f" y="%.1f" text-anchor="middle">%s</text></g>`+"\n", n.x+nodeW/2, n.y+38, esc(clip(sub, 28)))
		for i, l := range n.faults {
			labels = append(labels, fmt.Sprintf(`<text class="edge-label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n",
				n.x+nodeW/2, n.y+nodeH+13+float64(i)*13, esc(clip(l, 26))))
		}
	}
	return labels
}

// splitEdge parses a fault target "A -> B".
func splitEdge(t string) (string, string, bool) {
	a, b, ok := strings.Cut(t, "->")
	if !ok {
		return "", "", false
	}
	return strings.TrimSpace(a), strings.TrimSpace(b), true
}

// nodeFor finds the service a fault target names: the service itself or one
// of its instances ("payments-0", "payments/1.5.0#0").
func nodeFor(nodes map[string]*node, target string) *node {
	if n, ok := nodes[target]; ok {
		return n
	}
	var best *node
	for name, n := range nodes {
		for _, sep := range []string{"-", "/", "#", "@", ":"} {
			if strings.HasPrefix(target, name+sep) && (best == nil || len(name) > len(best.svc.Name)) {
				best = n
			}
		}
	}
	return best
}

func esc(s string) string { return html.EscapeString(s) }

func htmlAttr(s string) string { return html.EscapeString(s) }

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
