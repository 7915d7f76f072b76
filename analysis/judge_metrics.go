package analysis

import (
	"fmt"
	"math"

	"github.com/firedrill/firedrill/record"
)

// MethodMannWhitney names the latency test in MetricResult.Method.
const MethodMannWhitney = "mann-whitney"

func countErrors(s []record.Sample) int {
	n := 0
	for _, x := range s {
		if !x.OK() {
			n++
		}
	}
	return n
}

func judgeErrorRate(m MetricSpec, alpha float64, minN int, base, can []record.Sample) MetricResult {
	r := MetricResult{BaselineN: len(base), CanaryN: len(can), Class: ClassNoData, PValue: math.NaN(), Effect: math.NaN()}
	if len(base) < minN || len(can) < minN {
		r.Detail = fmt.Sprintf("need %d requests per arm, have baseline %d, canary %d", minN, len(base), len(can))
		return r
	}
	be, ce := countErrors(base), countErrors(can)
	t, err := ErrorRateTest(len(base), be, len(can), ce, m.Allowed, alpha)
	if err != nil { // unreachable after Validate; keep the metric honest anyway
		r.Detail = err.Error()
		return r
	}
	r.Method, r.PValue, r.Effect, r.CI = t.Method, t.PValue, t.Diff, t.CI
	r.Baseline, r.Canary = t.BaselineRate, t.CanaryRate
	switch {
	case t.PValue <= alpha:
		r.Class = ClassHigh
	case errorRateLowP(len(base), be, len(can), ce) <= alpha:
		r.Class = ClassLow
	default:
		r.Class = ClassPass
	}
	r.Detail = fmt.Sprintf("canary %d/%d (%.3f%%) vs baseline %d/%d (%.3f%%); diff %+.3f pp, %.0f%% CI [%+.3f, %+.3f] pp; allowed +%.3f pp; %s p=%.4g",
		ce, len(can), 100*t.CanaryRate, be, len(base), 100*t.BaselineRate,
		100*t.Diff, 100*(1-2*alpha), 100*t.CI[0], 100*t.CI[1], 100*m.Allowed, t.Method, t.PValue)
	return r
}

// okLatencies returns the latencies (µs) of successful samples: failed
// requests are often fast-fails or timeouts and would blur a latency shift
// into an error-rate change, which the error-rate metric already judges.
func okLatencies(s []record.Sample) []float64 {
	out := make([]float64, 0, len(s))
	for _, x := range s {
		if x.OK() {
			out = append(out, float64(x.LatencyUS))
		}
	}
	return out
}

// logs returns ln(max(v, 1)) of each value (latencies in µs; a 0 µs
// latency is treated as 1 µs so the log stays finite).
func logs(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Log(math.Max(x, 1))
	}
	return out
}

func judgeLatency(m MetricSpec, alpha float64, minN int, base, can []record.Sample, classOnly bool) MetricResult {
	x, y := okLatencies(base), okLatencies(can)
	r := MetricResult{BaselineN: len(x), CanaryN: len(y), Class: ClassNoData, PValue: math.NaN(), Effect: math.NaN(), Method: MethodMannWhitney}
	if len(x) < minN || len(y) < minN {
		r.Detail = fmt.Sprintf("need %d successful requests per arm, have baseline %d, canary %d", minN, len(x), len(y))
		return r
	}
	// H0: canary <= baseline × (1 + allowed). Scaling the baseline tests
	// the allowance exactly for a multiplicative shift.
	scaled := make([]float64, len(x))
	for i, v := range x {
		scaled[i] = v * (1 + m.Allowed)
	}
	hi := MannWhitney(scaled, y, Greater)
	r.PValue = hi.PValue
	switch {
	case hi.PValue <= alpha:
		r.Class = ClassHigh
	case MannWhitney(x, y, Less).PValue <= alpha:
		r.Class = ClassLow
	default:
		r.Class = ClassPass
	}
	if classOnly {
		return r
	}
	ratio := HodgesLehmann(logs(x), logs(y), 1-2*alpha)
	shift := HodgesLehmann(x, y, 1-2*alpha)
	r.Effect = math.Exp(ratio.Shift)
	r.CI = [2]float64{math.Exp(ratio.CI[0]), math.Exp(ratio.CI[1])}
	r.Baseline, r.Canary = median(x)/1000, median(y)/1000
	method := "normal"
	if hi.Exact {
		method = "exact"
	}
	r.Detail = fmt.Sprintf("median canary %.2f ms vs baseline %.2f ms; Hodges-Lehmann ratio %.3f, %.0f%% CI [%.3f, %.3f]; shift %+.2f ms [%+.2f, %+.2f]; allowed +%.0f%%; P(canary > baseline×%.2f) = %.3f; Mann-Whitney (%s) p=%.4g",
		r.Canary, r.Baseline, r.Effect, 100*(1-2*alpha), r.CI[0], r.CI[1],
		shift.Shift/1000, shift.CI[0]/1000, shift.CI[1]/1000, 100*m.Allowed, 1+m.Allowed, hi.AUC, method, hi.PValue)
	return r
}

// median of unsorted values (nearest rank), without modifying v.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return quantileFloat(v, 0.5)
}
