package verdict

import (
	"fmt"
	"strings"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// retries: the caller's retries against e.Dependency stay within the
// amplification, burst and herd limits while it fails and after.
func retries(ev *Evidence, e *scenarios.Expectation, x *reports.Expectation, _ *Findings) {
	v, err := newEdgeView(ev, e)
	if err != nil {
		x.Observed, x.Detail = "no data", err.Error()
		return
	}
	attempts := make([]analysis.Attempt, len(v.arrivals))
	for i, a := range v.arrivals {
		attempts[i] = analysis.Attempt{At: a}
	}
	rep := analysis.VerifyRetries(analysis.RetryInput{Offered: v.offered, Attempts: attempts, OutageFrom: v.window.From, OutageTo: v.window.To})
	var findings []analysis.Finding
	if e.MaxAttemptsPerRequest > 0 {
		// Router samples carry no request id, so attempts are counted, not
		// joined: the mean per caller request is a lower bound of the
		// maximum (up to edge effects of requests straddling the window).
		findings = append(findings, analysis.Finding{Check: "attempts per request (mean)", OK: rep.Amplification <= float64(e.MaxAttemptsPerRequest),
			Observed: fmt.Sprintf("%.2f", rep.Amplification), Threshold: fmt.Sprintf("<= %d", e.MaxAttemptsPerRequest)})
	}
	findings = append(findings, rep.Check(analysis.RetryExpect{MaxAmplification: e.MaxAmplification, MaxPeakToMean: e.MaxPeakToMean, MaxHerdRatio: e.MaxHerdRatio})...)
	x.Passed, x.Threshold = allOK(findings), thresholds(findings)
	var obs []string
	for _, f := range findings {
		obs = append(obs, f.Check+" "+f.Observed)
	}
	x.Observed = strings.Join(obs, ", ")
	x.Detail = failedFirst(findings) + fmt.Sprintf("window %s: %d requests to %s, %d attempts reached %s (%.1f/s against %.1f/s offered; attempts are counted, not joined by request id, so the mean per request bounds the maximum from below); arrivals' peak-to-mean %.2f in 100ms bins; after recovery the busiest 100ms bin ran at %.2fx the offered rate",
		v.windowText(), countWithin(v.offered, v.window), e.Service, countWithin(v.arrivals, v.window), e.Dependency,
		rep.DependencyRate, rep.OfferedRate, rep.PeakToMean, rep.HerdRatio)
	if !x.Passed && e.MaxAmplification > 0 && rep.Amplification > e.MaxAmplification {
		x.Detail += fmt.Sprintf(". Every failing request was retried against %s while it was down: a breaker (or a retry budget) would stop the retry storm", e.Dependency)
	}
}
