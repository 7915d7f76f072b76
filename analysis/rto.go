package analysis

import (
	"fmt"
	"slices"
	"time"

	"github.com/firedrill/firedrill/record"
)

// RecoveryConfig defines recovery after a fault or a rollback.
type RecoveryConfig struct {
	// Bin is the window width success ratios are taken over (default 1s).
	Bin time.Duration
	// Objective is the success ratio a bin must reach, e.g. 0.99.
	Objective float64
	// Stability is how long every bin must keep the objective for the
	// service to count as recovered (default 10s).
	Stability time.Duration
}

func (c RecoveryConfig) withDefaults() RecoveryConfig {
	if c.Bin == 0 {
		c.Bin = time.Second
	}
	if c.Stability == 0 {
		c.Stability = 10 * time.Second
	}
	return c
}

// Outage is a stretch in which clients saw no success.
type Outage struct {
	From, To time.Duration
	// Failed is the number of failed requests in the stretch.
	Failed int
}

// Duration is To - From.
func (o Outage) Duration() time.Duration { return o.To - o.From }

// Recovery is what happened after one fault or rollback instant.
type Recovery struct {
	At        time.Duration
	Recovered bool
	// RecoveredAt is the start of the first bin from which every bin over
	// the stability period met the objective; RTO is RecoveredAt - At.
	RecoveredAt time.Duration
	RTO         time.Duration
	// Longest is the longest stretch without a success after At.
	Longest Outage
	Detail  string
}

// MeasureRecovery finds the recovery after instant at. Bins are aligned on
// at ([at, at+Bin), ...), so RTO is a whole number of bins and 0 when the
// service never dipped. An empty bin counts as failing: no traffic is no
// evidence of recovery. The stability period must lie inside the data.
func MeasureRecovery(samples []record.Sample, at time.Duration, cfg RecoveryConfig) (Recovery, error) {
	cfg = cfg.withDefaults()
	if cfg.Objective <= 0 || cfg.Objective > 1 || cfg.Bin <= 0 || cfg.Stability < cfg.Bin {
		return Recovery{}, fmt.Errorf("recovery config %+v: need objective in (0, 1], bin > 0 and stability >= bin", cfg)
	}
	after := make([]record.Sample, 0, len(samples))
	for _, x := range samples {
		if x.At >= int64(at) {
			after = append(after, x)
		}
	}
	r := Recovery{At: at}
	if len(after) == 0 {
		r.Detail = "no requests after the instant"
		return r, nil
	}
	var last int64
	for _, x := range after {
		last = max(last, x.At)
	}
	nBins := int((last-int64(at))/int64(cfg.Bin)) + 1
	total := make([]int, nBins)
	good := make([]int, nBins)
	for _, x := range after {
		i := (x.At - int64(at)) / int64(cfg.Bin)
		total[i]++
		if x.OK() {
			good[i]++
		}
	}
	need := int((cfg.Stability + cfg.Bin - 1) / cfg.Bin)
	ok := func(i int) bool {
		return total[i] > 0 && float64(good[i]) >= cfg.Objective*float64(total[i])
	}
	run := 0 // consecutive good bins ending at i
	for i := range nBins {
		if !ok(i) {
			run = 0
			continue
		}
		run++
		if run == need {
			start := i - need + 1
			r.Recovered = true
			r.RecoveredAt = at + time.Duration(start)*cfg.Bin
			r.RTO = r.RecoveredAt - at
			break
		}
	}
	r.Longest = LongestOutage(after)
	if r.Recovered {
		r.Detail = fmt.Sprintf("success ratio >= %.4g in every %s bin for %s from %s after the instant", cfg.Objective, cfg.Bin, cfg.Stability, r.RTO)
	} else {
		r.Detail = fmt.Sprintf("success ratio never held >= %.4g for %s within the %d bins observed", cfg.Objective, cfg.Stability, nBins)
	}
	return r, nil
}

// LongestOutage returns the longest stretch, by intended send time, from a
// failed request to the next successful one (or to the end of the last
// failed request when none followed): the longest time any client went
// without a success. A stretch without requests is not an outage anyone
// saw, so it only counts when a failure opens it.
func LongestOutage(samples []record.Sample) Outage {
	s := slices.Clone(samples)
	slices.SortFunc(s, func(a, b record.Sample) int { return cmpInt64(a.At, b.At) })
	var best, cur Outage
	in := false
	for _, x := range s {
		switch {
		case !x.OK() && !in:
			in = true
			cur = Outage{From: time.Duration(x.At), To: time.Duration(x.At) + x.Latency(), Failed: 1}
		case !x.OK():
			cur.Failed++
			cur.To = max(cur.To, time.Duration(x.At)+x.Latency())
		case in: // the first success after failures closes the stretch
			cur.To = time.Duration(x.At)
			in = false
			if cur.Duration() > best.Duration() {
				best = cur
			}
		}
	}
	if in && cur.Duration() > best.Duration() {
		best = cur
	}
	return best
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// RTOStats sums up recoveries after repeated faults.
type RTOStats struct {
	N, Recovered  int
	P50, P90, Max time.Duration // over recovered instances (nearest rank)
	// LongestOutage is the longest stretch without success in any of them.
	LongestOutage time.Duration
}

// SummarizeRecoveries gives RTO quantiles across repeated faults.
func SummarizeRecoveries(rs []Recovery) RTOStats {
	st := RTOStats{N: len(rs)}
	var rtos []time.Duration
	for _, r := range rs {
		if r.Recovered {
			st.Recovered++
			rtos = append(rtos, r.RTO)
		}
		st.LongestOutage = max(st.LongestOutage, r.Longest.Duration())
	}
	if len(rtos) > 0 {
		q := DurationQuantiles(rtos, 0.5, 0.9, 1)
		st.P50, st.P90, st.Max = q[0], q[1], q[2]
	}
	return st
}
