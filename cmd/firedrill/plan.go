package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/firedrill/firedrill/scenarios"
)

func newPlanCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "plan SCENARIO.yaml",
		Short: "Print the timeline of rollout steps, faults and checks (a dry run: starts nothing)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := loadScenario(cmd.Context(), args[0], "") // load.go
			if err != nil {
				return err
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
	for _, name := range sc.DatabaseNames() {
		d := sc.Databases[name]
		failover := "failover " + d.Failover
		if d.Failover == scenarios.FailoverAuto {
			failover += fmt.Sprintf(" (the harness promotes a replica %s after the primary fails)", d.Detect)
		}
		fmt.Fprintf(w, "  database %-11s %s primary + %d %s replica(s) through Toxiproxy; %s\n", name, d.Engine, d.Replicas, d.Replication, failover)
	}
	fmt.Fprintln(w, "timeline (from traffic start):")
	items := []planItem{{0, fmt.Sprintf("traffic starts: %.0f rps to %s", sc.Traffic.Rate, sc.Traffic.Entry)}}
	if l := sc.Ledger; l != nil {
		items = append(items, planItem{0, fmt.Sprintf("write ledger starts: %g unique writes/s to %s (unanswered after %s: unknown); read back after the traffic", l.Rate, l.Database, l.Timeout)})
	}
	stepStart := map[int]time.Duration{}
	if ro := sc.Rollout; ro != nil {
		t := ro.StartAt.D()
		deploy := fmt.Sprintf("rollout %s: deploy %s x%d (%s)", ro.Service, ro.To, ro.Replicas, ro.Strategy)
		if !ro.HasSteps() {
			deploy += "; judged by " + checks(ro.Analysis)
		}
		// The first step waits for the new instances to pass their health
		// checks: about healthy_after checks, one per interval.
		ready := time.Second
		if svc := sc.Service(ro.Service); svc != nil {
			ready = time.Duration(max(svc.Health.HealthyAfter, 1)) * svc.Health.Interval.D()
		}
		deploy += fmt.Sprintf("; about %s until healthy", ready)
		items = append(items, planItem{t, deploy})
		t += ready
		switch {
		case ro.Strategy == scenarios.StrategyBlueGreen && ro.BlueGreen != nil:
			bg := ro.BlueGreen
			items = append(items, planItem{t, fmt.Sprintf("preview of %s on %s traffic for %s", ro.To, bg.Preview, bg.PreviewFor)})
			t += bg.PreviewFor.D()
			items = append(items, planItem{t, fmt.Sprintf("switch all traffic to %s at once (if the preview passed); keep %s for %s", ro.To, sc.Service(ro.Service).Version, bg.ScaleDownDelay)})
			t += bg.ScaleDownDelay.D()
		case ro.Strategy == scenarios.StrategyRolling && ro.Rolling != nil:
			rl := ro.Rolling
			batch := max(rl.MaxSurge, rl.MaxUnavailable, 1)
			n := (ro.Replicas + batch - 1) / batch
			items = append(items, planItem{t, fmt.Sprintf("replace %d instance(s) in %d batch(es): max surge %d, max unavailable %d, %s between batches",
				ro.Replicas, n, rl.MaxSurge, rl.MaxUnavailable, rl.Pause)})
			t += time.Duration(n) * rl.Pause.D()
		default:
			for i, st := range ro.Steps {
				stepStart[i+1] = t
				what := fmt.Sprintf("%d%% to %s", st.Weight, ro.To)
				if ro.Strategy == scenarios.StrategyPhased {
					what = fmt.Sprintf("%d%% of user cohorts to %s", st.Weight, ro.To)
				}
				a := ro.Analysis
				if st.Analysis != nil {
					a = *st.Analysis
				}
				items = append(items, planItem{t, fmt.Sprintf("step %d: %s for %s; %s", i+1, what, st.Pause, checks(a))})
				t += st.Pause.D()
			}
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
		if f.Duration <= 0 { // a kill, a promotion, a migration: nothing to revert
			items = append(items, planItem{at, fmt.Sprintf("%s %s: %s on %s%s", faultWord(f), f.Name, f.Kind, f.Target(), rel)})
			continue
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

// faultWord calls a scenario action an action, anything else a fault.
func faultWord(f *scenarios.Fault) string {
	switch f.Kind {
	case scenarios.ActionPromote, scenarios.ActionBackup, scenarios.ActionMigrate:
		return "action"
	}
	return "fault"
}

func checks(a scenarios.Analysis) string {
	var limits []string
	if a.MaxErrorRate > 0 {
		limits = append(limits, fmt.Sprintf("error rate > %.1f%%", 100*a.MaxErrorRate))
	}
	if a.MaxP99 > 0 {
		limits = append(limits, "p99 > "+a.MaxP99.String())
	}
	judge := ""
	switch a.Judge {
	case scenarios.JudgeSequential:
		judge = fmt.Sprintf("sequential test vs the old version every %s (alpha %g, margin +%g)", a.Interval, a.Alpha, a.ErrorMargin)
	case scenarios.JudgeStatistical:
		judge = fmt.Sprintf("statistical judge vs the old version at the step's end (alpha %g)", a.Alpha)
	}
	switch {
	case judge != "" && len(limits) > 0:
		return fmt.Sprintf("%s; roll back if %s", judge, strings.Join(limits, " or "))
	case judge != "":
		return judge
	case len(limits) > 0:
		return fmt.Sprintf("roll back if %s (every %s over %s, %d look(s) in a row)", strings.Join(limits, " or "), a.Interval, a.Window, a.Failures)
	}
	return "no check (threshold judge without limits)"
}
