package scenarios

import (
	"regexp"
	"slices"
	"time"
)

// Strategies of a rollout.
const (
	StrategyCanary    = "canary"
	StrategyBlueGreen = "blue_green"
	StrategyRolling   = "rolling"
	StrategyPhased    = "phased"
)

// Judges of a step's analysis.
const (
	JudgeThreshold   = "threshold"
	JudgeStatistical = "statistical"
	JudgeSequential  = "sequential"
)

// Preview traffic of a blue-green rollout.
const (
	PreviewMirror    = "mirror"
	PreviewSynthetic = "synthetic"
	PreviewNone      = "none"
)

// Decision actions: gates are approved or rejected; alerts of a manual
// rollback are acted on (rollback) or ignored.
const (
	ActionApprove  = "approve"
	ActionReject   = "reject"
	ActionRollback = "rollback"
	ActionIgnore   = "ignore"
)

// Defaults of the strategies and judges.
const (
	DefaultJudge          = JudgeSequential
	DefaultAlpha          = 0.05
	DefaultErrorMargin    = 0.01
	DefaultLatencyMargin  = 0.1
	DefaultPreview        = PreviewMirror
	DefaultMirrorPercent  = 100
	DefaultSyntheticRate  = 20.0
	DefaultMaxSurge       = 1
	DefaultCohortHeader   = "X-Request-Id"
	DefaultPreviewFor     = Duration(10 * time.Second)
	DefaultScaleDownDelay = Duration(10 * time.Second)
	DefaultBatchPause     = Duration(5 * time.Second)
	// DefaultBurnWindowMin is the shortest default burn-rate window.
	DefaultBurnWindowMin = Duration(5 * time.Second)
)

// Valid values of the rollout's enumerated keys.
var (
	Judges        = []string{JudgeSequential, JudgeStatistical, JudgeThreshold}
	Previews      = []string{PreviewMirror, PreviewSynthetic, PreviewNone}
	GateActions   = []string{ActionApprove, ActionReject}
	AlertActions  = []string{ActionRollback, ActionIgnore}
	headerToken   = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_|~-]{1,100}$`)
	flagName      = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)
	stepless      = []string{StrategyBlueGreen, StrategyRolling}
	strategyOpts  = map[string]string{"blue_green": StrategyBlueGreen, "rolling": StrategyRolling, "phased": StrategyPhased}
	defaultHealth = true
)

// HasSteps reports whether the strategy is driven by steps (canary and
// phased) rather than by its own options (blue_green and rolling).
func (r *Rollout) HasSteps() bool { return !slices.Contains(stepless, r.Strategy) }

// HealthTrigger reports whether a failing instance of the new version
// rolls the release back (the default).
func (r *Rollout) HealthTrigger() bool {
	return r.Triggers == nil || r.Triggers.Health == nil || *r.Triggers.Health
}

// StepCount is how many steps the rollout has, as faults' step: counts
// them: canary and phased steps, blue_green's preview (1) and switch (2),
// rolling's batches.
func (r *Rollout) StepCount() int {
	switch r.Strategy {
	case StrategyBlueGreen:
		return 2
	case StrategyRolling:
		return r.Batches()
	}
	return len(r.Steps)
}

// Batches is the number of batches of a rolling rollout: each replaces up
// to max_surge + max_unavailable instances.
func (r *Rollout) Batches() int {
	if r.Rolling == nil {
		return 0
	}
	size := r.Rolling.MaxSurge + r.Rolling.MaxUnavailable
	if size <= 0 || r.Replicas <= 0 {
		return 0
	}
	return (r.Replicas + size - 1) / size
}

// plannedDuration is start_at plus everything the strategy waits for when
// nothing fails (deploys and drains not counted).
func (r *Rollout) plannedDuration() time.Duration {
	total := r.StartAt.D()
	switch r.Strategy {
	case StrategyBlueGreen:
		if bg := r.BlueGreen; bg != nil {
			if bg.Preview != PreviewNone {
				total += bg.PreviewFor.D()
			}
			if bg.Gate != nil {
				total += bg.Gate.After.D()
			}
			total += bg.ScaleDownDelay.D()
		}
	case StrategyRolling:
		if r.Rolling != nil {
			total += time.Duration(r.Batches()) * r.Rolling.Pause.D()
		}
	default:
		for _, st := range r.Steps {
			if st == nil {
				continue
			}
			total += st.Pause.D()
			if st.Gate != nil {
				total += st.Gate.After.D()
			}
		}
	}
	return total
}

// applyStrategyDefaults fills the options of the rollout's strategy and
// its triggers; it runs before Rollout.applyDefaults, whose replica
// default (1) is the canary's.
func (r *Rollout) applyStrategyDefaults(s *Scenario) {
	setStr(&r.Strategy, DefaultStrategy)
	full := 0
	if svc := s.Service(r.Service); svc != nil {
		full = svc.Replicas
		if full == 0 {
			full = DefaultReplicas
		}
	}
	switch r.Strategy {
	case StrategyBlueGreen:
		if r.BlueGreen == nil {
			r.BlueGreen = &BlueGreen{}
		}
		bg := r.BlueGreen
		setStr(&bg.Preview, DefaultPreview)
		setInt(&bg.MirrorPercent, DefaultMirrorPercent)
		if bg.SyntheticRate == 0 {
			bg.SyntheticRate = DefaultSyntheticRate
		}
		setDur(&bg.PreviewFor, DefaultPreviewFor)
		setDur(&bg.ScaleDownDelay, DefaultScaleDownDelay)
		setInt(&r.Replicas, full) // a full stack
	case StrategyRolling:
		if r.Rolling == nil {
			r.Rolling = &Rolling{}
		}
		if r.Rolling.MaxSurge == 0 && r.Rolling.MaxUnavailable == 0 {
			r.Rolling.MaxSurge = DefaultMaxSurge
		}
		setDur(&r.Rolling.Pause, DefaultBatchPause)
		setInt(&r.Replicas, full) // replaces every instance
	case StrategyPhased:
		if r.Phased == nil {
			r.Phased = &Phased{}
		}
		if r.Phased.Cookie == "" {
			setStr(&r.Phased.Header, DefaultCohortHeader)
		}
	}
	if r.Triggers == nil {
		r.Triggers = &Triggers{}
	}
	if r.Triggers.Health == nil {
		h := defaultHealth
		r.Triggers.Health = &h
	}
	if b := r.Triggers.BurnRate; b != nil && b.Window == 0 {
		b.Window = max(DefaultBurnWindowMin, Duration(s.Traffic.Duration.D()/6).round())
	}
}

func (d Duration) round() Duration { return Duration(time.Duration(d).Round(time.Second)) }

func (a *Analysis) applyJudgeDefaults() {
	setStr(&a.Judge, DefaultJudge)
	setFloat(&a.Alpha, DefaultAlpha)
	setFloat(&a.ErrorMargin, DefaultErrorMargin)
	setFloat(&a.LatencyMargin, DefaultLatencyMargin)
}

func (a *Analysis) inheritJudge(from Analysis) {
	setStr(&a.Judge, from.Judge)
	setFloat(&a.Alpha, from.Alpha)
	setFloat(&a.ErrorMargin, from.ErrorMargin)
	setFloat(&a.LatencyMargin, from.LatencyMargin)
}

func setFloat(p *float64, v float64) {
	if *p == 0 {
		*p = v
	}
}

// judge checks the comparative judge's keys of an analysis.
func (c *checker) judge(a *Analysis, p string) {
	c.oneOf(p+".judge", a.Judge, Judges, "judge")
	if !(a.Alpha > 0 && a.Alpha < 0.5) {
		c.at(p+".alpha", "%v is not a false-alarm rate; write a value above 0 and below 0.5, e.g. alpha: 0.05", a.Alpha)
	}
	if !(a.ErrorMargin >= 0 && a.ErrorMargin < 1) {
		c.at(p+".error_margin", "%v is not an error-rate increase; write a value from 0 to below 1, e.g. error_margin: 0.01", a.ErrorMargin)
	}
	if !(a.LatencyMargin >= 0) || a.LatencyMargin > 100 {
		c.at(p+".latency_margin", "%v is not a relative increase; write e.g. latency_margin: 0.2 (20%% slower tolerated)", a.LatencyMargin)
	}
}

// rolloutOptions checks the strategy's options, triggers, decisions and
// mitigation. For strategies without steps it also checks that the
// rollout fits in the traffic.
func (c *checker) rolloutOptions(r *Rollout, svc *Service) {
	given := map[string]bool{"blue_green": r.BlueGreen != nil, "rolling": r.Rolling != nil, "phased": r.Phased != nil}
	for _, key := range []string{"blue_green", "rolling", "phased"} {
		if given[key] && strategyOpts[key] != r.Strategy && slices.Contains(Strategies, r.Strategy) {
			c.atKey("rollout."+key, "options of strategy %s, but the strategy is %s; remove them or write strategy: %s",
				strategyOpts[key], r.Strategy, strategyOpts[key])
		}
	}
	switch r.Strategy {
	case StrategyBlueGreen:
		if bg := r.BlueGreen; bg != nil {
			c.blueGreen(bg)
		}
	case StrategyRolling:
		if ro := r.Rolling; ro != nil {
			c.rolling(r, ro, svc)
		}
	case StrategyPhased:
		if ph := r.Phased; ph != nil {
			c.phased(ph)
		}
	}
	if t := r.Triggers; t != nil && t.BurnRate != nil {
		b := t.BurnRate
		if !(b.Objective > 0 && b.Objective < 1) {
			c.at("rollout.triggers.burn_rate.objective", "%v is not an SLO objective; write a share of good requests above 0 and below 1, e.g. objective: 0.999", b.Objective)
		}
		if b.Window <= 0 {
			c.at("rollout.triggers.burn_rate.window", "must be greater than 0; write e.g. window: 10s")
		}
	}
	if d := r.Decision; d != nil {
		if r.Rollback != "manual" {
			c.atKey("rollout.decision", "a decision answers the alert of rollback: manual, and this rollout rolls back automatically; write rollback: manual or remove decision")
		}
		c.oneOf("rollout.decision.action", d.Action, AlertActions, "action")
	}
	if m := r.Mitigation; m != nil && !flagName.MatchString(m.Flag) {
		c.at("rollout.mitigation.flag", "%q is not a flag name; name the feature flag to turn off, e.g. flag: new-checkout", m.Flag)
	}
	if r.HasSteps() {
		return
	}
	if len(r.Steps) > 0 {
		c.atKey("rollout.steps", "%s rollouts have no steps (their options say what happens); remove steps", r.Strategy)
	}
	need, have := r.plannedDuration(), c.s.Traffic.Duration.D()
	if have > 0 && need > have {
		c.atKey("rollout", "the rollout needs %s (start_at %s + the %s strategy's waits %s) but traffic.duration is %s; make traffic.duration at least %s or shorten the waits",
			need, r.StartAt, r.Strategy, need-r.StartAt.D(), have, need)
	}
}

func (c *checker) blueGreen(bg *BlueGreen) {
	const p = "rollout.blue_green"
	c.oneOf(p+".preview", bg.Preview, Previews, "preview")
	if bg.MirrorPercent < 1 || bg.MirrorPercent > 100 {
		c.at(p+".mirror_percent", "%d is not a percentage of live requests; write 1 to 100", bg.MirrorPercent)
	}
	if !(bg.SyntheticRate > 0) || bg.SyntheticRate > 10000 {
		c.at(p+".synthetic_rate", "%v is not a request rate; write requests per second above 0, e.g. synthetic_rate: 20", bg.SyntheticRate)
	}
	if bg.PreviewFor <= 0 {
		c.at(p+".preview_for", "must be greater than 0; write e.g. preview_for: 10s")
	}
	if bg.Gate != nil {
		c.oneOf(p+".gate.action", bg.Gate.Action, GateActions, "action")
	}
}

func (c *checker) rolling(r *Rollout, ro *Rolling, svc *Service) {
	const p = "rollout.rolling"
	if ro.MaxSurge < 0 {
		c.at(p+".max_surge", "must be 0 or more (extra instances during a batch), not %d", ro.MaxSurge)
	}
	if ro.MaxUnavailable < 0 {
		c.at(p+".max_unavailable", "must be 0 or more (instances missing during a batch), not %d", ro.MaxUnavailable)
	}
	if ro.MaxSurge == 0 && ro.MaxUnavailable == 0 {
		c.at(p+".max_surge", "0 with max_unavailable 0 can never replace an instance (none may be added, none removed); allow max_surge: 1 or max_unavailable: 1")
	} else if svc != nil && ro.MaxSurge == 0 && ro.MaxUnavailable >= svc.Replicas {
		c.at(p+".max_unavailable", "%d with max_surge 0 would take all %d instances of %s down at once; lower it or allow max_surge: 1",
			ro.MaxUnavailable, svc.Replicas, svc.Name)
	}
	if ro.Pause <= 0 {
		c.at(p+".pause", "must be greater than 0; write e.g. pause: 5s")
	}
}

func (c *checker) phased(ph *Phased) {
	const p = "rollout.phased"
	if ph.Header != "" && ph.Cookie != "" {
		c.at(p+".cookie", "cohorts come from a header or a cookie, not both; remove header or cookie")
	}
	if ph.Header != "" && !headerToken.MatchString(ph.Header) {
		c.at(p+".header", "%q is not a header name; write e.g. header: X-User-Id", ph.Header)
	}
	if ph.Cookie != "" && !headerToken.MatchString(ph.Cookie) {
		c.at(p+".cookie", "%q is not a cookie name; write e.g. cookie: session", ph.Cookie)
	}
}

// ejection checks the outlier-ejection keys of a service's health.
func (c *checker) ejection(h *Health, p string) {
	if h.EjectAfter < 0 {
		c.at(p+".eject_after", "must be 0 (off) or more consecutive errors, not %d", h.EjectAfter)
	}
	if h.EjectMaxPercent < 0 || h.EjectMaxPercent > 100 {
		c.at(p+".eject_max_percent", "%d is not a percentage of instances; write 1 to 100", h.EjectMaxPercent)
	}
	if h.EjectAfter == 0 && (h.EjectFor != 0 || h.EjectMaxPercent != 0) {
		c.at(p+".eject_after", "is 0, so ejection is off and eject_for / eject_max_percent do nothing; write e.g. eject_after: 5")
	}
}

// gate checks a step's gate.
func (c *checker) gate(g *Decision, p string) {
	if g != nil {
		c.oneOf(p+".action", g.Action, GateActions, "action")
	}
}
