package reports

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/firedrill/firedrill/record"
)

// This file holds what every renderer derives from a Result, so that the
// Markdown, JUnit, HTML and terminal forms say the same thing the same way.

// Zero is the wall-clock time of the reports' time axis: Point.T == 0, the
// traffic start. Every relative time in a report counts from it.
func Zero(r *Result) time.Time {
	if r.SeriesStart != nil {
		return *r.SeriesStart
	}
	for _, e := range r.Events {
		if e.Kind == record.EvTrafficStarted {
			return e.At
		}
	}
	return r.StartedAt
}

// relSec is t in seconds since zero.
func relSec(zero, t time.Time) float64 { return t.Sub(zero).Seconds() }

// fmtRel formats seconds since zero, e.g. "12.3s".
func fmtRel(s float64) string { return strconv.FormatFloat(s, 'f', 1, 64) + "s" }

// fmtDur formats a duration for people: "850 ms", "16.5 s", "2m05s".
func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + fmtDur(-d)
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	default:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
}

// between formats to-from when both are set, else "".
func between(from, to *time.Time) string {
	if from == nil || to == nil {
		return ""
	}
	return fmtDur(to.Sub(*from))
}

// fmtNum formats a measured value with about three significant digits and
// no trailing zeros.
func fmtNum(v float64) string {
	var s string
	switch a := math.Abs(v); {
	case a >= 100 || a == 0:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	default:
		s = strconv.FormatFloat(v, 'g', 3, 64)
	}
	if strings.Contains(s, ".") && !strings.ContainsAny(s, "eE") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// withUnit appends a unit: "%" sticks to the number, others get a space.
func withUnit(v float64, unit string) string {
	switch unit {
	case "":
		return fmtNum(v)
	case "%", "×", "x":
		return fmtNum(v) + unit
	default:
		return fmtNum(v) + " " + unit
	}
}

// fmtCount formats an integer with thousands separators: 12,345.
func fmtCount(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// pct formats part/whole as a percentage.
func pct(part, whole int) string {
	if whole == 0 {
		return "0%"
	}
	return withUnit(100*float64(part)/float64(whole), "%")
}

// Shortfall says by how much a failed expectation missed its threshold, e.g.
// "over by 0.12% (1.1× the limit)". It is empty when the expectation passed
// or carries no numeric Value and Limit.
func Shortfall(e Expectation) string {
	if e.Passed || e.Skipped != "" || e.Value == nil || e.Limit == nil {
		return ""
	}
	v, l := *e.Value, *e.Limit
	diff := withUnit(math.Abs(v-l), e.Unit)
	ratio := ""
	if l > 0 && v > 0 {
		ratio = " (" + fmtNum(v/l) + "× the limit)"
	}
	switch e.Op {
	case "<=", "<":
		return "over by " + diff + ratio
	case ">=", ">":
		return "under by " + diff + ratio
	default:
		return "off by " + diff
	}
}

// failedFirst returns the expectations with the failed ones first, each
// group in its original order.
func failedFirst(es []Expectation) []Expectation {
	out := append([]Expectation(nil), es...)
	sort.SliceStable(out, func(i, j int) bool { return Failed(out[i]) && !Failed(out[j]) })
	return out
}

// Failed says whether an expectation was judged and did not hold.
func Failed(e Expectation) bool { return !e.Passed && e.Skipped == "" }

func countFailed(es []Expectation) int {
	n := 0
	for _, e := range es {
		if Failed(e) {
			n++
		}
	}
	return n
}

// resultWord is PASS, FAIL or SKIP.
func resultWord(e Expectation) string {
	switch {
	case e.Skipped != "":
		return "SKIP"
	case e.Passed:
		return "PASS"
	}
	return "FAIL"
}

// verdictOf returns the verdict to show: the result's own, or NO-GO for a
// result that has none (a crashed run must never read as GO).
func verdictOf(r *Result) string {
	if r.Verdict == "" {
		return NOGO
	}
	return r.Verdict
}

// headline is the one-line explanation under the verdict.
func headline(r *Result) string {
	n, f := len(r.Expectations), countFailed(r.Expectations)
	skipped := 0
	for _, e := range r.Expectations {
		if e.Skipped != "" {
			skipped++
		}
	}
	var parts []string
	switch {
	case skipped > 0:
		parts = append(parts, fmt.Sprintf("%d held, %d failed, %d not judged of %d expectations", n-f-skipped, f, skipped, n))
	case n == 0:
		parts = append(parts, "no expectations were checked")
	case n == 1 && f == 0:
		parts = append(parts, "the one expectation held")
	case n == 1:
		parts = append(parts, "the one expectation failed")
	case f == 0:
		parts = append(parts, fmt.Sprintf("all %d expectations held", n))
	default:
		parts = append(parts, fmt.Sprintf("%d of %d expectations failed", f, n))
	}
	switch {
	case r.SteadyState != nil && !r.SteadyState.Passed: // steady.go
		parts = append(parts, r.Aborted)
	case r.Aborted != "":
		parts = append(parts, "stopped by its safety floor: "+r.Aborted)
	case r.Interrupted:
		parts = append(parts, "run interrupted: results are partial")
	case r.Error != "":
		parts = append(parts, "the run failed")
	}
	return strings.Join(parts, "; ")
}

// rolloutLine sums the rollout up in one sentence (empty without rollout).
func rolloutLine(r *Result) string {
	ro := r.Rollout
	if ro.Service == "" && (ro.Outcome == "" || ro.Outcome == None) {
		return ""
	}
	var b strings.Builder
	b.WriteString(ro.Service)
	if ro.From != "" || ro.To != "" {
		fmt.Fprintf(&b, " %s → %s", orDash(ro.From), orDash(ro.To))
	}
	if ro.Strategy != "" {
		fmt.Fprintf(&b, " (%s)", ro.Strategy)
	}
	fmt.Fprintf(&b, ": %s", outcomeText(ro.Outcome))
	if ro.Trigger != "" {
		fmt.Fprintf(&b, ", trigger %s", ro.Trigger)
		if why := triggerWhy(r); why != "" {
			fmt.Fprintf(&b, " (%s)", why)
		}
	}
	if t := rolloutTimings(ro); t != "" {
		b.WriteString("; " + t)
	}
	return b.String()
}

// rolloutTimings is the part of rolloutLine that says how fast things went.
func rolloutTimings(ro Rollout) string {
	var parts []string
	switch ro.Outcome {
	case RolledBack:
		if d := between(ro.RegressionAt, ro.CompletedAt); d != "" {
			parts = append(parts, "regression to rollback completed "+d)
		}
		if d := between(ro.RegressionAt, ro.DetectedAt); d != "" {
			parts = append(parts, "detected after "+d)
		}
		if d := between(ro.RollbackStartedAt, ro.CompletedAt); d != "" {
			parts = append(parts, "rollback took "+d)
		}
	case Promoted:
		if d := between(ro.StartedAt, ro.CompletedAt); d != "" {
			parts = append(parts, "rollout took "+d)
		}
	}
	return strings.Join(parts, ", ")
}

func outcomeText(o string) string {
	switch o {
	case RolledBack:
		return "rolled back"
	case Promoted:
		return "promoted"
	case "", None:
		return "did not finish"
	case Unfinished:
		return "unfinished (cut short while the new version held traffic or instances)"
	}
	return o
}

// ObservedText is "observed X, threshold Y" without an empty part: a check
// that had nothing to judge says why instead of an empty threshold.
func ObservedText(e Expectation) string {
	obs := e.Observed
	if obs == "" {
		obs = "nothing"
	}
	switch {
	case e.Threshold != "":
		return fmt.Sprintf("observed %s, threshold %s", obs, e.Threshold)
	case e.Detail != "":
		return fmt.Sprintf("observed %s: %s", obs, e.Detail)
	}
	return "observed " + obs
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// triggerWhy is the message of the first trigger_fired event.
func triggerWhy(r *Result) string {
	for _, e := range r.Events {
		if e.Kind == record.EvTriggerFired {
			return e.Message
		}
	}
	return ""
}

// faultWindow formats when a fault was active, relative to zero.
func faultWindow(f Fault, zero time.Time) string {
	switch {
	case f.Skipped != "":
		return "skipped: " + f.Skipped
	case f.InjectedAt == nil && f.Error != "":
		return "failed: " + f.Error
	case f.InjectedAt == nil:
		return "not injected"
	case f.RevertedAt == nil:
		return fmtRel(relSec(zero, *f.InjectedAt)) + " – (not reverted)"
	}
	return fmt.Sprintf("%s – %s (%s)", fmtRel(relSec(zero, *f.InjectedAt)),
		fmtRel(relSec(zero, *f.RevertedAt)), fmtDur(f.RevertedAt.Sub(*f.InjectedAt)))
}

// trafficLine sums the client traffic up in one line.
func trafficLine(t Traffic) string {
	s := fmt.Sprintf("%s requests, %s (%s), %s of %s rps", fmtCount(t.Requests),
		plural(t.Errors, "error"), pct(t.Errors, t.Requests), fmtNum(t.AchievedRPS), fmtNum(t.TargetRPS))
	if t.Status4xx > 0 {
		s += fmt.Sprintf("; %s 4xx (%s, not errors)", fmtCount(t.Status4xx), pct(t.Status4xx, t.Requests))
	}
	l := t.LatencyMS
	if l != (Latencies{}) {
		s += fmt.Sprintf("; latency p50 %s · p90 %s · p99 %s · max %s", withUnit(l.P50, "ms"),
			withUnit(l.P90, "ms"), withUnit(l.P99, "ms"), withUnit(l.Max, "ms"))
	}
	if m := t.Machine; m.Saturated() {
		s += fmt.Sprintf("; MACHINE SATURATED: no idle CPU in %d of %d s (%d CPUs, %.0f%% busy), so latencies "+
			"and errors in those seconds measure this machine, not the system: lower traffic.rate or use a bigger machine",
			m.SaturatedSeconds, m.Seconds, m.CPUs, m.BusyPercent)
	}
	return s
}

// important reports whether an event belongs in a short timeline.
func important(e record.Event) bool {
	switch e.Kind {
	case record.EvRolloutStarted, record.EvStepStarted, record.EvTriggerFired,
		record.EvRollbackStarted, record.EvRollbackCompleted, record.EvPromoted,
		record.EvFaultInjected, record.EvFaultReverted, record.EvFaultSkipped,
		record.EvInterrupted, "alert", EvAlertFiring, EvAlertResolved, EvTelemetryGap:
		return true
	case record.EvAnalysis:
		return analysisFailed(e)
	}
	return false
}

// analysisFailed reads the verdict of an analysis event.
func analysisFailed(e record.Event) bool {
	if v, ok := e.Fields["verdict"].(string); ok {
		return v == "fail"
	}
	if p, ok := e.Fields["passed"].(bool); ok {
		return !p
	}
	return false
}

// eventText is an event's message, or its fields when it has none.
func eventText(e record.Event) string {
	if e.Message != "" {
		return e.Message
	}
	return fieldsText(e.Fields)
}

// fieldsText formats fields as sorted key=value pairs.
func fieldsText(f map[string]any) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := f[k]
		if x, ok := v.(float64); ok {
			v = fmtNum(x)
		}
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	return strings.Join(parts, " ")
}

// subject is who an event is about: its target, else its service.
func subject(e record.Event) string {
	if e.Target != "" {
		return e.Target
	}
	return e.Service
}

// oneLine flattens whitespace so a text fits in a table cell.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// plural formats a count with its noun: "1 error", "2,000 errors".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmtCount(n) + " " + noun + "s"
}
