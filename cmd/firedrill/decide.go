package main

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"time"

	"github.com/spf13/cobra"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/rehearsal/control"
	"github.com/firedrill/firedrill/scenarios"
)

// Live decisions on a running rehearsal: approve or reject an open gate,
// roll back or ignore an alert of a manual rollback.
func newDecisionCmds() []*cobra.Command {
	return []*cobra.Command{
		newDecisionCmd("approve", scenarios.ActionApprove, "Approve the open gate of a running rehearsal"),
		newDecisionCmd("reject", scenarios.ActionReject, "Reject the open gate of a running rehearsal (it rolls back)"),
		newDecideCmd(),
	}
}

func newDecisionCmd(use, action, short string) *cobra.Command {
	var by string
	cmd := &cobra.Command{
		Use:   use + " [RUN]",
		Short: short,
		Long: short + `. RUN is the run id printed at the start of the run (or a unique prefix
of it), or its output directory; without RUN, the only live run on this machine. A decision
made before the scenario's scheduled one wins; the schedule answers when nobody does.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return decide(cmd.Context(), args, action, by)
		},
	}
	cmd.Flags().StringVar(&by, "by", defaultDecider(), "who decides (recorded in the audit log)")
	return cmd
}

func newDecideCmd() *cobra.Command {
	var by string
	cmd := &cobra.Command{
		Use:   "decide [RUN] ACTION",
		Short: "Make a live decision on a running rehearsal: approve, reject, rollback or ignore",
		Long: `Decide hands a decision to a running rehearsal: approve or reject its open gate, or roll
back / ignore the alert a rollback: manual scenario raised. RUN is as for approve.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return decide(cmd.Context(), args[:len(args)-1], args[len(args)-1], by)
		},
	}
	cmd.Flags().StringVar(&by, "by", defaultDecider(), "who decides (recorded in the audit log)")
	return cmd
}

func decide(ctx context.Context, args []string, action, by string) error {
	ref := ""
	if len(args) > 0 {
		ref = args[0]
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	info, err := control.Decide(ctx, ref, action, by)
	if err != nil {
		return &exitError{code: firedrill.ExitInvalid, err: err}
	}
	fmt.Fprintf(os.Stdout, "%s: %s applied to run %s (%s)\n", by, action, info.RunID, info.Scenario)
	return nil
}

func defaultDecider() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "someone"
}
