package history

import (
	"math"
	"sort"

	"github.com/firedrill/firedrill/reports"
)

// Summary is what a list of runs adds up to.
type Summary struct {
	// Runs counts live runs; Simulations the simulated plans listed beside
	// them, which no figure below counts.
	Runs        int `json:"runs"`
	Simulations int `json:"simulations"`
	GO          int `json:"go"`
	NOGO        int `json:"no_go"`
	// ChangeFailureRate is the NO-GO share of rehearsed releases (runs
	// that rolled a version out, all runs when none did; interrupted runs
	// are not counted).
	ChangeFailureRate *float64 `json:"change_failure_rate"`
	// MTTRMedianS is the median time to restore after a detected
	// regression or a fault (rollback, mitigation or RTO), in seconds.
	MTTRMedianS *float64 `json:"mttr_median_s"`
	// DetectMedianS is the median time from a regression reaching traffic
	// to its detection, in seconds.
	DetectMedianS *float64 `json:"detect_median_s"`
	P99MedianMS   *float64 `json:"p99_median_ms"`
	Flaky         []Flaky  `json:"flaky"`
}

// Flaky is an expectation whose verdict flipped between runs of the same
// scenario file (hash) and version, where nothing it tests had changed.
type Flaky struct {
	Scenario    string `json:"scenario"`
	FileHash    string `json:"file_hash"`
	Version     string `json:"version"`
	Expectation string `json:"expectation"`
	Runs        int    `json:"runs"`
	Passed      int    `json:"passed"`
	// Flips of Runs-1 consecutive pairs changed verdict; FlipRate is their
	// share with its 95% Wilson score interval.
	Flips    int     `json:"flips"`
	FlipRate float64 `json:"flip_rate"`
	FlipLow  float64 `json:"flip_rate_low"`
	FlipHigh float64 `json:"flip_rate_high"`
}

// Summarize adds up runs (oldest first).
func Summarize(all []Run) Summary {
	runs := LiveRuns(all)
	s := Summary{Runs: len(runs), Simulations: len(all) - len(runs), Flaky: []Flaky{}}
	var releases, failed int
	anyRelease := false
	for i := range runs {
		anyRelease = anyRelease || runs[i].Version != ""
	}
	var mttr, detect, p99 []float64
	for i := range runs {
		r := &runs[i]
		if r.GO() {
			s.GO++
		} else {
			s.NOGO++
		}
		// An interrupted rehearsal says nothing about the change.
		if (!anyRelease || r.Version != "") && !r.Interrupted {
			releases++
			if !r.GO() {
				failed++
			}
		}
		mttr = appendSet(mttr, r.RestoreS)
		detect = appendSet(detect, r.DetectS)
		p99 = appendSet(p99, r.P99MS)
	}
	if releases > 0 {
		cfr := float64(failed) / float64(releases)
		s.ChangeFailureRate = &cfr
	}
	s.MTTRMedianS, s.DetectMedianS, s.P99MedianMS = Median(mttr), Median(detect), Median(p99)
	s.Flaky = FlakyOf(runs)
	return s
}

// LiveRuns are the runs that are not simulations, in order.
func LiveRuns(runs []Run) []Run {
	out := make([]Run, 0, len(runs))
	for _, r := range runs {
		if !r.Simulation() {
			out = append(out, r)
		}
	}
	return out
}

func appendSet(xs []float64, v *float64) []float64 {
	if v == nil {
		return xs
	}
	return append(xs, *v)
}

// Median of xs (nil when empty); the mean of the middle two for an even
// count.
func Median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return &m
}

// FlakyOf finds the expectations whose verdict flips between consecutive
// runs (oldest first) of the same scenario, file hash and version.
func FlakyOf(runs []Run) []Flaky {
	type key struct{ scenario, hash, version, exp string }
	type track struct {
		runs, passed, flips int
		last                bool
	}
	tracks := map[key]*track{}
	var order []key
	for i := range runs {
		r := &runs[i]
		if r.Interrupted || r.Simulation() {
			continue // an interrupted run checked nothing to the end; a simulation is no run
		}
		for _, x := range r.Expectations {
			k := key{r.Scenario, r.FileHash, r.Version, x.Name}
			t := tracks[k]
			if t == nil {
				t = &track{}
				tracks[k] = t
				order = append(order, k)
			} else if t.last != x.Passed {
				t.flips++
			}
			t.runs++
			t.last = x.Passed
			if x.Passed {
				t.passed++
			}
		}
	}
	out := []Flaky{}
	for _, k := range order {
		t := tracks[k]
		if t.flips == 0 {
			continue
		}
		lo, hi := Wilson(t.flips, t.runs-1, 1.959963984540054)
		out = append(out, Flaky{
			Scenario: k.scenario, FileHash: k.hash, Version: k.version, Expectation: k.exp,
			Runs: t.runs, Passed: t.passed, Flips: t.flips,
			FlipRate: float64(t.flips) / float64(t.runs-1), FlipLow: lo, FlipHigh: hi,
		})
	}
	return out
}

// Wilson is the Wilson score interval of x successes in n trials at the
// normal quantile z (1.96 for 95%).
func Wilson(x, n int, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	nf := float64(n)
	p := float64(x) / nf
	z2 := z * z
	den := 1 + z2/nf
	center := (p + z2/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return math.Max(0, center-half), math.Min(1, center+half)
}

// Sparkline draws values as block characters scaled between their min and
// max; a nil value (not measured) is a space.
func Sparkline(vals []*float64) string { return reports.Sparkline(vals) }

// VerdictLine draws verdicts (oldest first) on a fixed scale: █ GO, ▁ NO-GO,
// · interrupted.
func VerdictLine(runs []Run) string {
	out := make([]rune, len(runs))
	for i := range runs {
		switch {
		case runs[i].Interrupted:
			out[i] = '·'
		case runs[i].GO():
			out[i] = '█'
		default:
			out[i] = '▁'
		}
	}
	return string(out)
}
