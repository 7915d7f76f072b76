package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/power"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// powerFlags are the power command's flags; input turns them into a
// power.Input.
type powerFlags struct {
	in       power.Input
	steps    string
	baseline string
	asJSON   bool
	errInc   float64
	errRatio float64
	latRatio float64
	baseErr  float64
	logSD    float64
	margin   float64
	allowed  float64
}

func newPowerCmd() *cobra.Command {
	var pf powerFlags
	cmd := &cobra.Command{
		Use:   "power [SCENARIO.yaml]",
		Short: "Could the canary plan catch the regression you fear? Power, smallest detectable regression, plan needed",
		Long: `Power answers, before the release, whether the canary plan can detect a regression:

  - the probability (power) that the plan detects it: each step with weight w% for its
    pause sends rate x w% requests to the canary and the rest to the baseline, and the
    judge tests each step once at level --alpha (error rate: two-proportion test; latency:
    Mann-Whitney, sized by Noether's formula); the plan detects the regression when
    any step does;
  - the smallest regression the plan detects with --target-power (80% by default);
  - for each step, the duration at its weight and the weight for its duration that
    reach the target alone, and the factor on every pause that makes the plan reach it.

The closed forms are cross-checked by a seeded Monte-Carlo run of the judge itself
(--trials, --seed), which also covers the exact tests the judge uses on small counts.

Inputs come from the flags, else from the scenario (rate = traffic.rate times the call
paths from the entry to the rolled-out service; steps = the rollout's steps between 1%
and 99%; the regression and target of its canary_power expectation; the baseline error
rate and latency spread of the httpsvc fixture's settings), else from --baseline, a
previous run's result.json, whose router series give the measured rate, baseline error
rate and latency spread. The output lists where every input came from.

Examples:
  firedrill power scenarios/examples/canary-power.yaml
  firedrill power --rate 200 --steps 5:1m,25:1m --baseline-error-rate 0.01 --error-rate-ratio 2
  firedrill power app.yaml --baseline out/app-20250101T000000Z/result.json --latency-ratio 1.2 --json

Exit codes: 0 the plan reaches the target power, 1 it does not, 2 invalid input.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var sc *scenarios.Scenario
			if len(args) == 1 {
				var err error
				if sc, err = loadScenario(cmd.Context(), args[0], ""); err != nil { // load.go: 2, or 130 on a signal
					return err
				}
			}
			in, err := pf.input(cmd.Flags())
			if err != nil {
				return &exitError{code: firedrill.ExitInvalid, err: err}
			}
			rep, err := power.Compute(sc, in)
			if err != nil {
				return &exitError{code: firedrill.ExitInvalid, err: err}
			}
			if pf.asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return &exitError{code: firedrill.ExitInfra, err: err}
				}
			} else {
				printPower(cmd.OutOrStdout(), rep)
			}
			if rep.Effective < rep.Target {
				return &exitError{code: firedrill.ExitNoGo}
			}
			return nil
		},
	}
	pf.register(cmd.Flags())
	return cmd
}

func (pf *powerFlags) register(fl *pflag.FlagSet) {
	f := &pf.in
	fl.Float64Var(&f.Rate, "rate", 0, "requests per second reaching the rolled-out service, all versions together (default: from the scenario or --baseline)")
	fl.StringVar(&pf.steps, "steps", "", "canary steps as weight:duration, comma-separated, e.g. 5:30s,25:1m (default: the scenario's rollout steps)")
	fl.Float64Var(&f.Alpha, "alpha", 0, "significance level of each metric's test at each step, one-sided (default: the rollout analysis's alpha, else 0.05)")
	fl.Float64Var(&f.Target, "target-power", 0, "power to reach (default: the scenario's canary_power min, else 0.8)")
	fl.Float64Var(&pf.errInc, "error-rate-increase", 0, "regression: absolute increase of the error ratio, e.g. 0.01 for one percentage point")
	fl.Float64Var(&pf.errRatio, "error-rate-ratio", 0, "regression: factor on the baseline error ratio, e.g. 2 for doubled")
	fl.Float64Var(&pf.latRatio, "latency-ratio", 0, "regression: canary latency over baseline latency, e.g. 1.2 for 20% slower")
	fl.StringVar(&pf.baseline, "baseline", "", "result.json of a previous run: measured rate, baseline error rate and latency spread")
	fl.Float64Var(&pf.baseErr, "baseline-error-rate", 0, "error ratio of the old version (default: --baseline, else the fixture's setting, else 0)")
	fl.Float64Var(&pf.logSD, "latency-log-sd", 0, "standard deviation of ln(latency) of the old version (default: --baseline, else the fixture's settings, else 0.5)")
	fl.Float64Var(&pf.margin, "error-margin", 0, "the judge's allowed absolute error-rate increase (default: the rollout analysis's error_margin, else 0)")
	fl.Float64Var(&pf.allowed, "latency-allowed", 0, "the judge's allowed relative latency increase (default: the rollout analysis's latency_margin, else 0.1)")
	fl.IntVar(&f.Trials, "trials", 1000, "Monte-Carlo trials of the judge per step for the cross-check (0: closed form only)")
	fl.Uint64Var(&f.Seed, "seed", 1, "seed of the Monte-Carlo cross-check")
	// The sequential judge is sized by simulating it (issue 14).
	fl.IntVar(&f.Simulate, "sim-trials", 2000, "trials of the rollout simulated to size a sequential judge: its power and false alarms (0: fixed-horizon figures only)")
	fl.BoolVar(&pf.asJSON, "json", false, "print the report as JSON")
}

// input is what the flags ask of power.Compute; only the flags given
// override the scenario's values.
func (pf *powerFlags) input(fl *pflag.FlagSet) (power.Input, error) {
	f := pf.in
	if pf.steps != "" {
		ps, err := parseSteps(pf.steps)
		if err != nil {
			return f, err
		}
		f.Steps = ps
	}
	if pf.baseline != "" {
		res, err := reports.Load(pf.baseline)
		if err != nil {
			return f, fmt.Errorf("--baseline: %w", err)
		}
		f.Baseline = res
	}
	f.Regression = analysis.Regression{ErrorAbs: pf.errInc, LatencyRatio: pf.latRatio}
	if pf.errRatio != 0 {
		if pf.errRatio <= 1 {
			return f, fmt.Errorf("--error-rate-ratio %g is not a worsening: give a factor above 1", pf.errRatio)
		}
		f.Regression.ErrorRel = pf.errRatio - 1
	}
	if fl.Changed("baseline-error-rate") {
		f.BaselineErrorRate = &pf.baseErr
	}
	if fl.Changed("latency-log-sd") {
		f.LatencyLogSD = &pf.logSD
	}
	if fl.Changed("error-margin") {
		f.ErrorMargin = &pf.margin
	}
	if fl.Changed("latency-allowed") {
		f.LatencyAllowed = &pf.allowed
	}
	return f, nil
}

// parseSteps reads "5:30s,25:1m".
func parseSteps(s string) ([]analysis.PlanStep, error) {
	var out []analysis.PlanStep
	for _, part := range strings.Split(s, ",") {
		w, d, ok := strings.Cut(strings.TrimSpace(part), ":")
		weight, err1 := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(w), "%"))
		dur, err2 := time.ParseDuration(strings.TrimSpace(d))
		if !ok || err1 != nil || err2 != nil || weight < 1 || weight > 99 || dur <= 0 {
			return nil, fmt.Errorf("--steps %q: write weight:duration pairs with weights 1..99, e.g. 5:30s,25:1m", part)
		}
		out = append(out, analysis.PlanStep{Weight: weight, Duration: dur})
	}
	return out, nil
}

func printPower(w io.Writer, r *power.Report) {
	svc := ""
	if r.Service != "" {
		svc = " of " + r.Service
	}
	fmt.Fprintf(w, "canary plan%s: %.4g rps, alpha %.3g per metric and step, target power %.2f\n", svc, r.Rate, r.Alpha, r.Target)
	fmt.Fprintf(w, "regression: %s (judge allows error rate +%s, latency +%.3g%%)\n", r.Effect, pctPoints(r.ErrorMargin), 100*r.LatencyAllowed)
	fmt.Fprintln(w, "inputs:")
	for _, s := range r.Sources {
		fmt.Fprintln(w, "  "+s)
	}
	for _, s := range r.Skipped {
		fmt.Fprintln(w, "  skipped "+s)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "step\tweight\tduration\tbaseline n\tcanary n\terror power\tlatency power\tpower\tmonte-carlo\tfor %.2f alone\n", r.Target)
	for _, s := range r.Steps {
		need := "unreachable"
		switch {
		case s.DurationNeeded != "" && s.WeightNeeded > 0:
			need = fmt.Sprintf("%s at %d%%, or %d%% for %s", s.DurationNeeded, s.Weight, s.WeightNeeded, s.Duration)
		case s.DurationNeeded != "":
			need = fmt.Sprintf("%s at %d%%", s.DurationNeeded, s.Weight)
		case s.WeightNeeded > 0:
			need = fmt.Sprintf("%d%% for %s", s.WeightNeeded, s.Duration)
		}
		small := ""
		if s.SmallCounts {
			small = " *"
		}
		fmt.Fprintf(tw, "%d\t%d%%\t%s\t%.0f\t%.0f\t%s\t%s\t%.3f%s\t%s\t%s\n", s.Step, s.Weight, s.Duration, s.BaselineN, s.CanaryN,
			optNum(s.ErrorPower), optNum(s.LatencyPower), s.Power, small, optNum(s.MonteCarlo), need)
	}
	_ = tw.Flush()
	mc := ""
	if r.MonteCarlo != nil {
		mc = fmt.Sprintf("; monte-carlo %.3f (%d trials per step, seed %d)", *r.MonteCarlo, r.Trials, r.Seed)
	}
	fmt.Fprintf(w, "\nplan power: %.3f (closed form)%s; verdict on the %s\n", r.Power, mc, r.EffectiveMethod)
	if sim := r.Simulated; sim != nil {
		fmt.Fprintf(w, "sequential judge, simulated (%d trials per plan, seed %d): power %.3f [%.3f, %.3f], median time to detect %.3gs\n",
			sim.Trials, sim.Seed, sim.Power, sim.PowerCI[0], sim.PowerCI[1], sim.DetectP50S)
		fmt.Fprintf(w, "false alarms: %.3f [%.3f, %.3f] of healthy canaries roll back (simulated; the fixed-horizon figures above do not apply to this judge)\n",
			sim.FalseAlarms, sim.FalseAlarmCI[0], sim.FalseAlarmCI[1])
	} else {
		fmt.Fprintf(w, "false alarms: at most %.3f of healthy canaries fail some step\n", r.FalseAlarmBound)
	}
	for _, s := range r.Steps {
		if s.SmallCounts {
			fmt.Fprintln(w, "* few errors expected: the judge uses an exact test there, more conservative than the closed form; trust the monte-carlo figure")
			break
		}
	}
	if len(r.MinDetectable) > 0 {
		fmt.Fprintf(w, "smallest regression detected with power %.2f:\n", r.Target)
		for _, d := range r.MinDetectable {
			fmt.Fprintln(w, "  "+d.Text)
		}
	}
	fmt.Fprintln(w, "verdict: "+r.Advice)
}

func optNum(x *float64) string {
	if x == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f", *x)
}

func pctPoints(x float64) string { return strconv.FormatFloat(100*x, 'g', 3, 64) + " points" }
