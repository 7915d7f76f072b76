package scenarios

import (
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults of the analysis expectations (canary_power, slo_burn, rto,
// breaker, retries).
const (
	DefaultPowerTarget   = 0.8
	DefaultBurnObjective = 0.999
	// DefaultMaxBurn is the Google SRE Workbook's fast-burn page: 2% of a
	// 30-day budget in one hour.
	DefaultMaxBurn = 14.4
	DefaultRTOObj  = 0.99
	// BurnLongWindows is how many short windows make the long one, as in
	// the SRE Workbook's 5m / 1h pair.
	BurnLongWindows = 12

	DefaultBurnWindow   = Duration(5 * time.Second)
	DefaultRTOStability = Duration(5 * time.Second)
	// DefaultFastFail: a failed call answered this fast was refused by an
	// open breaker without trying the dependency.
	DefaultFastFail = Duration(25 * time.Millisecond)
	// RollbackInstant is the fault value of an rto expectation that
	// measures recovery from the rollback's start.
	RollbackInstant = "rollback"
)

// applyAnalysisDefaults fills the analysis keys of e's kind; keys of other
// kinds stay unset so that Validate can call them out.
func (e *Expectation) applyAnalysisDefaults(s *Scenario) {
	switch e.Kind {
	case ExpectCanaryPower:
		if e.Min == 0 {
			e.Min = DefaultPowerTarget
		}
	case ExpectSLOBurn:
		if e.Objective == 0 {
			e.Objective = DefaultBurnObjective
		}
		if e.MaxBurn == 0 {
			e.MaxBurn = DefaultMaxBurn
		}
		setDur(&e.Window, DefaultBurnWindow)
	case ExpectRTO:
		if e.Objective == 0 {
			e.Objective = DefaultRTOObj
		}
		setDur(&e.Stability, DefaultRTOStability)
	case ExpectBreaker, ExpectRetries:
		if e.Kind == ExpectBreaker {
			if e.Trips == nil {
				yes := true
				e.Trips = &yes
			}
			setDur(&e.FastFail, DefaultFastFail)
		}
		if e.During == "" && (e.Kind == ExpectRetries || *e.Trips) && e.From == 0 && e.To == 0 {
			// The one fault on the edge is the obvious window.
			if fs := faultsOnEdge(s, e.Service, e.Dependency); len(fs) == 1 {
				e.During = fs[0].Name
			}
		}
	}
}

// faultsOnEdge lists the edge faults on caller -> dependency.
func faultsOnEdge(s *Scenario, caller, dep string) []*Fault {
	var out []*Fault
	for _, f := range s.Faults {
		if f == nil || !f.IsEdgeFault() {
			continue
		}
		if from, to := f.EdgeEnds(); from == caller && to == dep && caller != "" {
			out = append(out, f)
		}
	}
	return out
}

// analysisName is the default name of an analysis expectation.
func (e *Expectation) analysisName() string {
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	switch e.Kind {
	case ExpectCanaryPower:
		return "canary power >= " + g(e.Min) + " against " + e.Regression.String()
	case ExpectSLOBurn:
		return fmt.Sprintf("slo %s%% burn < %sx over %s and %s", g(100*e.Objective), g(e.MaxBurn), e.Window,
			Duration(BurnLongWindows*e.Window))
	case ExpectRTO:
		return fmt.Sprintf("rto <= %s after %s", e.Max, e.Fault)
	case ExpectBreaker:
		if e.Trips != nil && !*e.Trips {
			return fmt.Sprintf("breaker %s -> %s stays closed", e.Service, e.Dependency)
		}
		return fmt.Sprintf("breaker %s -> %s during %s", e.Service, e.Dependency, e.During)
	case ExpectRetries:
		return fmt.Sprintf("retries %s -> %s during %s", e.Service, e.Dependency, e.During)
	}
	return e.Kind
}

// String describes the regression, e.g. "error rate +0.01, latency x1.5".
func (r *Regression) String() string {
	if r == nil {
		return "no regression"
	}
	var parts []string
	if r.ErrorRateIncrease != 0 {
		parts = append(parts, "error rate +"+strconv.FormatFloat(r.ErrorRateIncrease, 'g', -1, 64))
	}
	if r.ErrorRateRatio != 0 {
		parts = append(parts, "error rate x"+strconv.FormatFloat(r.ErrorRateRatio, 'g', -1, 64))
	}
	if r.LatencyRatio != 0 {
		parts = append(parts, "latency x"+strconv.FormatFloat(r.LatencyRatio, 'g', -1, 64))
	}
	if len(parts) == 0 {
		return "no regression"
	}
	return strings.Join(parts, ", ")
}

// analysisKeys are the analysis expectations' keys and the kinds they
// belong to.
func (e *Expectation) analysisKeys() []faultAttr {
	both := []string{ExpectBreaker, ExpectRetries}
	return []faultAttr{
		{"regression", e.Regression != nil, []string{ExpectCanaryPower}},
		{"objective", e.Objective != 0, []string{ExpectSLOBurn, ExpectRTO}},
		{"max_burn", e.MaxBurn != 0, []string{ExpectSLOBurn}},
		{"window", e.Window != 0, []string{ExpectSLOBurn}},
		{"fault", e.Fault != "", []string{ExpectRTO}},
		{"stability", e.Stability != 0, []string{ExpectRTO}},
		{"service", e.Service != "", []string{ExpectBreaker, ExpectRetries, ExpectSLOBurn, ExpectRTO}},
		{"dependency", e.Dependency != "", both},
		{"during", e.During != "", both},
		{"trips", e.Trips != nil, []string{ExpectBreaker}},
		{"fast_fail", e.FastFail != 0, []string{ExpectBreaker}},
		{"max_calls_before_trip", e.MaxCallsBeforeTrip != 0, []string{ExpectBreaker}},
		{"max_calls_while_open", e.MaxCallsWhileOpen != 0, []string{ExpectBreaker}},
		{"max_fast_fail_latency", e.MaxFastFailLatency != 0, []string{ExpectBreaker}},
		{"recloses_within", e.ReclosesWithin != 0, []string{ExpectBreaker}},
		{"max_attempts_per_request", e.MaxAttemptsPerRequest != 0, []string{ExpectRetries}},
		{"max_amplification", e.MaxAmplification != 0, []string{ExpectRetries}},
		{"max_peak_to_mean", e.MaxPeakToMean != 0, []string{ExpectRetries}},
		{"max_herd_ratio", e.MaxHerdRatio != 0, []string{ExpectRetries}},
	}
}

// analysisExpectation checks the keys of canary_power, slo_burn, rto,
// breaker and retries expectations (and that no other kind uses them).
func (c *checker) analysisExpectation(e *Expectation, p string) {
	for _, a := range e.analysisKeys() {
		if a.set && !slices.Contains(a.kinds, e.Kind) {
			c.at(p+"."+a.key, "applies to %s expectations, not %s; remove it", strings.Join(a.kinds, ", "), e.Kind)
		}
	}
	switch e.Kind {
	case ExpectCanaryPower:
		c.canaryPower(e, p)
	case ExpectSLOBurn:
		if !(e.Objective > 0 && e.Objective < 1) {
			c.at(p+".objective", "%v is not an SLO target; write a share of good requests above 0 and below 1, e.g. objective: 0.999", e.Objective)
		}
		if !(e.MaxBurn > 0) || math.IsInf(e.MaxBurn, 0) {
			c.at(p+".max_burn", "must be a burn rate above 0 (1 spends the budget exactly over the SLO period); write e.g. max_burn: 14.4")
		}
		if e.Window <= 0 {
			c.at(p+".window", "must be greater than 0 (the short window; the long one is %d times it); write e.g. window: 5s", BurnLongWindows)
		}
		c.optionalService(e, p)
	case ExpectRTO:
		c.rto(e, p)
	case ExpectBreaker:
		c.breaker(e, p)
	case ExpectRetries:
		c.retries(e, p)
	}
}

func (c *checker) canaryPower(e *Expectation, p string) {
	if !(e.Min > 0 && e.Min < 1) {
		c.at(p+".min", "canary_power needs min, the power the plan must reach, above 0 and below 1; write e.g. min: 0.8")
	}
	r := e.Regression
	switch {
	case r == nil || *r == Regression{}:
		c.at(p+".regression", "canary_power needs the regression to detect; write e.g. regression: {error_rate_increase: 0.01} or {latency_ratio: 1.2}")
	default:
		if r.ErrorRateIncrease != 0 && !(r.ErrorRateIncrease > 0 && r.ErrorRateIncrease < 1) {
			c.at(p+".regression.error_rate_increase", "%v is not an increase of the error ratio; write a value above 0 and below 1, e.g. 0.01 for one percentage point", r.ErrorRateIncrease)
		}
		if r.ErrorRateRatio != 0 && !(r.ErrorRateRatio > 1) || math.IsInf(r.ErrorRateRatio, 0) {
			c.at(p+".regression.error_rate_ratio", "%v is not a worsening; write a factor above 1, e.g. 2 for a doubled error rate", r.ErrorRateRatio)
		}
		if r.LatencyRatio != 0 && !(r.LatencyRatio > 1) || math.IsInf(r.LatencyRatio, 0) {
			c.at(p+".regression.latency_ratio", "%v is not a slowdown; write a factor above 1, e.g. 1.2 for 20%% slower", r.LatencyRatio)
		}
	}
	ro := c.s.Rollout
	if ro == nil {
		c.at(p+".kind", "canary_power judges the rollout's plan, and the scenario has none; add rollout: or remove this expectation")
		return
	}
	for _, st := range ro.Steps {
		if st != nil && st.Weight > 0 && st.Weight < 100 {
			return
		}
	}
	c.at(p+".kind", "no rollout step routes between 1%% and 99%% to the new version, so no step compares a canary with a baseline; add a step such as {weight: 10, pause: 30s}")
}

func (c *checker) optionalService(e *Expectation, p string) {
	if e.Service != "" {
		c.serviceRef(p+".service", e.Service, "service: checkout")
	}
}

func (c *checker) rto(e *Expectation, p string) {
	if e.Max <= 0 {
		c.at(p+".max", "rto needs max, the longest recovery allowed; write e.g. max: 30s")
	}
	if !(e.Objective > 0 && e.Objective <= 1) {
		c.at(p+".objective", "%v is not a success ratio; write a value above 0 and at most 1, e.g. objective: 0.99", e.Objective)
	}
	if e.Stability <= 0 {
		c.at(p+".stability", "must be greater than 0 (how long the objective must hold); write e.g. stability: 5s")
	} else if d := c.s.Traffic.Duration; d > 0 && e.Stability >= d {
		c.at(p+".stability", "%s is not shorter than the traffic (%s); no recovery could ever be confirmed", e.Stability, d)
	}
	c.optionalService(e, p)
	c.noWindow(e, p, "rto measures from its fault's instant")
	switch {
	case e.Fault == "":
		c.at(p+".fault", "rto needs fault, the fault (name or glob) or rollback to measure recovery from; %s", c.faultList())
	case e.Fault == RollbackInstant:
		if c.s.Rollout == nil {
			c.at(p+".fault", "rollback needs a rollout, and the scenario has none; name a fault instead (%s)", c.faultList())
		}
	default:
		if _, err := path.Match(e.Fault, ""); err != nil {
			c.at(p+".fault", "%q is not a valid glob (%v); write a fault name, or a pattern such as outage-*", e.Fault, err)
			return
		}
		for _, f := range c.s.Faults {
			if ok, _ := path.Match(e.Fault, f.Name); f != nil && ok {
				return
			}
		}
		c.at(p+".fault", "no fault is named %q; %s", e.Fault, c.faultList())
	}
}

func (c *checker) faultList() string {
	var names []string
	for _, f := range c.s.Faults {
		if f != nil && f.Name != "" {
			names = append(names, f.Name)
		}
	}
	if len(names) == 0 {
		return "the scenario has no faults"
	}
	return "faults are " + strings.Join(names, ", ")
}

// noWindow refuses from/to where the window comes from elsewhere.
func (c *checker) noWindow(e *Expectation, p, why string) {
	if e.From != 0 {
		c.at(p+".from", "%s; remove from", why)
	}
	if e.To != 0 {
		c.at(p+".to", "%s; remove to", why)
	}
}

// edgeExpectation checks service, dependency and during of breaker and
// retries expectations.
func (c *checker) edgeExpectation(e *Expectation, p string) {
	okS := c.serviceRef(p+".service", e.Service, "service: checkout, the caller")
	okD := c.serviceRef(p+".dependency", e.Dependency, "dependency: payments, the service it calls")
	if okS && okD && !slices.Contains(c.s.Edges(), Edge{From: e.Service, To: e.Dependency}) {
		c.at(p+".dependency", "%s does not call %s; add %s to %s's depends_on, or pick an existing edge",
			e.Service, e.Dependency, e.Dependency, e.Service)
	}
	if e.During == "" {
		return
	}
	c.noWindow(e, p, "during gives the window")
	for _, f := range c.s.Faults {
		if f != nil && f.Name == e.During {
			return
		}
	}
	c.at(p+".during", "no fault is named %q; %s", e.During, c.faultList())
}

func (c *checker) breaker(e *Expectation, p string) {
	c.edgeExpectation(e, p)
	trips := e.Trips == nil || *e.Trips
	if trips && e.During == "" {
		c.at(p+".during", "name the fault that makes %s fail (there is not exactly one fault on the edge %s -> %s to default to); %s",
			e.Dependency, e.Service, e.Dependency, c.faultList())
	}
	if e.FastFail <= 0 {
		c.at(p+".fast_fail", "must be greater than 0: a failure answered within it counts as refused by the open breaker; write e.g. fast_fail: 25ms")
	}
	if e.MaxFastFailLatency > 0 && e.FastFail > 0 && e.MaxFastFailLatency >= e.FastFail {
		c.at(p+".max_fast_fail_latency", "%s is not below fast_fail (%s): only failures within fast_fail count as refusals, so this bound could never fail; lower it or raise fast_fail",
			e.MaxFastFailLatency, e.FastFail)
	}
	for _, k := range []struct {
		key string
		n   int
	}{{"max_calls_before_trip", e.MaxCallsBeforeTrip}, {"max_calls_while_open", e.MaxCallsWhileOpen}} {
		if k.n < 0 {
			c.at(p+"."+k.key, "must be 0 or more, not %d", k.n)
		}
	}
	if !trips && (e.MaxCallsBeforeTrip != 0 || e.MaxCallsWhileOpen != 0 || e.MaxFastFailLatency != 0 || e.ReclosesWithin != 0) {
		c.at(p+".trips", "trips: false checks that the breaker never opens; max_calls_before_trip, max_calls_while_open, max_fast_fail_latency and recloses_within judge an open breaker, remove them")
	}
}

func (c *checker) retries(e *Expectation, p string) {
	c.edgeExpectation(e, p)
	if e.During == "" {
		c.at(p+".during", "name the fault during which retries are judged (there is not exactly one fault on the edge %s -> %s to default to); %s",
			e.Service, e.Dependency, c.faultList())
	}
	if e.MaxAttemptsPerRequest == 0 && e.MaxAmplification == 0 && e.MaxPeakToMean == 0 && e.MaxHerdRatio == 0 {
		c.atKey(p, "retries checks nothing; add max_attempts_per_request, max_amplification, max_peak_to_mean or max_herd_ratio")
	}
	if e.MaxAttemptsPerRequest < 0 {
		c.at(p+".max_attempts_per_request", "must be 1 or more, not %d", e.MaxAttemptsPerRequest)
	}
	for _, k := range []struct {
		key string
		x   float64
	}{{"max_amplification", e.MaxAmplification}, {"max_peak_to_mean", e.MaxPeakToMean}, {"max_herd_ratio", e.MaxHerdRatio}} {
		if k.x < 0 || math.IsNaN(k.x) || math.IsInf(k.x, 0) {
			c.at(p+"."+k.key, "must be a positive ratio, not %v", k.x)
		}
	}
}
