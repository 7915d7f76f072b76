package main

import (
	"os"
	"runtime/debug"
)

// gcPercent replaces Go's default GOGC of 100 unless the environment sets
// GOGC: the harness and the data plane allocate short-lived garbage per
// request on a small heap, and collecting four times less often saves
// about a tenth of a run's CPU for a few more MB (BenchmarkChain).
const gcPercent = 400

func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
}
