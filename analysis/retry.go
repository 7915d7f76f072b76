package analysis

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Attempt is one request arriving at the dependency, tagged with the
// logical request it serves (e.g. an X-Request-Id that retries keep).
type Attempt struct {
	Request string
	At      time.Duration
}

// RetryInput is what a retry check sees from outside.
type RetryInput struct {
	// Offered are the send times of the logical requests callers made.
	Offered []time.Duration
	// Attempts are the dependency-side arrivals; an empty Request id is
	// counted in rates but not per request.
	Attempts []Attempt
	// OutageFrom and OutageTo bound the dependency's failure.
	OutageFrom, OutageTo time.Duration
	// Bin is the width of the bins arrivals are counted in for the jitter
	// and herd checks (default 100ms).
	Bin time.Duration
	// HerdWindow is how long after OutageTo the herd check looks
	// (default 2s).
	HerdWindow time.Duration
}

// RetryReport is the retry behaviour as seen from outside.
type RetryReport struct {
	// MaxAttempts and MeanAttempts per logical request (over requests with
	// an id); Histogram maps attempts to the number of requests.
	MaxAttempts  int
	MeanAttempts float64
	Histogram    map[int]int
	// During the outage: offered and dependency rates (per second) and
	// their ratio, the retry amplification.
	OfferedRate, DependencyRate float64
	Amplification               float64
	// PeakToMean is the busiest Bin's arrivals over the mean per Bin
	// during the outage; retries without jitter after a synchronized
	// failure arrive in waves and push it up.
	PeakToMean float64
	// HerdRatio is the busiest Bin's arrival rate in the HerdWindow after
	// recovery over the offered rate in that window; a thundering herd of
	// queued retries pushes it well above 1.
	HerdRatio float64
	Detail    string
}

// VerifyRetries measures attempts, amplification, jitter and the herd.
func VerifyRetries(in RetryInput) RetryReport {
	if in.Bin == 0 {
		in.Bin = 100 * time.Millisecond
	}
	if in.HerdWindow == 0 {
		in.HerdWindow = 2 * time.Second
	}
	r := RetryReport{Histogram: map[int]int{}}
	per := map[string]int{}
	arr := make([]time.Duration, 0, len(in.Attempts))
	for _, a := range in.Attempts {
		arr = append(arr, a.At)
		if a.Request != "" {
			per[a.Request]++
		}
	}
	slices.Sort(arr)
	off := slices.Clone(in.Offered)
	slices.Sort(off)
	var sum int
	for _, n := range per {
		r.Histogram[n]++
		r.MaxAttempts = max(r.MaxAttempts, n)
		sum += n
	}
	if len(per) > 0 {
		r.MeanAttempts = float64(sum) / float64(len(per))
	}
	if d := in.OutageTo - in.OutageFrom; d > 0 {
		o := countIn(off, in.OutageFrom, in.OutageTo)
		a := countIn(arr, in.OutageFrom, in.OutageTo)
		r.OfferedRate = float64(o) / d.Seconds()
		r.DependencyRate = float64(a) / d.Seconds()
		if o > 0 {
			r.Amplification = float64(a) / float64(o)
		}
		r.PeakToMean = PeakToMean(arr, Window{in.OutageFrom, in.OutageTo}, in.Bin)
	}
	hw := Window{in.OutageTo, in.OutageTo + in.HerdWindow}
	if o := countIn(off, hw.From, hw.To); o > 0 {
		offeredPerBin := float64(o) * float64(in.Bin) / float64(in.HerdWindow)
		r.HerdRatio = float64(peakBin(arr, hw, in.Bin)) / offeredPerBin
	}
	r.Detail = fmt.Sprintf("attempts per request max %d, mean %.2f; outage: offered %.1f/s, dependency %.1f/s (amplification %.2fx), peak-to-mean %.2f in %s bins; after recovery: peak %s bin at %.2fx the offered rate",
		r.MaxAttempts, r.MeanAttempts, r.OfferedRate, r.DependencyRate, r.Amplification, r.PeakToMean, in.Bin, in.Bin, r.HerdRatio)
	return r
}

// PeakToMean is the largest count of sorted times in a bin of w (bins of
// width bin from w.From) over the mean count per bin; 0 without data.
func PeakToMean(sorted []time.Duration, w Window, bin time.Duration) float64 {
	if bin <= 0 || w.To <= w.From {
		return 0
	}
	n := countIn(sorted, w.From, w.To)
	if n == 0 {
		return 0
	}
	bins := math.Ceil(float64(w.To-w.From) / float64(bin))
	return float64(peakBin(sorted, w, bin)) / (float64(n) / bins)
}

// peakBin is the largest count of sorted times in one bin of w.
func peakBin(sorted []time.Duration, w Window, bin time.Duration) int {
	peak := 0
	for from := w.From; from < w.To; from += bin {
		peak = max(peak, countIn(sorted, from, min(from+bin, w.To)))
	}
	return peak
}

// RetryExpect are limits for retries; zero fields are not checked.
type RetryExpect struct {
	MaxAttempts      int
	MaxAmplification float64
	MaxPeakToMean    float64
	MaxHerdRatio     float64
}

// Check compares the report with the expectations.
func (r RetryReport) Check(e RetryExpect) []Finding {
	var out []Finding
	if e.MaxAttempts > 0 {
		out = append(out, Finding{"attempts per request", r.MaxAttempts <= e.MaxAttempts, fmt.Sprint(r.MaxAttempts), fmt.Sprintf("<= %d", e.MaxAttempts)})
	}
	if e.MaxAmplification > 0 {
		out = append(out, Finding{"retry amplification", r.Amplification <= e.MaxAmplification, fmt.Sprintf("%.2fx", r.Amplification), fmt.Sprintf("<= %.2fx", e.MaxAmplification)})
	}
	if e.MaxPeakToMean > 0 {
		out = append(out, Finding{"jitter (peak-to-mean)", r.PeakToMean <= e.MaxPeakToMean, fmt.Sprintf("%.2f", r.PeakToMean), fmt.Sprintf("<= %.2f", e.MaxPeakToMean)})
	}
	if e.MaxHerdRatio > 0 {
		out = append(out, Finding{"no thundering herd", r.HerdRatio <= e.MaxHerdRatio, fmt.Sprintf("%.2fx", r.HerdRatio), fmt.Sprintf("<= %.2fx", e.MaxHerdRatio)})
	}
	return out
}
