package verdict

import (
	"fmt"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// sloBurn: the error budget's multi-window burn rate (short window and
// BurnLongWindows times it) stays below e.MaxBurn.
func sloBurn(ev *Evidence, e *scenarios.Expectation, x *reports.Expectation, _ *Findings) {
	slo := analysis.SLO{Objective: e.Objective}
	short := e.Window.D()
	long := scenarios.BurnLongWindows * short
	x.Threshold = fmt.Sprintf("< %gx over both %s and %s", e.MaxBurn, short, long)
	samples, who := judged(ev, e, e.From.D(), e.To.D())
	if len(samples) == 0 {
		x.Observed, x.Detail = "no data", "no requests seen by "+who
		return
	}
	p := burnPeak(samples, slo, e.From.D(), short, long, e.MaxBurn)
	if p.At == 0 {
		x.Observed, x.Detail = "no data", fmt.Sprintf("%s saw requests for less than one short window (%s)", who, short)
		return
	}
	b := analysis.Budget(samples, slo)
	x.Observed = fmt.Sprintf("%.2fx", p.Level)
	x.Passed = p.Level < e.MaxBurn
	setNum(x, p.Level, "<", e.MaxBurn, "x")
	verdict := "the alert never fired"
	if p.FiredAt >= 0 {
		verdict = fmt.Sprintf("the alert would have fired at +%s", p.FiredAt.Round(time.Millisecond))
	}
	x.Detail = fmt.Sprintf("%s; peak at +%s: burn %.2fx over the last %s (%d of %d requests bad) and %.2fx over the last %s (%d of %d bad), judged every %s on %s' requests; error budget of the whole window %.0f%% consumed (%d bad of %d, %.1f allowed at %g%%)",
		verdict, p.At.Round(time.Millisecond), p.LongRate, long, p.LongBad, p.LongN, p.ShortRate, short, p.ShortBad, p.ShortN,
		p.Step, who, 100*b.Consumed, b.Bad, b.Total, b.Allowed, 100*e.Objective)
}

// burnLevel is the multi-window burn at its peak: Level is the largest
// min(long burn, short burn) over the instants judged, the level at which
// an alert on both windows would have fired.
type burnLevel struct {
	Level               float64
	At                  time.Duration
	LongRate, ShortRate float64
	LongN, ShortN       int
	LongBad, ShortBad   int
	// FiredAt is the first instant the level reached factor (-1: never).
	FiredAt time.Duration
	Step    time.Duration
}

// burnPeak evaluates the alert "burn >= factor over both trailing windows"
// at the end of every step (short/5, at most 1s) of the samples' span from
// start+short on, as analysis.BurnAlert does at one instant (the long window
// clipped at the run's start), but from per-step counts so that a long run
// costs one pass. Instants before the short window is full are not judged:
// one early error among a handful of requests is not a burn.
func burnPeak(samples []record.Sample, slo analysis.SLO, start, short, long time.Duration, factor float64) burnLevel {
	step := min(time.Second, max(short/5, 10*time.Millisecond))
	bins := analysis.SLISeries(samples, step, slo)
	total := make([]int, len(bins)+1) // prefix sums
	good := make([]int, len(bins)+1)
	for i, b := range bins {
		total[i+1], good[i+1] = total[i]+b.Total, good[i]+b.Good
	}
	nl, ns := int(long/step), int(short/step)
	out := burnLevel{FiredAt: -1, Step: step}
	for i := int((start + short + step - 1) / step); i <= len(bins); i++ {
		lo, so := max(0, i-nl), max(0, i-ns)
		lc := analysis.SLICounts{Total: total[i] - total[lo], Good: good[i] - good[lo]}
		sc := analysis.SLICounts{Total: total[i] - total[so], Good: good[i] - good[so]}
		if lc.Total == 0 || sc.Total == 0 {
			continue
		}
		lr, sr := lc.BurnRate(slo), sc.BurnRate(slo)
		level := min(lr, sr)
		at := time.Duration(i) * step
		if level > out.Level || out.At == 0 {
			out.Level, out.At, out.LongRate, out.ShortRate = level, at, lr, sr
			out.LongN, out.ShortN, out.LongBad, out.ShortBad = lc.Total, sc.Total, lc.Total-lc.Good, sc.Total-sc.Good
		}
		if level >= factor && out.FiredAt < 0 {
			out.FiredAt = at
		}
	}
	return out
}
