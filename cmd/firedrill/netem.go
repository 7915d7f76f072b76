package main

import (
	"github.com/spf13/cobra"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/topology/docker"
)

func newNetemCmd() *cobra.Command {
	var n docker.Netem
	cmd := &cobra.Command{
		Use:    "netem",
		Short:  "Hold netem on the network namespace it runs in until stopped (the docker runtime's netem helper)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := docker.ServeNetem(cmd.Context(), n, cmd.OutOrStdout()); err != nil {
				return &exitError{code: firedrill.ExitInfra, err: err}
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&n.Delay, "delay", 0, "delay every packet sent")
	cmd.Flags().DurationVar(&n.Jitter, "jitter", 0, "± this much around the delay")
	cmd.Flags().Float64Var(&n.LossPercent, "loss", 0, "percent of packets dropped")
	cmd.Flags().Float64Var(&n.CorruptPercent, "corrupt", 0, "percent of packets corrupted")
	return cmd
}
