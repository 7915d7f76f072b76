package analysis

import (
	"fmt"
	"math"
	"time"

	"github.com/firedrill/firedrill/record"
)

// SLO is a service-level objective over request samples. A request is good
// when it succeeded and, if LatencyThreshold is set, was at least that
// fast; so an availability SLO and a latency SLO are two SLO values.
type SLO struct {
	// Objective is the target share of good requests, e.g. 0.999.
	Objective        float64
	LatencyThreshold time.Duration
}

// Validate checks the objective.
func (s SLO) Validate() error {
	if s.Objective <= 0 || s.Objective >= 1 {
		return fmt.Errorf("SLO objective %g out of range: use a share in (0, 1), e.g. 0.999", s.Objective)
	}
	if s.LatencyThreshold < 0 {
		return fmt.Errorf("SLO latency threshold %s must not be negative", s.LatencyThreshold)
	}
	return nil
}

// Good reports whether x meets the SLO.
func (s SLO) Good(x record.Sample) bool {
	return x.OK() && (s.LatencyThreshold == 0 || x.Latency() <= s.LatencyThreshold)
}

// Window is a time range [From, To) as offsets from the run's start.
type Window struct{ From, To time.Duration }

func (w Window) contains(at int64) bool {
	return at >= int64(w.From) && at < int64(w.To)
}

// SLICounts are the requests in a window and how many were good.
type SLICounts struct {
	Window Window
	Total  int
	Good   int
}

// SLI is the share of good requests (1 when there were none: no request,
// no harm).
func (c SLICounts) SLI() float64 {
	if c.Total == 0 {
		return 1
	}
	return float64(c.Good) / float64(c.Total)
}

// BurnRate is the rate at which the window spent error budget relative to
// spending exactly the budget: (bad share) / (1 - objective).
func (c SLICounts) BurnRate(slo SLO) float64 {
	if c.Total == 0 {
		return 0
	}
	return (1 - c.SLI()) / (1 - slo.Objective)
}

// CountSLI counts the samples in w and the good ones among them.
func CountSLI(samples []record.Sample, w Window, slo SLO) SLICounts {
	c := SLICounts{Window: w}
	for _, x := range samples {
		if w.contains(x.At) {
			c.Total++
			if slo.Good(x) {
				c.Good++
			}
		}
	}
	return c
}

// SLISeries cuts [0, end of data) into consecutive windows of width and
// counts each (every window appears, empty ones included).
func SLISeries(samples []record.Sample, width time.Duration, slo SLO) []SLICounts {
	if width <= 0 || len(samples) == 0 {
		return nil
	}
	var last int64
	for _, x := range samples {
		last = max(last, x.At)
	}
	n := int(last/int64(width)) + 1
	out := make([]SLICounts, n)
	for i := range out {
		out[i].Window = Window{time.Duration(i) * width, time.Duration(i+1) * width}
	}
	for _, x := range samples {
		if x.At < 0 {
			continue
		}
		i := x.At / int64(width)
		out[i].Total++
		if slo.Good(x) {
			out[i].Good++
		}
	}
	return out
}

// BudgetReport is the error budget over a set of samples.
type BudgetReport struct {
	Total, Bad int
	// Allowed is the bad requests the objective tolerates:
	// (1 - objective) × Total.
	Allowed float64
	// Consumed is Bad / Allowed (1 = the whole budget; above 1 the SLO
	// was missed); Remaining is 1 - Consumed.
	Consumed  float64
	Remaining float64
}

// Budget sums the error budget spent by samples.
func Budget(samples []record.Sample, slo SLO) BudgetReport {
	c := CountSLI(samples, Window{From: math.MinInt64, To: math.MaxInt64}, slo)
	r := BudgetReport{Total: c.Total, Bad: c.Total - c.Good}
	r.Allowed = (1 - slo.Objective) * float64(c.Total)
	if r.Allowed > 0 {
		r.Consumed = float64(r.Bad) / r.Allowed
	}
	r.Remaining = 1 - r.Consumed
	return r
}

// BurnRate is the burn rate of the samples in window w.
func BurnRate(samples []record.Sample, w Window, slo SLO) float64 {
	return CountSLI(samples, w, slo).BurnRate(slo)
}
