package main

import (
	"github.com/spf13/cobra"

	"github.com/firedrill/firedrill/fixtures/httpsvc"
)

func newFixtureCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:    "fixture NAME [flags]",
		Short:  "Run a built-in sample service (used by the runtimes)",
		Hidden: true,
	}
	cmd.AddCommand(&cobra.Command{
		Use:                "httpsvc [flags]",
		Short:              "HTTP sample service with dependencies, retries and a circuit breaker",
		DisableFlagParsing: true, // httpsvc parses its own flags (and env)
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := httpsvc.Main(cmd.Context(), args, cmd.OutOrStdout()); err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	})
	return cmd
}
