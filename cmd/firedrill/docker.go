package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/topology/docker"
)

func newImagesCmd() *cobra.Command {
	var binary, module string
	cmd := &cobra.Command{
		Use:   "images",
		Short: "Build the firedrill image the docker runtime needs (FROM scratch, cached by content) and print its tag",
		Long: `images packages a static firedrill binary into the local image firedrill-local:<hash>,
which the docker runtime uses for the built-in fixtures, the data plane (routers and
Toxiproxy) and the reaper. Nothing is pulled: the image is FROM scratch. It is rebuilt
only when the binary changes. If the binary is not static (CGO), a static one is built
from the firedrill source at or above the working directory (or --module).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			errw := cmd.ErrOrStderr()
			tag, err := docker.FiredrillImage(cmd.Context(), docker.ImageSource{
				Binary: binary, ModuleDir: module,
				Progress: func(line string) { fmt.Fprintln(errw, line) },
				Status:   func(line string) { fmt.Fprintln(errw, line) },
			})
			if err != nil {
				return &exitError{code: firedrill.ExitInfra, err: fmt.Errorf("images: %w", err)}
			}
			fmt.Fprintln(cmd.OutOrStdout(), tag)
			return nil
		},
	}
	cmd.Flags().StringVar(&binary, "binary", "", "firedrill binary to package (default: this one)")
	cmd.Flags().StringVar(&module, "module", "", "firedrill source to build a static binary from (default: found above the working directory)")
	return cmd
}

func newDataplaneCmd() *cobra.Command {
	var cfg docker.DataplaneConfig
	cmd := &cobra.Command{
		Use:    "dataplane",
		Short:  "Serve a run's routers and Toxiproxy inside its network (run by the docker runtime)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Log = os.Stderr
			if err := docker.ServeDataplane(cmd.Context(), cfg); err != nil {
				return &exitError{code: firedrill.ExitInfra, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cfg.Control, "control", "0.0.0.0:7000", "control API listen address")
	cmd.Flags().StringVar(&cfg.Toxiproxy, "toxiproxy", "0.0.0.0:8474", "Toxiproxy API listen address")
	return cmd
}

func newReaperCmd() *cobra.Command {
	var cfg docker.ReaperConfig
	cmd := &cobra.Command{
		Use:    "reaper",
		Short:  "Remove a run's containers and network once its harness is gone (run by the docker runtime)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Log = os.Stderr
			if err := docker.RunReaper(cmd.Context(), cfg); err != nil {
				return &exitError{code: firedrill.ExitInfra, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cfg.RunID, "run", "", "run id whose containers and networks to remove")
	cmd.Flags().StringVar(&cfg.Listen, "listen", "0.0.0.0:7001", "heartbeat listen address")
	cmd.Flags().DurationVar(&cfg.Grace, "grace", 5*time.Second, "how long a dropped harness has to reconnect")
	cmd.Flags().DurationVar(&cfg.FirstContact, "first-contact", 60*time.Second, "how long to wait for the harness to connect at all")
	return cmd
}
