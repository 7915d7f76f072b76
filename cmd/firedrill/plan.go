package main

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/scenarios"
)

func newPlanCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "plan SCENARIO.yaml",
		Short: "Print the timeline of rollout steps, faults and checks (a dry run: starts nothing)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := scenarios.Load(args[0])
			if err != nil {
				return &exitError{code: firedrill.ExitInvalid, err: err}
			}
			printPlan(cmd.OutOrStdout(), sc)
			return nil
		},
	}
}

type planItem struct {
	at   time.Duration
	what string
}

// printPlan lays the scenario out on one timeline, counting from the start of
// traffic; step-relative faults are placed as if no rollback happened.
func printPlan(w io.Writer, sc *scenarios.Scenario) {
	fmt.Fprintf(w, "scenario %s (runtime %s)\n", sc.Name, sc.Runtime)
	for _, s := range sc.Services {
		deps := ""
		if len(s.DependsOn) > 0 {
			deps = fmt.Sprintf(" -> %v", s.DependsOn)
		}
		fmt.Fprintf(w, "  service %-12s %s x%d%s\n", s.Name, s.Version, s.Replicas, deps)
	}
	fmt.Fprintln(w, "timeline (from traffic start):")
	items := []planItem{{0, fmt.Sprintf("traffic starts: %.0f rps to %s", sc.Traffic.Rate, sc.Traffic.Entry)}}
	stepStart := map[int]time.Duration{}
	if ro := sc.Rollout; ro != nil {
		t := ro.StartAt.D()
		items = append(items, planItem{t, fmt.Sprintf("rollout %s: deploy %s x%d (%s)", ro.Service, ro.To, ro.Replicas, ro.Strategy)})
		for i, st := range ro.Steps {
			stepStart[i+1] = t
			a := ro.Analysis
			if st.Analysis != nil {
				a = *st.Analysis
			}
			items = append(items, planItem{t, fmt.Sprintf("step %d: %d%% to %s for %s; roll back if %s", i+1, st.Weight, ro.To, st.Pause, checks(a))})
			t += st.Pause.D()
		}
		items = append(items, planItem{t, fmt.Sprintf("promote %s to %s (if no check failed)", ro.Service, ro.To)})
	}
	for _, f := range sc.Faults {
		at := f.At.D()
		rel := ""
		if f.Step > 0 {
			at += stepStart[f.Step]
			rel = fmt.Sprintf(" (step %d + %s)", f.Step, f.At)
		}
		items = append(items, planItem{at, fmt.Sprintf("fault %s: %s on %s for %s%s", f.Name, f.Kind, f.Target(), f.Duration, rel)})
		items = append(items, planItem{at + f.Duration.D(), fmt.Sprintf("fault %s reverted", f.Name)})
	}
	items = append(items, planItem{sc.Traffic.Duration.D(), "traffic stops; expectations are checked"})
	sort.SliceStable(items, func(i, j int) bool { return items[i].at < items[j].at })
	for _, it := range items {
		fmt.Fprintf(w, "  +%-8s %s\n", it.at, it.what)
	}
	if len(sc.Expectations) > 0 {
		fmt.Fprintln(w, "expectations:")
		for _, e := range sc.Expectations {
			fmt.Fprintf(w, "  - %s\n", e.Name)
		}
	}
}

func checks(a scenarios.Analysis) string {
	s := ""
	if a.MaxErrorRate > 0 {
		s = fmt.Sprintf("error rate > %.1f%%", 100*a.MaxErrorRate)
	}
	if a.MaxP99 > 0 {
		if s != "" {
			s += " or "
		}
		s += "p99 > " + a.MaxP99.String()
	}
	if s == "" {
		return "nothing (no thresholds)"
	}
	return fmt.Sprintf("%s (every %s over %s, %d look(s) in a row)", s, a.Interval, a.Window, a.Failures)
}
