package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/rehearsal/control"
)

// newAckCmd is a responder's acknowledgement on a game day: the run
// records who noticed and when, and the result times each inject's
// acknowledgement.
func newAckCmd() *cobra.Command {
	var by string
	cmd := &cobra.Command{
		Use:   "ack [RUN] [INJECT]",
		Short: "Acknowledge an inject of a running rehearsal (a game day's responder noticed it)",
		Long: `Ack tells a running rehearsal that you noticed something: INJECT is a fault's name or
"rollout" (the new version on traffic); without it, whatever is under way is acknowledged,
announced or not. RUN is as for approve; a single argument that names no live run is
taken for INJECT on the only live run.
The run records who acknowledged and when; result.json's injects[] carries each inject's
time to acknowledge and to mitigate.`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, inject := "", ""
			switch len(args) {
			case 2:
				ref, inject = args[0], args[1]
			case 1:
				if _, err := control.Find(args[0]); err == nil {
					ref = args[0]
				} else {
					inject = args[0]
				}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			info, covered, err := control.Ack(ctx, ref, inject, by)
			if err != nil {
				return &exitError{code: firedrill.ExitInvalid, err: err}
			}
			fmt.Fprintf(os.Stdout, "%s: acknowledged %s in run %s (%s)\n", by, strings.Join(covered, ", "), info.RunID, info.Scenario)
			return nil
		},
	}
	cmd.Flags().StringVar(&by, "by", defaultDecider(), "who acknowledges (recorded in the run's events)")
	return cmd
}
