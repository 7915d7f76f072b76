//go:build !race

package firedrill_test

// concurrentRuns bounds the rehearsals a test runs at once (see
// e2e_race_on_test.go).
const (
	concurrentRuns = 4
	raceDetector   = false
)
