package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/scenarios"
)

// loadScenario loads and validates path for the given runtime ("" keeps
// the file's), as exit errors: 2 for a bad file or flag, 130 when ctx ends
// first (Ctrl-C or SIGTERM while a huge file loads: nothing has started,
// so there is nothing to clean up and no reason to wait for the parser).
func loadScenario(ctx context.Context, path, runtime string) (*scenarios.Scenario, error) {
	if runtime != "" && !slices.Contains(scenarios.Runtimes, runtime) {
		return nil, &exitError{code: firedrill.ExitInvalid,
			err: fmt.Errorf("--runtime %q: write --runtime %s", runtime, strings.Join(scenarios.Runtimes, " or --runtime "))}
	}
	type loaded struct {
		sc  *scenarios.Scenario
		err error
	}
	done := make(chan loaded, 1) // buffered: the loader never blocks if nobody waits
	go func() {
		sc, err := scenarios.LoadFor(path, runtime)
		done <- loaded{sc, err}
	}()
	select {
	case l := <-done:
		if l.err != nil {
			return nil, &exitError{code: firedrill.ExitInvalid, err: l.err}
		}
		return l.sc, nil
	case <-ctx.Done():
		return nil, &exitError{code: firedrill.ExitInterrupted, err: fmt.Errorf("interrupted while loading %s: %w", path, errors.Join(ctx.Err(), context.Cause(ctx)))}
	}
}

// warn prints what is valid but probably not meant, as "file: warning: ...".
func warn(w io.Writer, path string, sc *scenarios.Scenario) {
	for _, msg := range sc.Warnings() {
		fmt.Fprintf(w, "%s: warning: %s\n", path, msg)
	}
}
