package observe

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
)

// AlertRun is what EvaluateAlerts needs of a finished run.
type AlertRun struct {
	Groups  *rulefmt.RuleGroups
	Samples *record.Recorder
	// T0 is traffic start, End the end of traffic; rules are evaluated
	// every Interval from T0+Interval to End.
	T0, End  time.Time
	Interval time.Duration
	// Windows are the spans in which something was known to be wrong;
	// Grace is how long after a window's end a firing still covers it.
	Windows []Window
	Grace   time.Duration
}

// Cost is what evaluating the rules took.
type Cost struct {
	Series      int
	Evaluations int // rule evaluations (rules x instants)
	Build, Eval time.Duration
}

// rule is one rule of the file, parsed, with its alert state.
type rule struct {
	name, record string
	expr         parser.Expr
	hold, keep   time.Duration
	active       map[uint64]*instance // by the result's label hash
	firing       []span               // union over label sets, in order
	err          error
}

// instance is one label set of an alert's result (Prometheus' Alert).
type instance struct {
	activeAt, lastSeen time.Time
	firing             bool
}

type span struct{ from, to time.Time } // to zero: still firing

// EvaluateAlerts runs the alerting rules over the run's series with the
// Prometheus query engine, instant by instant as a Prometheus server
// would (pending for `for`, then firing; keep_firing_for), and scores each
// alert against the windows.
func EvaluateAlerts(ctx context.Context, in AlertRun) ([]reports.Alert, Cost) {
	var cost Cost
	began := time.Now()
	st := buildStore(in.Samples, in.T0, in.End, in.Windows)
	cost.Series, cost.Build = len(st.byKey), time.Since(began)
	ev := newEvaluator(in.Groups)
	began = time.Now()
	ev.advance(ctx, st, in.T0, in.End, in.Interval, &cost)
	cost.Eval = time.Since(began)
	var out []reports.Alert
	for _, r := range ev.rules {
		if r.name != "" {
			out = append(out, r.score(in))
		}
	}
	return out, cost
}

// evaluator is the rules of a file with their state, and the query engine.
type evaluator struct {
	engine *promql.Engine
	rules  []*rule
	last   time.Time // the last instant evaluated
	// recorded are the recording rules' results so far, for the next
	// store of a live evaluation (each tick builds a new one).
	recorded []recordedSample
}

type recordedSample struct {
	l labels.Labels
	t int64
	v float64
}

func newEvaluator(groups *rulefmt.RuleGroups) *evaluator {
	p := parser.NewParser(parser.Options{})
	engine := promql.NewEngine(promql.EngineOpts{Logger: slog.New(slog.DiscardHandler), MaxSamples: 50_000_000,
		Timeout: time.Minute, LookbackDelta: 5 * time.Minute, EnableAtModifier: true, EnableNegativeOffset: true, Parser: p})
	ev := &evaluator{engine: engine}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			expr, err := p.ParseExpr(r.Expr)
			ev.rules = append(ev.rules, &rule{name: r.Alert, record: r.Record, expr: expr, err: err,
				hold: time.Duration(r.For), keep: time.Duration(r.KeepFiringFor), active: map[uint64]*instance{}})
		}
	}
	return ev
}

// advance evaluates every rule at each instant t0 + k*interval after the
// last one evaluated, up to end, over st.
func (ev *evaluator) advance(ctx context.Context, st *memStore, t0, end time.Time, interval time.Duration, cost *Cost) {
	interval = max(interval, time.Millisecond)
	at := t0.Add(interval)
	if !ev.last.IsZero() {
		at = ev.last.Add(interval)
	}
	for ; !at.After(end); at = at.Add(interval) {
		ev.last = at
		for _, r := range ev.rules {
			if r.err != nil {
				continue
			}
			vec, err := query(ctx, ev.engine, st, r.expr.String(), at)
			cost.Evaluations++
			if err != nil {
				r.err = fmt.Errorf("at +%s: %w", at.Sub(t0), err)
				continue
			}
			if r.record != "" {
				for _, s := range vec {
					l := withName(s.Metric, r.record)
					st.add(l, ms(at), s.F)
					ev.recorded = append(ev.recorded, recordedSample{l, ms(at), s.F})
				}
				continue
			}
			r.step(at, vec)
		}
	}
}

func query(ctx context.Context, engine *promql.Engine, st *memStore, qs string, at time.Time) (promql.Vector, error) {
	q, err := engine.NewInstantQuery(ctx, st, nil, qs, at)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		return v, nil
	case promql.Scalar: // as Prometheus' rule manager does
		return promql.Vector{promql.Sample{T: v.T, F: v.V, Metric: labels.EmptyLabels()}}, nil
	}
	return nil, fmt.Errorf("rule result is a %s, not an instant vector", res.Value.Type())
}

func withName(l labels.Labels, name string) labels.Labels {
	b := labels.NewBuilder(l)
	b.Set(labels.MetricName, name)
	return b.Labels()
}

// step advances the alert's state to at with the expression's result, as
// Prometheus' AlertingRule.Eval does: a new label set is pending, fires
// once it held for `for`, and resolves when absent (after keep_firing_for).
func (r *rule) step(at time.Time, vec promql.Vector) {
	seen := map[uint64]bool{}
	for _, s := range vec {
		h := s.Metric.DropMetricName().Hash()
		seen[h] = true
		a := r.active[h]
		if a == nil {
			a = &instance{activeAt: at}
			r.active[h] = a
		}
		a.lastSeen = at
		if !a.firing && at.Sub(a.activeAt) >= r.hold {
			a.firing = true
		}
	}
	firing := false
	for h, a := range r.active {
		if !seen[h] && !(a.firing && r.keep > 0 && at.Sub(a.lastSeen) < r.keep) {
			delete(r.active, h)
			continue
		}
		firing = firing || a.firing
	}
	n := len(r.firing)
	switch {
	case firing && (n == 0 || !r.firing[n-1].to.IsZero()):
		r.firing = append(r.firing, span{from: at})
	case !firing && n > 0 && r.firing[n-1].to.IsZero():
		r.firing[n-1].to = at
	}
}

// score says when the alert fired against the windows.
func (r *rule) score(in AlertRun) reports.Alert {
	a := reports.Alert{Name: r.name, Fired: len(r.firing) > 0}
	if r.err != nil {
		a.Error = r.err.Error()
	}
	// Of the windows a firing falls in, the one that began last is its
	// likeliest cause (a fault during a canary, say).
	wins := append([]Window(nil), in.Windows...)
	sort.SliceStable(wins, func(i, j int) bool { return wins[i].From.After(wins[j].From) })
	for _, f := range r.firing {
		fr := reports.AlertFiring{StartS: secs(f.from.Sub(in.T0))}
		if !f.to.IsZero() {
			fr.EndS = ptr(secs(f.to.Sub(in.T0)))
		}
		for _, w := range wins {
			if !f.from.Before(w.From) && !f.from.After(w.To.Add(in.Grace)) {
				fr.Window = w.Name
				if a.Window == "" {
					a.Window, a.LatencyS = w.Name, ptr(secs(f.from.Sub(w.From)))
				}
				break
			}
		}
		if fr.Window == "" {
			a.FalseAlarms++
		}
		a.Firings = append(a.Firings, fr)
	}
	if a.Fired {
		first := r.firing[0].from.UTC()
		a.FirstFiringAt = &first
		if last := r.firing[len(r.firing)-1]; !last.to.IsZero() {
			end := last.to.UTC()
			a.ResolvedAt = &end
		}
	}
	return a
}

func secs(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

func ptr(x float64) *float64 { return &x }
