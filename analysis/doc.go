// Package analysis holds firedrill's statistics and checks: summaries of
// request samples, the canary judge (fixed-horizon and sequential), power and
// cohort sizing, SLO burn rates, RTO, and circuit-breaker and retry
// verification from the outside.
//
// Everything here is a pure function of its inputs (and of a seed where
// randomness is involved): no I/O, no clocks, no goroutines. Times are
// offsets from the run's start, as in record.Sample.At.
package analysis
