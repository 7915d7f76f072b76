package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/history"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

const historyFlagHelp = "run history: a file path, postgres://... or off (default $FIREDRILL_HISTORY, else $XDG_DATA_HOME/firedrill/history.db)"

// openHistory opens the store for a command that needs it (exit 3 when
// it cannot be reached, 2 for --history off).
func openHistory(ctx context.Context, spec string) (*history.Store, error) {
	st, err := history.Open(ctx, spec)
	if errors.Is(err, history.ErrOff) {
		return nil, &exitError{code: firedrill.ExitInvalid, err: fmt.Errorf("this command reads the run history: %w", err)}
	}
	if err != nil {
		return nil, &exitError{code: firedrill.ExitInfra, err: err}
	}
	return st, nil
}

// recordRun stores a run's result in the history. The run never fails
// because of it: a store that cannot be reached is a warning on stderr.
func recordRun(ctx context.Context, spec string, res *reports.Result, baseline string, out io.Writer) {
	if spec == "" {
		spec = os.Getenv(history.EnvHistory)
	}
	if spec == history.Off || res == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	st, err := history.Open(ctx, spec)
	if err != nil {
		fmt.Fprintf(os.Stderr, "firedrill: warning: the run is not in the history: %v\n", err)
		return
	}
	defer st.Close()
	r := history.FromResult(res, history.ProvenanceOf(ctx, res.ScenarioFile))
	r.Baseline = baseline
	if abs, err := filepath.Abs(r.OutDir); err == nil && r.OutDir != "" {
		r.OutDir = abs // the history is read from anywhere
	}
	id, err := st.Record(ctx, r)
	if err != nil {
		fmt.Fprintf(os.Stderr, "firedrill: warning: the run is not in the history: %v\n", err)
		return
	}
	fmt.Fprintf(out, "history  run #%d in %s\n", id, st.Where())
	if err := addRecent(ctx, st, res, id); err != nil {
		fmt.Fprintf(os.Stderr, "firedrill: warning: the report shows no history: %v\n", err)
	}
}

// addRecent puts the scenario's last ten runs into the result and writes
// result.json and report.html (when the run wrote one) again.
func addRecent(ctx context.Context, st *history.Store, res *reports.Result, id int64) error {
	runs, err := st.Runs(ctx, history.Filter{Scenario: res.Scenario, Last: 10, Kind: history.KindRun})
	if err != nil {
		return err
	}
	res.Recent = nil
	for _, r := range runs {
		res.Recent = append(res.Recent, reports.RecentRun{ID: r.ID, StartedAt: r.StartedAt, Version: r.Version,
			Verdict: r.Verdict, DetectS: r.DetectS, P99MS: r.P99MS, This: r.ID == id})
	}
	if res.OutDir == "" {
		return nil
	}
	formats := []string{"json"}
	if _, err := os.Stat(filepath.Join(res.OutDir, "report.html")); err == nil {
		formats = append(formats, "html")
	}
	_, err = reports.Write(res.OutDir, res, formats)
	return err
}

// compareBaseline runs a scenario's compare: check after the verdict: its
// checks join the result (a failed one makes it NO-GO) and the result
// files are written again. Without a reachable history it warns and the
// result stays as it was. It returns the baseline runs' label.
func compareBaseline(ctx context.Context, spec string, cmp *scenarios.Compare, res *reports.Result, runErr error, formats []string) string {
	if cmp == nil || res == nil || runErr != nil || res.Interrupted || res.Aborted != "" { // an aborted drill keeps its verdict
		return ""
	}
	warn := func(err error) { fmt.Fprintf(os.Stderr, "firedrill: warning: compare: skipped: %v\n", err) }
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	st, err := history.Open(ctx, spec)
	if err != nil {
		warn(err)
		return ""
	}
	defer st.Close()
	c, err := st.Compare(ctx, res, cmp)
	if err != nil {
		warn(err)
		return ""
	}
	c.Apply(res)
	if len(formats) == 0 {
		formats = []string{"md", "junit", "html"}
	}
	if _, err := reports.Write(res.OutDir, res, append([]string{"json"}, formats...)); err != nil {
		fmt.Fprintf(os.Stderr, "firedrill: warning: compare: rewriting the reports: %v\n", err)
	}
	return c.Label()
}

func newHistoryCmd() *cobra.Command {
	var (
		spec, scenario, since string
		kind                  string
		asJSON                bool
		last                  int
	)
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Show recorded runs with trends, failure rate, restore times and flaky checks",
		Long: `History lists the runs recorded by firedrill run (oldest first) with sparklines of their
verdicts, detection times and p99 per scenario, and sums them up: change failure rate (NO-GO
share of rehearsed releases), median time to restore and to detect, and the flaky
expectations (whose verdict flips for the same scenario file and version) with a 95% Wilson
interval on their flip rate. Plans recorded by firedrill simulate are listed apart (trials,
rollback and detection ratios) and count in none of those figures. --json prints
{"runs": [...], "summary": {...}}; a simulation's "kind" is "simulation".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := history.Filter{Scenario: scenario, Last: last, Kind: kind}
			if kind != "" && kind != history.KindRun && kind != history.KindSimulation {
				return &exitError{code: firedrill.ExitInvalid, err: fmt.Errorf("--kind %q: write run or simulation", kind)}
			}
			if since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return &exitError{code: firedrill.ExitInvalid, err: err}
				}
				f.Since = t
			}
			st, err := openHistory(cmd.Context(), spec)
			if err != nil {
				return err
			}
			defer st.Close()
			runs, err := st.Runs(cmd.Context(), f)
			if err != nil {
				return &exitError{code: firedrill.ExitInfra, err: err}
			}
			if runs == nil {
				runs = []history.Run{}
			}
			sum := history.Summarize(runs)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Runs    []history.Run   `json:"runs"`
					Summary history.Summary `json:"summary"`
				}{runs, sum})
			}
			printHistory(cmd.OutOrStdout(), st.Where(), runs, sum)
			return nil
		},
	}
	cmd.Flags().StringVar(&spec, "history", "", historyFlagHelp)
	cmd.Flags().StringVar(&scenario, "scenario", "", "only this scenario's runs")
	cmd.Flags().StringVar(&since, "since", "", "only runs since: an age (7d, 2w, 36h) or a time (2026-12-01, RFC 3339)")
	cmd.Flags().IntVar(&last, "last", 0, "only the newest N runs")
	cmd.Flags().StringVar(&kind, "kind", "", "only live runs (run) or simulated plans (simulation); default both")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"runs": [...], "summary": {...}}`)
	cmd.AddCommand(newHistoryDecisionCmd(history.DecisionApproval), newHistoryDecisionCmd(history.DecisionRevoke))
	return cmd
}

// parseSince reads an age before now or a date / time.
func parseSince(s string, now time.Time) (time.Time, error) {
	var a history.Age
	if err := a.UnmarshalText([]byte(s)); err == nil {
		return now.Add(-time.Duration(a)), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: write an age (7d, 2w, 36h) or a UTC time (2026-12-01, 2026-12-01T08:00:00Z)", s)
}

// newHistoryDecisionCmd records an approval (or its revocation) of the version a
// scenario file rolls out; the gate counts the approvals that stand.
func newHistoryDecisionCmd(kind string) *cobra.Command {
	var spec, by, note string
	verb := map[string]string{history.DecisionApproval: "approve", history.DecisionRevoke: "revoke"}[kind]
	cmd := &cobra.Command{
		Use:   verb + " SCENARIO.yaml",
		Short: map[string]string{history.DecisionApproval: "Record your approval of releasing the version a scenario rehearses", history.DecisionRevoke: "Withdraw your approval of a scenario's version"}[kind],
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := scenarios.Load(args[0])
			if err != nil {
				return &exitError{code: firedrill.ExitInvalid, err: err}
			}
			if by == "" {
				by = firstEnv("GITHUB_ACTOR", "GITLAB_USER_LOGIN", "USER")
			}
			st, err := openHistory(cmd.Context(), spec)
			if err != nil {
				return err
			}
			defer st.Close()
			d := history.Decision{Kind: kind, Scenario: sc.Name, Version: rolloutVersion(sc), FileHash: history.FileHash(args[0]),
				Actor: by, Note: note, At: time.Now().UTC()}
			id, err := st.Decide(cmd.Context(), d)
			if err != nil {
				return &exitError{code: firedrill.ExitInfra, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "decision #%d: %s %s %s by %s in %s\n", id, kind, d.Scenario, d.Version, d.Actor, st.Where())
			return nil
		},
	}
	cmd.Flags().StringVar(&spec, "history", "", historyFlagHelp)
	cmd.Flags().StringVar(&by, "by", "", "who decides (default $GITHUB_ACTOR, $GITLAB_USER_LOGIN, else $USER)")
	cmd.Flags().StringVar(&note, "note", "", "why, for the record")
	return cmd
}

func rolloutVersion(sc *scenarios.Scenario) string {
	if sc.Rollout == nil {
		return ""
	}
	return sc.Rollout.To
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// printHistory prints the runs as a table, one trend line per scenario
// and the summary.
func printHistory(w io.Writer, where string, all []history.Run, sum history.Summary) {
	if len(all) == 0 {
		fmt.Fprintf(w, "no runs recorded in %s\n", where)
		return
	}
	printSimulations(w, all)
	runs := history.LiveRuns(all)
	if len(runs) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tSTARTED (UTC)\tSCENARIO\tVERSION\tVERDICT\tDETECT\tROLLBACK\tRESTORE\tRTO\tP99\tAVAIL\tCOMMIT")
	for _, r := range runs {
		verdict := r.Verdict
		if r.Interrupted {
			verdict += " (interrupted)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.StartedAt.UTC().Format("2006-01-02 15:04"),
			r.Scenario, dash(r.Version), verdict, secs(r.DetectS), secs(r.RollbackS), secs(r.RestoreS), secs(r.RTOS),
			ms(r.P99MS), pct(r.Availability), short(r.Commit))
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\ntrends, oldest → newest")
	printTrends(w, runs)
	fmt.Fprintf(w, "\nsummary  %d runs: %d GO, %d NO-GO · change failure rate %s · MTTR median %s · detect median %s · p99 median %s\n",
		sum.Runs, sum.GO, sum.NOGO, pct(sum.ChangeFailureRate), secs(sum.MTTRMedianS), secs(sum.DetectMedianS), ms(sum.P99MedianMS))
	if len(sum.Flaky) == 0 {
		fmt.Fprintln(w, "flaky    none: no expectation flipped for the same scenario file and version")
	}
	for _, f := range sum.Flaky {
		fmt.Fprintf(w, "flaky    %s %s (file %s) %q: %d flips in %d consecutive pairs, %.0f%% (95%% CI %.0f–%.0f%%)\n",
			f.Scenario, dash(f.Version), short(f.FileHash), f.Expectation, f.Flips, f.Runs-1, 100*f.FlipRate, 100*f.FlipLow, 100*f.FlipHigh)
	}
}

// printSimulations lists the simulated plans apart from live runs: they
// have no verdict, only ratios over their trials.
func printSimulations(w io.Writer, all []history.Run) {
	n := len(all) - len(history.LiveRuns(all))
	if n == 0 {
		return
	}
	fmt.Fprintf(w, "simulated plans (%d): counted in no figure of live runs, never evidence for the gate\n", n)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tSTARTED (UTC)\tSCENARIO\tVERSION\tTRIALS\tSEED\tROLLED BACK\tDETECTED\tDETECT p50\tROLLBACK p50\tCOMMIT")
	for _, r := range all {
		if !r.Simulation() {
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.StartedAt.UTC().Format("2006-01-02 15:04"),
			r.Scenario, dash(r.Version), r.Trials, r.Seed, pct(r.RollbackRatio), pct(r.DetectRatio), secs(r.DetectS), secs(r.RollbackS), short(r.Commit))
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
}

func printTrends(w io.Writer, runs []history.Run) {
	var order []string
	by := map[string][]history.Run{}
	for _, r := range runs {
		if by[r.Scenario] == nil {
			order = append(order, r.Scenario)
		}
		by[r.Scenario] = append(by[r.Scenario], r)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, name := range order {
		rs := by[name]
		detect, restore, p99 := make([]*float64, len(rs)), make([]*float64, len(rs)), make([]*float64, len(rs))
		for i := range rs {
			detect[i], restore[i], p99[i] = rs[i].DetectS, rs[i].RestoreS, rs[i].P99MS
		}
		fmt.Fprintf(tw, "  %s\tverdict %s\tdetect %s %s\trestore %s %s\tp99 %s %s\n", name, history.VerdictLine(rs),
			history.Sparkline(detect), span(detect, secs2), history.Sparkline(restore), span(restore, secs2),
			history.Sparkline(p99), span(p99, ms))
	}
	_ = tw.Flush()
}

// span is "lo–hi" of the values that are set.
func span(vals []*float64, f func(*float64) string) string {
	var lo, hi *float64
	for _, v := range vals {
		if v == nil {
			continue
		}
		if lo == nil || *v < *lo {
			lo = v
		}
		if hi == nil || *v > *hi {
			hi = v
		}
	}
	if lo == nil {
		return "-"
	}
	return f(lo) + "–" + f(hi)
}

func secs(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.1fs", *v)
}

func secs2(v *float64) string { return fmt.Sprintf("%.2fs", *v) }

func ms(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.0fms", *v)
}

func pct(v *float64) string {
	if v == nil {
		return "-"
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", 100**v), "0"), ".") + "%"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func short(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return dash(s)
}

func newGateCmd() *cobra.Command {
	var spec, policy, at string
	cmd := &cobra.Command{
		Use:   "gate SCENARIO.yaml --policy POLICY.yaml",
		Short: "Decide from the run history whether the release a scenario rehearses may go",
		Long: `Gate reads the scenario's risk: and the policy's requirements for that risk class, and
exits 0 when the release may go, 1 when not, with one line per reason: a freeze window, no
passing rehearsal of this version within max_age, a required check missing from it,
approvals missing (firedrill history approve). Exit 2: a bad scenario or policy file
(file:line:col), 3: the history cannot be read.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if policy == "" {
				return &exitError{code: firedrill.ExitInvalid, err: errors.New("--policy POLICY.yaml is required")}
			}
			sc, err := scenarios.Load(args[0])
			if err != nil {
				return &exitError{code: firedrill.ExitInvalid, err: err}
			}
			p, err := history.LoadPolicy(policy)
			if err != nil {
				return &exitError{code: firedrill.ExitInvalid, err: err}
			}
			when := time.Now().UTC()
			if at != "" {
				if when, err = time.Parse(time.RFC3339, at); err != nil {
					return &exitError{code: firedrill.ExitInvalid, err: fmt.Errorf("--at %q: write an RFC 3339 time, e.g. 2026-12-21T09:00:00Z", at)}
				}
			}
			var st *history.Store
			if spec != history.Off {
				if st, err = openHistory(cmd.Context(), spec); err != nil {
					return err
				}
				defer st.Close()
			}
			rel := history.Release{Scenario: sc.Name, Risk: sc.Risk, Version: rolloutVersion(sc), FileHash: history.FileHash(args[0])}
			v, err := history.Gate(cmd.Context(), p, st, rel, when)
			if err != nil {
				return &exitError{code: firedrill.ExitInfra, err: err}
			}
			return printGate(cmd.OutOrStdout(), rel, v)
		},
	}
	cmd.Flags().StringVar(&spec, "history", "", historyFlagHelp)
	cmd.Flags().StringVar(&policy, "policy", "", "the release policy (YAML: risk_classes, default_risk, freezes)")
	cmd.Flags().StringVar(&at, "at", "", "decide as at this UTC time (RFC 3339; default now)")
	return cmd
}

func printGate(w io.Writer, rel history.Release, v *history.Verdict) error {
	what := fmt.Sprintf("%s %s (risk %s)", rel.Scenario, dash(rel.Version), dash(v.Risk))
	if v.Go() {
		evidence := "no rehearsal required"
		if v.Evidence != nil {
			evidence = fmt.Sprintf("evidence: run #%d, GO at %s", v.Evidence.ID, v.Evidence.EndedAt.UTC().Format(time.RFC3339))
		}
		if len(v.Approved) > 0 {
			evidence += "; approved by " + strings.Join(v.Approved, ", ")
		}
		fmt.Fprintf(w, "GO  %s may be released; %s\n", what, evidence)
		return nil
	}
	fmt.Fprintf(w, "NO-GO  %s may not be released:\n", what)
	for _, r := range v.Reasons {
		fmt.Fprintln(w, "  "+r)
	}
	return &exitError{code: firedrill.ExitNoGo}
}

func newAuditCmd() *cobra.Command {
	audit := &cobra.Command{Use: "audit", Short: "Check the run history's tamper evidence"}
	var spec string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Walk the hash chain over recorded runs and decisions; exit 1 naming the first record that changed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openHistory(cmd.Context(), spec)
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := st.Verify(cmd.Context())
			var b *history.Broken
			if errors.As(err, &b) {
				return &exitError{code: firedrill.ExitNoGo, err: fmt.Errorf("%s: %d records match, then %w", st.Where(), n, err)}
			}
			if err != nil {
				return &exitError{code: firedrill.ExitInfra, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d records in %s match their hash chain\n", n, st.Where())
			return nil
		},
	}
	verify.Flags().StringVar(&spec, "history", "", historyFlagHelp)
	audit.AddCommand(verify)
	return audit
}
