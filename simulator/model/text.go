package model

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteText prints a readable summary of s.
func WriteText(w io.Writer, s *Summary) {
	fmt.Fprintf(w, "%s: %d trials (seed %d) in %.1fs\n\n", s.Scenario, s.Trials, s.Seed, s.WallS)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "outcome\ttrials\tratio\t95% interval")
	for _, k := range []string{Promoted, RolledBack, Aborted, "detected"} {
		r := s.Ratios[k]
		fmt.Fprintf(tw, "%s\t%d\t%.4f\t[%.4f, %.4f]\n", k, r.X, r.Ratio, r.CI95[0], r.CI95[1])
	}
	_ = tw.Flush()
	if len(s.Triggers) > 0 {
		var parts []string
		for _, k := range sortedKeys(s.Triggers) {
			parts = append(parts, fmt.Sprintf("%s %d", k, s.Triggers[k]))
		}
		fmt.Fprintf(w, "triggers: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\ttrials\tmean\tp50\tp90\tp99\tmax")
	row := func(name string, q Quantiles) {
		if q.N == 0 {
			fmt.Fprintf(tw, "%s\t0\t-\t-\t-\t-\t-\n", name)
			return
		}
		fmt.Fprintf(tw, "%s\t%d\t%.4g\t%.4g\t%.4g\t%.4g\t%.4g\n", name, q.N, q.Mean, q.P50, q.P90, q.P99, q.Max)
	}
	row("time to detect (s)", s.DetectS)
	row("time to rollback (s)", s.RollbackS)
	row("bad requests", s.BadRequests)
	if s.BudgetBurnedPct != nil {
		row(fmt.Sprintf("SLO budget burned (%%, objective %.4g)", s.Objective), *s.BudgetBurnedPct)
	}
	_ = tw.Flush()
	if len(s.Expectations) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "expectation\tpassed\tratio\t95% interval")
		for _, e := range s.Expectations {
			if !e.Simulated {
				fmt.Fprintf(tw, "%s\t-\tnot simulated\t\n", e.Name)
				continue
			}
			fmt.Fprintf(tw, "%s\t%d/%d\t%.4f\t[%.4f, %.4f]\n", e.Name, e.X, e.N, e.Ratio.Ratio, e.CI95[0], e.CI95[1])
		}
		_ = tw.Flush()
	}
	for _, m := range s.Warnings {
		fmt.Fprintf(w, "note: %s\n", m)
	}
}

// WriteComparison prints plans side by side: one column per summary.
func WriteComparison(w io.Writer, ss []*Summary) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	head := []string{"figure"}
	for _, s := range ss {
		head = append(head, s.Scenario)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	line := func(name string, f func(*Summary) string) {
		cells := []string{name}
		for _, s := range ss {
			cells = append(cells, f(s))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	ratio := func(k string) func(*Summary) string {
		return func(s *Summary) string {
			r := s.Ratios[k]
			return fmt.Sprintf("%.3f [%.3f, %.3f]", r.Ratio, r.CI95[0], r.CI95[1])
		}
	}
	quant := func(get func(*Summary) Quantiles) func(*Summary) string {
		return func(s *Summary) string {
			q := get(s)
			if q.N == 0 {
				return "-"
			}
			return fmt.Sprintf("%.4g / %.4g", q.P50, q.P90)
		}
	}
	line("trials", func(s *Summary) string { return fmt.Sprint(s.Trials) })
	line("promoted", ratio(Promoted))
	line("rolled back", ratio(RolledBack))
	line("aborted", ratio(Aborted))
	line("detected", ratio("detected"))
	line("time to detect s (p50 / p90)", quant(func(s *Summary) Quantiles { return s.DetectS }))
	line("time to rollback s (p50 / p90)", quant(func(s *Summary) Quantiles { return s.RollbackS }))
	line("bad requests (p50 / p90)", quant(func(s *Summary) Quantiles { return s.BadRequests }))
	_ = tw.Flush()
}

func sortedKeys(m map[string]int) []string { return slices.Sorted(maps.Keys(m)) }
