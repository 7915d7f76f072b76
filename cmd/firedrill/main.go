// Command firedrill rehearses releases: see `firedrill --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/firedrill/firedrill"
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	err := root.ExecuteContext(ctx)
	stop()
	if err == nil {
		return
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "firedrill:", ee.err)
		}
		os.Exit(ee.code)
	}
	// cobra's own errors (unknown flag, wrong argument count) are bad input.
	fmt.Fprintln(os.Stderr, "firedrill:", err)
	os.Exit(firedrill.ExitInvalid)
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "firedrill",
		Short: "Rehearse a release: rollout + faults + real traffic, then a GO / NO-GO verdict",
		Long: `firedrill rehearses a release before it happens. A scenario file describes a service
topology, its traffic, a rollout and the faults to inject; firedrill starts the topology,
drives real traffic through it, rolls the new version out, breaks dependencies on schedule,
and checks what a release owner must know: did the rollback fire and how fast, did the SLO
hold. It ends with a readiness report and an exit code:

  0 GO, 1 NO-GO (an expectation failed), 2 invalid input, 3 infrastructure error,
  130 interrupted (after cleanup).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// One line per command, each in its own file.
	root.AddCommand(newRunCmd(), newValidateCmd(), newPlanCmd(), newCleanCmd(), newFixtureCmd(), newReportCmd())
	root.AddCommand(newDecisionCmds()...) // decide.go: approve, reject, decide
	root.AddCommand(newAckCmd())          // ack.go: a game day's acknowledgements
	root.AddCommand(newImagesCmd(), newDataplaneCmd(), newReaperCmd())
	root.AddCommand(newPowerCmd())
	root.AddCommand(newHistoryCmd(), newGateCmd(), newAuditCmd()) // history.go
	root.AddCommand(newSimulateCmd())                             // simulate.go
	root.AddCommand(newNetemCmd())                                // netem.go: the docker runtime's netem helper
	root.AddCommand(newInitCmd(), newSchemaCmd())                 // init.go, schema.go
	root.Version = version()                                      // schema.go: firedrill --version
	return root
}
