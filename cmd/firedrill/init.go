package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/scenarios"
)

func newInitCmd() *cobra.Command {
	var (
		o     scenarios.InitOptions
		svcs  string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "init [FILE]",
		Short: "Write a commented scenario that runs to GO, to start from (default drill.yaml; - for stdout)",
		Long: `init writes a small, commented scenario: a chain of fixture services under steady
traffic, a healthy rollout of the second one with the chosen strategy, and the first
expectations to check. It validates and runs to GO as written; change it from there.
It never asks questions and never overwrites a file unless --force is given.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "drill.yaml"
			if len(args) == 1 {
				path = args[0]
			}
			if svcs != "" {
				o.Services = strings.Split(svcs, ",")
			}
			if path != "-" {
				o.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
			}
			data, err := scenarios.InitScenario(o)
			if err != nil {
				return &exitError{code: firedrill.ExitInvalid, err: err}
			}
			if path == "-" {
				_, err := cmd.OutOrStdout().Write(data)
				return err
			}
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(path, flags, 0o644)
			if errors.Is(err, fs.ErrExist) {
				return &exitError{code: firedrill.ExitInvalid, err: fmt.Errorf("%s already exists; choose another file name, or add --force to overwrite it", path)}
			}
			if err != nil {
				return &exitError{code: firedrill.ExitInvalid, err: fmt.Errorf("write the scenario: %w", err)}
			}
			if _, err := f.Write(data); err != nil {
				f.Close()
				return &exitError{code: firedrill.ExitInfra, err: fmt.Errorf("write %s: %w", path, err)}
			}
			if err := f.Close(); err != nil {
				return &exitError{code: firedrill.ExitInfra, err: fmt.Errorf("write %s: %w", path, err)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s; next: firedrill validate %s && firedrill run %s\n", path, path, path)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Strategy, "strategy", "canary", "rollout strategy: "+strings.Join(scenarios.InitStrategies, ", "))
	cmd.Flags().StringVar(&o.Runtime, "runtime", "local", "runtime: local or docker")
	cmd.Flags().StringVar(&svcs, "services", "", "service names, comma-separated: the first takes the traffic and each calls the next (default gateway,checkout,payments)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite FILE if it exists")
	return cmd
}
