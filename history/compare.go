package history

import (
	"context"
	"fmt"
	"strings"

	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// Expectation kinds a baseline comparison adds to a result.
const (
	KindBaselineP99     = "baseline_p99"
	KindBaselineRestore = "baseline_restore"
)

// Comparison is a run measured against its baseline: the scenario's last
// GO runs recorded before it.
type Comparison struct {
	Baseline []int64
	Checks   []reports.Expectation
}

// Label names the baseline runs ("#3,#5,#8").
func (c *Comparison) Label() string {
	ids := make([]string, len(c.Baseline))
	for i, id := range c.Baseline {
		ids[i] = fmt.Sprintf("#%d", id)
	}
	return strings.Join(ids, ",")
}

// Compare measures res against the last cmp.Last GO runs of its scenario.
func (s *Store) Compare(ctx context.Context, res *reports.Result, cmp *scenarios.Compare) (*Comparison, error) {
	last := cmp.Last
	if last <= 0 {
		last = scenarios.DefaultCompareLast
	}
	runs, err := s.Runs(ctx, Filter{Scenario: res.Scenario, Verdict: reports.GO, Until: res.StartedAt, Last: last, Kind: KindRun})
	if err != nil {
		return nil, err
	}
	return CompareRuns(FromResult(res, Provenance{}), runs, cmp), nil
}

// CompareRuns is Compare's pure logic over the baseline runs.
func CompareRuns(cur Run, baseline []Run, cmp *scenarios.Compare) *Comparison {
	c := &Comparison{Baseline: []int64{}}
	for _, r := range baseline {
		c.Baseline = append(c.Baseline, r.ID)
	}
	figures := []struct {
		kind, what, unit string
		margin           *float64
		get              func(*Run) *float64
	}{
		{KindBaselineP99, "p99 latency", "ms", cmp.P99Margin, func(r *Run) *float64 { return r.P99MS }},
		{KindBaselineRestore, "time to restore", "s", cmp.RestoreMargin, func(r *Run) *float64 { return r.RestoreS }},
	}
	for _, f := range figures {
		if f.margin == nil {
			continue
		}
		var vals []float64
		var ids []string
		for i := range baseline {
			if v := f.get(&baseline[i]); v != nil {
				vals = append(vals, *v)
				ids = append(ids, fmt.Sprintf("#%d", baseline[i].ID))
			}
		}
		x := reports.Expectation{Kind: f.kind, Passed: true,
			Name: fmt.Sprintf("%s no worse than the baseline median +%g%%", f.what, 100**f.margin)}
		med, v := Median(vals), f.get(&cur)
		switch {
		case med == nil:
			x.Observed, x.Threshold = "no baseline yet", "-"
			x.Detail = fmt.Sprintf("no GO run of %s with a %s is recorded before this one; this run starts the baseline", cur.Scenario, f.what)
		case v == nil:
			x.Observed, x.Threshold = "not measured", "-"
			x.Detail = fmt.Sprintf("this run has no %s to compare", f.what)
		default:
			limit := *med * (1 + *f.margin)
			x.Passed = *v <= limit
			x.Observed = fmt.Sprintf("%.3g%s", *v, f.unit)
			x.Threshold = fmt.Sprintf("<= %.3g%s", limit, f.unit)
			x.Value, x.Limit, x.Op, x.Unit = ptr(*v), ptr(limit), "<=", f.unit
			x.Detail = fmt.Sprintf("baseline runs %s: median %.3g%s", strings.Join(ids, ","), *med, f.unit)
		}
		c.Checks = append(c.Checks, x)
	}
	return c
}

// Apply adds the comparison's checks to the result, turning it NO-GO
// when one failed.
func (c *Comparison) Apply(res *reports.Result) {
	res.Expectations = append(res.Expectations, c.Checks...)
	for _, x := range c.Checks {
		if !x.Passed {
			res.Verdict = reports.NOGO
		}
	}
}

func ptr(v float64) *float64 { return &v }
