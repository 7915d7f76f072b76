package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/observe"
	"github.com/firedrill/firedrill/reports"
)

func newRunCmd() *cobra.Command {
	var (
		out, runtime, report string
		seed                 int64
		quiet, control       bool
		historySpec          string // --history (history.go)
		listen               string // --listen (observe)
	)
	cmd := &cobra.Command{
		Use:   "run SCENARIO.yaml",
		Short: "Rehearse a scenario for real and give a GO / NO-GO verdict",
		Long: `Run brings the scenario's topology up, drives its traffic, performs its rollout and
faults, checks its expectations and writes result.json, events.jsonl, the reports and the
instance logs to out/<scenario>-<UTC timestamp>/ (or --out). Ctrl-C or SIGTERM reverts the
faults, stops everything, writes the partial result marked interrupted and exits 130.
While a rollout runs, its gates and alerts take live decisions from another terminal:
firedrill approve|reject|decide RUN (see --control); responders acknowledge a game day's
injects with firedrill ack RUN.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := loadScenario(cmd.Context(), args[0], runtime) // load.go: exit 2, or 130 on a signal
			if err != nil {
				return err
			}
			warn(os.Stderr, args[0], sc)
			opts := firedrill.Options{Runtime: runtime, OutDir: out, SeedSet: cmd.Flags().Changed("seed"), Seed: seed, Control: control}
			// --listen: the run's metrics (package observe), loopback only.
			if listen != "" {
				if err := observe.CheckLoopback(listen); err != nil {
					return &exitError{code: firedrill.ExitInvalid, err: err}
				}
				opts.Listen = listen
			}
			if report != "" {
				formats, err := reports.ParseFormats(report)
				if err != nil {
					return &exitError{code: firedrill.ExitInvalid, err: err}
				}
				opts.Formats = formats
			}
			var ui progress = nopProgress{}
			if !quiet {
				tty := term.IsTerminal(int(os.Stdout.Fd()))
				ui = newProgress(os.Stdout, tty, sc)
			}
			opts.OnEvent, opts.OnHealthy = ui.Event, ui.Healthy
			unwatch := watchInterrupt(cmd.Context(), ui, os.Stderr) // interrupt.go: "cleaning up", a 2nd Ctrl-C quits
			res, err := firedrill.Run(cmd.Context(), sc, opts)
			unwatch()
			ui.Close()
			baseline := compareBaseline(cmd.Context(), historySpec, sc.Compare, res, err, opts.Formats) // compare: (history.go)
			code := firedrill.ExitCode(res, err)
			if res != nil {
				files := map[string]string{}
				for _, f := range []string{"result.json", "report.html", "report.md", "junit.xml", "events.jsonl"} {
					p := res.OutDir + string(os.PathSeparator) + f
					if _, statErr := os.Stat(p); statErr == nil {
						files[f] = p
					}
				}
				reports.Summary(os.Stdout, res, files, term.IsTerminal(int(os.Stdout.Fd())))
				recordRun(cmd.Context(), historySpec, res, baseline, os.Stdout) // never fails the run
			}
			if code == firedrill.ExitGO {
				return nil
			}
			if code == firedrill.ExitNoGo && err == nil {
				return &exitError{code: code}
			}
			return &exitError{code: code, err: err}
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output directory (default out/<scenario>-<UTC timestamp>)")
	cmd.Flags().StringVar(&runtime, "runtime", "", "runtime: local or docker (default: the scenario's, else local)")
	cmd.Flags().Int64Var(&seed, "seed", 0, "seed for every random choice (default: the scenario's)")
	cmd.Flags().StringVar(&report, "report", "", "report formats besides result.json: html,md,junit (default all)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output, only the summary")
	cmd.Flags().BoolVar(&control, "control", true, "serve live decisions on 127.0.0.1 while a rollout or faults run (firedrill approve|reject|decide|ack RUN)")
	cmd.Flags().StringVar(&historySpec, "history", "", historyFlagHelp)
	cmd.Flags().StringVar(&listen, "listen", "", "serve the run's Prometheus metrics on this loopback address while it runs, e.g. 127.0.0.1:9464")
	return cmd
}

func newValidateCmd() *cobra.Command {
	var runtime string
	cmd := &cobra.Command{
		Use:   "validate SCENARIO.yaml...",
		Short: "Check scenario files without starting anything",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, f := range args {
				sc, err := loadScenario(cmd.Context(), f, runtime)
				if err != nil {
					if ee := (*exitError)(nil); errors.As(err, &ee) && ee.code == firedrill.ExitInterrupted {
						return err
					}
					bad++
					fmt.Fprintln(os.Stderr, err)
					continue
				}
				warn(os.Stderr, f, sc)
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", f)
				if w := capacityWarning(sc); w != "" { // capacity.go (issue 14)
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: warning: %s\n", f, w)
				}
			}
			if bad > 0 {
				return &exitError{code: firedrill.ExitInvalid, err: fmt.Errorf("%d of %d scenario files are invalid", bad, len(args))}
			}
			return nil
		},
	}
	// Validate for the runtime that will run it (issue 19): some services run on one only.
	cmd.Flags().StringVar(&runtime, "runtime", "", "validate for this runtime (local|docker; default: the file's runtime)")
	return cmd
}
