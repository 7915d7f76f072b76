package analysis

import (
	"fmt"
	"time"

	"github.com/firedrill/firedrill/record"
)

// BurnRule is one multi-window burn-rate alert: it fires when both the long
// and the short window burn budget at least Factor times too fast (the
// short window makes the alert reset quickly once the burn stops).
type BurnRule struct {
	Long, Short time.Duration
	Factor      float64
	Severity    string // "page" or "ticket"
}

// SREWorkbookRules returns the multi-window, multi-burn-rate alerts of the
// Google SRE Workbook ("Alerting on SLOs", table 5-8) for a 30-day budget,
// with every window multiplied by scale so that they fit a rehearsal: scale
// 1/60 turns 1h/5m into 60s/5s. Factors stay as published: 14.4x over 1h
// and 5m (2% of a 30-day budget in an hour) and 6x over 6h and 30m page;
// 3x over 1d and 2h and 1x over 3d and 6h open a ticket.
func SREWorkbookRules(scale float64) []BurnRule {
	s := func(d time.Duration) time.Duration { return time.Duration(float64(d) * scale) }
	return []BurnRule{
		{Long: s(time.Hour), Short: s(5 * time.Minute), Factor: 14.4, Severity: "page"},
		{Long: s(6 * time.Hour), Short: s(30 * time.Minute), Factor: 6, Severity: "page"},
		{Long: s(24 * time.Hour), Short: s(2 * time.Hour), Factor: 3, Severity: "ticket"},
		{Long: s(72 * time.Hour), Short: s(6 * time.Hour), Factor: 1, Severity: "ticket"},
	}
}

// BurnEval is one rule evaluated at an instant.
type BurnEval struct {
	Rule                BurnRule
	LongRate, ShortRate float64
	LongN, ShortN       int
	Firing              bool
}

// BurnAlertResult is every rule's evaluation; Firing when any fires, and
// First is the first firing rule in the order given.
type BurnAlertResult struct {
	At     time.Duration
	Firing bool
	First  *BurnEval
	Evals  []BurnEval
}

// BurnAlert evaluates rules at instant at over the trailing windows
// [at-Long, at) and [at-Short, at), clipped at the run's start: early in a
// run the windows hold what there is. A rule needs requests in both windows
// to fire. It is cheap enough to call every second on a run's samples and
// can serve as a rollback trigger.
func BurnAlert(samples []record.Sample, at time.Duration, slo SLO, rules []BurnRule) (BurnAlertResult, error) {
	if err := slo.Validate(); err != nil {
		return BurnAlertResult{}, err
	}
	res := BurnAlertResult{At: at, Evals: make([]BurnEval, 0, len(rules))}
	for _, r := range rules {
		if r.Long <= 0 || r.Short <= 0 || r.Short > r.Long || r.Factor <= 0 {
			return BurnAlertResult{}, fmt.Errorf("burn rule %+v: need 0 < short <= long and a positive factor", r)
		}
		long := CountSLI(samples, Window{From: max(0, at-r.Long), To: at}, slo)
		short := CountSLI(samples, Window{From: max(0, at-r.Short), To: at}, slo)
		e := BurnEval{Rule: r, LongRate: long.BurnRate(slo), ShortRate: short.BurnRate(slo), LongN: long.Total, ShortN: short.Total}
		e.Firing = long.Total > 0 && short.Total > 0 && e.LongRate >= r.Factor && e.ShortRate >= r.Factor
		res.Evals = append(res.Evals, e)
	}
	for i := range res.Evals {
		if res.Evals[i].Firing {
			res.Firing = true
			res.First = &res.Evals[i]
			break
		}
	}
	return res, nil
}
