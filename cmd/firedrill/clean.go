package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/rehearsal/control"
	"github.com/firedrill/firedrill/topology/docker"
	"github.com/firedrill/firedrill/topology/pg"
	"github.com/firedrill/firedrill/topology/proc"
)

func newCleanCmd() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Remove what killed runs left behind (instance processes, containers and networks whose harness is gone)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			find := proc.KillOrphans
			verb := "killed"
			if dryRun {
				find, verb = proc.FindOrphans, "would kill"
			}
			orphans, err := find()
			for _, o := range orphans {
				fmt.Fprintf(cmd.OutOrStdout(), "%s pid %d (run %s): %s\n", verb, o.PID, o.RunID, o.Cmd)
			}
			if err != nil {
				return &exitError{code: firedrill.ExitInfra, err: fmt.Errorf("clean: %w", err)}
			}
			n, err := cleanDocker(cmd.Context(), cmd.OutOrStdout(), dryRun)
			if err != nil {
				return &exitError{code: firedrill.ExitInfra, err: fmt.Errorf("clean: %w", err)}
			}
			if len(orphans) == 0 && n == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "nothing to clean")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only list what would be removed")
	return cmd
}

// cleanDocker removes (or lists) the containers and networks of docker runs
// whose harness is gone, and the build directories of dead builders. No
// Docker daemon is not an error: there is nothing of ours to clean then.
func cleanDocker(ctx context.Context, w io.Writer, dryRun bool) (int, error) {
	n := 0
	if !dryRun {
		dirs, _ := docker.RemoveStaleBuildDirs()
		for _, d := range dirs {
			fmt.Fprintf(w, "removed build directory %s\n", d)
		}
		n += len(dirs)
		pgDirs, _ := pg.CleanStale() // PostgreSQL data directories of dead harnesses
		for _, d := range pgDirs {
			fmt.Fprintf(w, "removed PostgreSQL directory %s\n", d)
		}
		n += len(pgDirs)
		for _, id := range control.Sweep() { // live-decision announcements of dead runs
			fmt.Fprintf(w, "removed the control announcement of run %s\n", id)
			n++
		}
	}
	find, verb := docker.RemoveLeftovers, "removed"
	if dryRun {
		find, verb = docker.FindLeftovers, "would remove"
	}
	left, err := find(ctx)
	if errors.Is(err, docker.ErrNoDaemon) {
		return n, nil
	}
	for _, l := range left {
		fmt.Fprintf(w, "%s %s %s (run %s)\n", verb, l.Kind, l.Name, l.RunID)
	}
	return n + len(left), err
}
