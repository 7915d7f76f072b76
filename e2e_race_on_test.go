//go:build race

package firedrill_test

// Under the race detector every process (the fixtures are this test binary)
// runs several times slower, and four instrumented topologies on two cores
// miss their timings. The race detector looks for races, not verdicts:
// two examples that together reach every analysis expectation kind
// (breaker, retries, rto; canary_power, slo_burn) are enough.
const (
	concurrentRuns = 2
	raceDetector   = true
)
