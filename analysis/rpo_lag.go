package analysis

import "time"

// LagPoint is one replica in one replication sample. A replica that is not
// streaming is failing, whatever its last known lag.
type LagPoint struct {
	T         time.Duration // from time zero
	Replica   string
	Streaming bool
	Lag       time.Duration // replay lag (time)
	Bytes     int64         // replay lag (WAL bytes)
}

// LagSummary sums up replication samples in a window.
type LagSummary struct {
	Samples int
	// Failing counts samples in which the replica was not streaming.
	Failing int
	// Max and MaxBytes are over streaming samples; Worst is the replica and
	// WorstAt the instant of Max.
	Max      time.Duration
	MaxBytes int64
	Worst    string
	WorstAt  time.Duration
}

// SummarizeLag sums up the points in [from, to) (to == 0: no end).
func SummarizeLag(points []LagPoint, from, to time.Duration) LagSummary {
	var s LagSummary
	for _, p := range points {
		if p.T < from || (to > 0 && p.T >= to) {
			continue
		}
		s.Samples++
		if !p.Streaming {
			s.Failing++
			continue
		}
		if s.Worst == "" || p.Lag > s.Max {
			s.Max, s.Worst, s.WorstAt = p.Lag, p.Replica, p.T
		}
		s.MaxBytes = max(s.MaxBytes, p.Bytes)
	}
	return s
}

// LagBelow reports whether every replica streams with a lag under maxLag
// (and, when maxBytes > 0, under maxBytes): the gate before a promotion or
// a rollout step. No replica at all does not pass.
func LagBelow(points []LagPoint, maxLag time.Duration, maxBytes int64) bool {
	if len(points) == 0 {
		return false
	}
	for _, p := range points {
		if !p.Streaming || p.Lag >= maxLag || (maxBytes > 0 && p.Bytes >= maxBytes) {
			return false
		}
	}
	return true
}
