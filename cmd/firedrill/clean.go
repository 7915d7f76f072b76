package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/topology"
)

func newCleanCmd() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Remove what killed runs left behind (instance processes whose harness is gone)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			find := topology.KillLocalOrphans
			verb := "killed"
			if dryRun {
				find, verb = topology.FindLocalOrphans, "would kill"
			}
			orphans, err := find()
			for _, o := range orphans {
				fmt.Fprintf(cmd.OutOrStdout(), "%s pid %d (run %s): %s\n", verb, o.PID, o.RunID, o.Cmd)
			}
			if err != nil {
				return &exitError{code: firedrill.ExitInfra, err: fmt.Errorf("clean: %w", err)}
			}
			if len(orphans) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "nothing to clean")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only list what would be removed")
	return cmd
}
