package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/reports"
)

func newReportCmd() *cobra.Command {
	var formats, out string
	cmd := &cobra.Command{
		Use:   "report RESULT.json",
		Short: "Render the reports of a finished run again from its result.json",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := reports.Load(args[0])
			if err != nil {
				return &exitError{code: firedrill.ExitInvalid, err: err}
			}
			fs, err := reports.ParseFormats(formats)
			if err != nil {
				return &exitError{code: firedrill.ExitInvalid, err: err}
			}
			if out == "" {
				out = filepath.Dir(args[0])
			}
			files, err := reports.Write(out, res, fs)
			if err != nil {
				return &exitError{code: firedrill.ExitInfra, err: err}
			}
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&formats, "format", "html,md,junit", "formats: html, md, junit, json")
	cmd.Flags().StringVar(&out, "out", "", "directory to write to (default: beside RESULT.json)")
	return cmd
}
