package model

import (
	"math"
	"slices"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/scenarios"
)

// Summary is what the trials say, as `firedrill simulate --json` prints it.
type Summary struct {
	Scenario string   `json:"scenario"`
	File     string   `json:"file,omitempty"`
	Trials   int      `json:"trials"`
	Seed     uint64   `json:"seed"`
	Workers  int      `json:"workers"`
	Outcomes Outcomes `json:"outcomes"`
	// Ratios of each outcome and of detection, with 95% Wilson intervals.
	Ratios   map[string]Ratio `json:"ratios"`
	Triggers map[string]int   `json:"triggers,omitempty"`
	// DetectS: seconds from the regression to the first trigger (trials
	// with one); RollbackS: to the rollback's completion (rolled back).
	DetectS   Quantiles `json:"detect_s"`
	RollbackS Quantiles `json:"rollback_s"`
	// BadRequests: failed requests the new version served to callers.
	BadRequests Quantiles `json:"bad_requests"`
	// BudgetBurnedPct: the clients' failed requests as a percent of the
	// SLO's error budget over the run (when an objective is set).
	BudgetBurnedPct *Quantiles    `json:"budget_burned_pct,omitempty"`
	Objective       float64       `json:"objective,omitempty"`
	Expectations    []ExpectRatio `json:"expectations"`
	// Histograms of the figures above (value -> trials), for reports.
	Histograms Histograms `json:"-"`
	WallS      float64    `json:"wall_s"`
	Warnings   []string   `json:"warnings,omitempty"`
}

// Outcomes counts trials by outcome.
type Outcomes struct {
	Promoted   int `json:"promoted"`
	RolledBack int `json:"rolled_back"`
	Aborted    int `json:"aborted"`
}

// Ratio is x of n with its 95% Wilson interval.
type Ratio struct {
	X     int        `json:"x"`
	N     int        `json:"n"`
	Ratio float64    `json:"ratio"`
	CI95  [2]float64 `json:"ci95"`
}

func ratio(x, n int) Ratio {
	r := Ratio{X: x, N: n, CI95: analysis.WilsonCI(x, n, 0.95)}
	if n > 0 {
		r.Ratio = float64(x) / float64(n)
	}
	return r
}

// Quantiles of a figure over the trials that have it (N of them).
type Quantiles struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// ExpectRatio is how often an expectation passed.
type ExpectRatio struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Simulated bool   `json:"simulated"`
	Ratio
}

// Histograms of integer figures: milliseconds for times, requests.
type Histograms struct {
	DetectMS, RollbackMS, BadRequests hist
}

// hist counts trials by an integer value: its size is bounded by the
// values' range, not by the number of trials.
type hist map[int64]int

func (h hist) merge(o hist) {
	for k, v := range o {
		h[k] += v
	}
}

// Sorted returns the values and their counts in ascending order.
func (h hist) Sorted() (vals []int64, counts []int) {
	for k := range h {
		vals = append(vals, k)
	}
	slices.Sort(vals)
	for _, k := range vals {
		counts = append(counts, h[k])
	}
	return vals, counts
}

// quantiles are nearest-rank (as analysis's), scaled by unit.
func (h hist) quantiles(unit float64) Quantiles {
	vals, counts := h.Sorted()
	q := Quantiles{}
	var sum float64
	for i, v := range vals {
		q.N += counts[i]
		sum += float64(v) * float64(counts[i])
	}
	if q.N == 0 {
		return q
	}
	q.Mean = round4(sum / float64(q.N) * unit)
	at := func(p float64) float64 {
		rank := max(1, int(math.Ceil(p*float64(q.N))))
		c := 0
		for i, v := range vals {
			c += counts[i]
			if c >= rank {
				return round4(float64(v) * unit)
			}
		}
		return round4(float64(vals[len(vals)-1]) * unit)
	}
	q.P50, q.P90, q.P99, q.Max = at(0.5), at(0.9), at(0.99), round4(float64(vals[len(vals)-1])*unit)
	return q
}

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }

// acc folds trials together.
type acc struct {
	n               int
	outcomes        Outcomes
	detected        int
	triggers        map[string]int
	h               Histograms
	budget          hist // per-mille of the budget
	passed, judged  []int
	entReq, entErrs int64
}

func newAcc(expectations int) *acc {
	return &acc{triggers: map[string]int{}, h: Histograms{hist{}, hist{}, hist{}}, budget: hist{},
		passed: make([]int, expectations), judged: make([]int, expectations)}
}

func (a *acc) add(t Trial, objective float64) {
	a.n++
	switch t.Outcome {
	case Promoted:
		a.outcomes.Promoted++
	case RolledBack:
		a.outcomes.RolledBack++
	default:
		a.outcomes.Aborted++
	}
	if t.Trigger != "" {
		a.triggers[t.Trigger]++
	}
	if t.Detected {
		a.detected++
		a.h.DetectMS[int64(math.Round(t.DetectS*1000))]++
	}
	if t.Outcome == RolledBack {
		a.h.RollbackMS[int64(math.Round(t.RollbackS*1000))]++
	}
	a.h.BadRequests[int64(t.BadRequests)]++
	if objective > 0 && objective < 1 && t.EntryRequests > 0 {
		burned := float64(t.EntryErrors) / ((1 - objective) * float64(t.EntryRequests))
		a.budget[int64(math.Round(burned*1000))]++
	}
	for i, p := range t.Expect {
		if p != nil {
			a.judged[i]++
			if *p {
				a.passed[i]++
			}
		}
	}
}

func (a *acc) merge(o *acc) {
	a.n += o.n
	a.outcomes.Promoted += o.outcomes.Promoted
	a.outcomes.RolledBack += o.outcomes.RolledBack
	a.outcomes.Aborted += o.outcomes.Aborted
	a.detected += o.detected
	for k, v := range o.triggers {
		a.triggers[k] += v
	}
	a.h.DetectMS.merge(o.h.DetectMS)
	a.h.RollbackMS.merge(o.h.RollbackMS)
	a.h.BadRequests.merge(o.h.BadRequests)
	a.budget.merge(o.budget)
	for i := range a.passed {
		a.passed[i] += o.passed[i]
		a.judged[i] += o.judged[i]
	}
}

func (a *acc) summary(top *Topology, opt Options) *Summary {
	sc := top.Scenario
	s := &Summary{Scenario: sc.Name, File: sc.File, Trials: a.n, Seed: opt.Seed, Workers: opt.Workers,
		Outcomes: a.outcomes, Triggers: a.triggers, Histograms: a.h, Warnings: top.Warnings,
		DetectS: a.h.DetectMS.quantiles(0.001), RollbackS: a.h.RollbackMS.quantiles(0.001),
		BadRequests: a.h.BadRequests.quantiles(1)}
	s.Ratios = map[string]Ratio{
		Promoted: ratio(a.outcomes.Promoted, a.n), RolledBack: ratio(a.outcomes.RolledBack, a.n),
		Aborted: ratio(a.outcomes.Aborted, a.n), "detected": ratio(a.detected, a.n),
	}
	if obj := objective(sc); obj > 0 {
		q := a.budget.quantiles(0.1) // per-mille -> percent
		s.BudgetBurnedPct, s.Objective = &q, obj
	}
	for i, e := range sc.Expectations {
		if e == nil {
			continue
		}
		s.Expectations = append(s.Expectations, ExpectRatio{Name: e.Name, Kind: e.Kind, Simulated: a.judged[i] > 0,
			Ratio: ratio(a.passed[i], a.judged[i])})
	}
	return s
}

// objective is the SLO the scenario names (burn-rate trigger first, then
// the first expectation with one); 0 when none.
func objective(sc *scenarios.Scenario) float64 {
	if ro := sc.Rollout; ro != nil && ro.Triggers != nil && ro.Triggers.BurnRate != nil && ro.Triggers.BurnRate.Objective > 0 {
		return ro.Triggers.BurnRate.Objective
	}
	for _, e := range sc.Expectations {
		if e != nil && e.Objective > 0 {
			return e.Objective
		}
	}
	return 0
}
