package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// forceQuitNote is printed when a second Ctrl-C quits without cleanup.
const forceQuitNote = "firedrill: quit without cleaning up; `firedrill clean` removes what this run left (processes, containers, networks)"

// watchInterrupt tells the user what happens after Ctrl-C or SIGTERM (the
// context ends): the progress stops and says it is cleaning up, and a
// second signal quits at once with 130. main's NotifyContext keeps
// swallowing signals after the first, so the second is caught here.
// The returned function ends the watch.
func watchInterrupt(ctx context.Context, ui progress, w io.Writer) (stop func()) {
	sigs := make(chan os.Signal, 1)
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		ui.Interrupted()
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(sigs)
		onSecond(done, sigs, w, os.Exit)
	}()
	return func() { close(done) }
}

// onSecond waits for a second signal and quits with 130, or for done.
func onSecond(done <-chan struct{}, sigs <-chan os.Signal, w io.Writer, exit func(int)) {
	select {
	case <-done:
	case <-sigs:
		fmt.Fprintln(w, forceQuitNote)
		exit(130)
	}
}
