package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/simulator/model"
)

func newSimulateCmd() *cobra.Command {
	var opt model.Options
	var asJSON bool
	var outDir string
	var historySpec string // issue 15: each simulated plan is recorded, marked as a simulation
	cmd := &cobra.Command{
		Use:   "simulate FILE [FILE...]",
		Short: "Run a scenario's rollout thousands of times in virtual time: false rollbacks, detection, blast radius",
		Long: `Simulate runs the scenario's rollout with the same controller, strategies, judges and
triggers as a live run, on a virtual clock, against a statistical model of the topology
built from the file (each version's ERROR_RATE, LATENCY_MEDIAN, LATENCY_P99, the traffic
rate and split, instance counts, start-up, faults as effects). Nothing starts.

Each trial ends promoted, rolled back, or aborted (traffic ended first). The summary
gives the ratios with 95% Wilson intervals, the time from the regression (the new
version's first request) to detection and to the rollback's end, the bad requests the
new version served, and how often each expectation passed. Trial i's seed derives from
--seed and i: the same file and seed give the same numbers whatever --workers.

With several files, the plans are printed side by side.

Examples:
  firedrill simulate --trials 10000 scenarios/examples/simulate-aa.yaml
  firedrill simulate --json scenarios/examples/simulate-regression.yaml
  firedrill simulate plan-a.yaml plan-b.yaml --out out/plans

Each plan is recorded in the run history (--history, as for run) as a simulation: listed
by firedrill history (--kind simulation), never counted in its failure rate, MTTR or
flakiness, never evidence for firedrill gate.

Exit codes: 0 done, 2 invalid input, 130 interrupted.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var scs []*scenarios.Scenario
			for _, f := range args {
				sc, err := scenarios.Load(f)
				if err != nil {
					return &exitError{code: firedrill.ExitInvalid, err: err}
				}
				if sc.Rollout == nil {
					return &exitError{code: firedrill.ExitInvalid, err: fmt.Errorf("%s: no rollout to simulate; add a rollout section", f)}
				}
				scs = append(scs, sc)
			}
			tty := !asJSON && term.IsTerminal(int(os.Stderr.Fd()))
			var out []*model.Summary
			for _, sc := range scs {
				o := opt
				bar := trialBar(os.Stderr, tty, sc.Name, o)
				o.Progress = bar.add
				started := time.Now().UTC()
				s, err := model.Simulate(cmd.Context(), sc, o)
				bar.close()
				if err != nil {
					if cmd.Context().Err() != nil {
						return &exitError{code: firedrill.ExitInterrupted, err: err}
					}
					return &exitError{code: firedrill.ExitInvalid, err: err}
				}
				out = append(out, s)
				recordSimulation(cmd.Context(), historySpec, s, sc, outDir, started, time.Now().UTC(), cmd.ErrOrStderr())
			}
			if err := printSimulation(cmd.OutOrStdout(), out, asJSON); err != nil {
				return &exitError{code: firedrill.ExitInfra, err: err}
			}
			if outDir != "" {
				files, err := model.WriteReports(outDir, out)
				if err != nil {
					return &exitError{code: firedrill.ExitInfra, err: err}
				}
				for _, f := range files {
					fmt.Fprintln(cmd.ErrOrStderr(), "wrote", f)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&opt.Trials, "trials", model.DefaultTrials, "number of trials")
	f.Uint64Var(&opt.Seed, "seed", 1, "seed of every trial (trial i's seed derives from it and i)")
	f.IntVar(&opt.Workers, "workers", 0, "trials run in parallel (default: the CPUs); never changes the figures")
	f.StringVar(&outDir, "out", "", "also write simulation.json, report.md and report.html (histograms) into this directory")
	f.BoolVar(&asJSON, "json", false, "print one JSON object (several files: {\"plans\": [...]})")
	f.StringVar(&historySpec, "history", "", historyFlagHelp+"; recorded as a simulation, never as evidence")
	return cmd
}

func printSimulation(w io.Writer, out []*model.Summary, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if len(out) == 1 {
			return enc.Encode(out[0])
		}
		return enc.Encode(map[string]any{"plans": out})
	}
	for i, s := range out {
		if i > 0 {
			fmt.Fprintln(w)
		}
		model.WriteText(w, s)
	}
	if len(out) > 1 {
		fmt.Fprintln(w)
		model.WriteComparison(w, out)
	}
	return nil
}

// bar is the trials' progress bar (a no-op off a terminal).
type bar struct {
	p    *mpb.Progress
	b    *mpb.Bar
	last atomic.Int64
}

func trialBar(w io.Writer, tty bool, name string, o model.Options) *bar {
	if !tty {
		return &bar{}
	}
	total := o.Trials
	if total <= 0 {
		total = model.DefaultTrials
	}
	p := mpb.New(mpb.WithOutput(w), mpb.WithWidth(40))
	b := p.AddBar(int64(total), mpb.PrependDecorators(decor.Name(name+" ")),
		mpb.AppendDecorators(decor.CountersNoUnit("%d/%d trials"), decor.Name(" "), decor.Elapsed(decor.ET_STYLE_GO)))
	return &bar{p: p, b: b}
}

func (b *bar) add(done int) {
	if b.b == nil {
		return
	}
	// Workers report out of order: move the bar only forward.
	for {
		last := b.last.Load()
		if int64(done) <= last {
			return
		}
		if b.last.CompareAndSwap(last, int64(done)) {
			b.b.SetCurrent(int64(done))
			return
		}
	}
}

func (b *bar) close() {
	if b.p == nil {
		return
	}
	if !b.b.Completed() {
		b.b.Abort(false)
	}
	b.p.Wait()
}
