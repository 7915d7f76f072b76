package simulator

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// Outcomes of a rollout.
const (
	Promoted   = "promoted"
	RolledBack = "rolled_back"
	None       = "none"
)

// Triggers: why a rollback (or mitigation) fired.
const (
	TriggerAnalysis     = "analysis"
	TriggerHealth       = "health"
	TriggerBurnRate     = "burn_rate"
	TriggerGateRejected = "gate_rejected"
	TriggerDeployFailed = "deploy_failed"
)

// Event kinds the controller adds to record's set (the audit trail).
const (
	EvAlert          = "alert"           // a trigger fired under rollback: manual
	EvDecision       = "decision"        // a scheduled human decision was made
	EvGateOpened     = "gate_opened"     // a step waits for approval
	EvGateApproved   = "gate_approved"   //
	EvGateRejected   = "gate_rejected"   //
	EvFlagFlipped    = "flag_flipped"    // mitigation turned a feature flag off
	EvPreviewStarted = "preview_started" // blue-green: preview traffic on
	EvSwitched       = "switched"        // blue-green: all traffic moved at once
	EvSwitchImpact   = "switch_impact"   // blue-green: requests in flight at the switch
	EvBatch          = "batch"           // rolling: one batch replaced
	EvTrafficRestore = "traffic_restored"
)

// Outcome is what the controller did and when.
type Outcome struct {
	Result   string
	Strategy string
	Trigger  string
	// Zero times mean "did not happen".
	StartedAt         time.Time
	RegressionAt      time.Time // the new version first handled a request (live, mirrored or synthetic)
	DetectedAt        time.Time // the first trigger fired
	DecidedAt         time.Time // a human decision was made (rollback: manual)
	MitigatedAt       time.Time // a feature flag was turned off
	RollbackStartedAt time.Time
	TrafficRestoredAt time.Time // no live request reaches the new version any more
	CompletedAt       time.Time // rollback: new instances stopped; promotion: old ones
	Steps             []StepRecord

	// Mitigation is the flag turned off ("" when none was).
	Mitigation string
	// BadRequests is the blast radius: failed requests the new version
	// served to callers from RegressionAt until traffic was restored (or
	// the rollout completed); NewRequests is all it served in that span.
	BadRequests int
	NewRequests int
	// Switch is blue-green's switch, nil for other strategies.
	Switch *SwitchImpact
}

// SwitchImpact is what a blue-green switch did to requests in flight.
type SwitchImpact struct {
	At time.Time
	// InFlight requests of the old version had started and not finished
	// at the switch; Failed of them failed.
	InFlight int
	Failed   int
	// NewFirstSecond and NewFirstSecondFailed are the new version's
	// requests in the second after the switch.
	NewFirstSecond       int
	NewFirstSecondFailed int
}

// TimingNames are the post-incident review's figures Timings may hold.
var TimingNames = []string{"time_to_detect_s", "time_to_decide_s", "time_to_restore_s", "time_to_complete_s"}

// Timings are the post-incident review's figures, in seconds; a figure
// that does not apply (nothing was detected, decided or restored) is
// absent, never 0, which would read as "instant".
func (o *Outcome) Timings() map[string]float64 {
	decided := o.DecidedAt
	if decided.IsZero() {
		decided = firstNonZero(o.MitigatedAt, o.RollbackStartedAt)
	}
	restored := firstNonZero(o.TrafficRestoredAt, o.MitigatedAt)
	out := map[string]float64{}
	for name, span := range map[string][2]time.Time{
		"time_to_detect_s":   {o.RegressionAt, o.DetectedAt},
		"time_to_decide_s":   {o.DetectedAt, decided},
		"time_to_restore_s":  {o.RegressionAt, restored},
		"time_to_complete_s": {o.RegressionAt, o.CompletedAt},
	} {
		if !span[0].IsZero() && !span[1].IsZero() {
			out[name] = secondsSince(span[0], span[1])
		}
	}
	return out
}

// StepRecord is one step as it happened.
type StepRecord struct {
	Index   int // 1-based
	Weight  int // the new version's share once the step started
	Started time.Time
	Ended   time.Time
	Result  string // passed | failed | interrupted
}

// Controller runs one rollout.
type Controller struct {
	Clock    Clock
	Fleet    Fleet
	Router   Router
	Observer Observer
	Events   *record.Log // may be nil

	Rollout *scenarios.Rollout
	From    string // the version serving before the rollout
	// FromReplicas is how many instances of From serve before the rollout
	// (rolling; default Rollout.Replicas).
	FromReplicas int
	Start        time.Time // time zero: Rollout.StartAt counts from here

	// OnStep, when set, is called as each step starts (index from 1).
	OnStep func(index, weight int, at time.Time)
	// BeforeStep, when set, must pass before step index (from 1) starts;
	// an error rolls the release back (trigger step_gate; stepgate.go).
	BeforeStep func(ctx context.Context, index int) error
	// Desk, when set, brings live decisions on gates and alerts (desk.go).
	Desk *Desk
	// IsError says which answers of the service count as errors (nil:
	// 5xx and no answer; requests.go).
	IsError func(record.Sample) bool
	// ReadyTimeout bounds each deploy of the new version; past it the
	// rollout rolls back with trigger not_ready (0: no bound; ready.go).
	ReadyTimeout time.Duration
}

// Run executes the rollout until it is promoted, rolled back or ctx ends.
// An ended ctx returns the outcome so far and ctx's error.
func (c *Controller) Run(ctx context.Context) (*Outcome, error) {
	ro := c.Rollout
	out := &Outcome{Result: None, Strategy: ro.Strategy}
	if out.Strategy == "" {
		out.Strategy = scenarios.StrategyCanary
	}
	if err := c.Check(); err != nil {
		return out, err
	}
	if err := c.sleepUntil(ctx, c.Start.Add(ro.StartAt.D())); err != nil {
		return out, err
	}
	r := &run{Controller: c, ro: ro, out: out}
	out.StartedAt = c.Clock.Now()
	r.event(record.Event{At: out.StartedAt, Kind: record.EvRolloutStarted,
		Message: fmt.Sprintf("%s %s: %s -> %s", out.Strategy, ro.Service, c.From, ro.To),
		Fields:  map[string]any{"from": c.From, "to": ro.To, "strategy": out.Strategy, "rollback": ro.Rollback}})
	strategy := strategies[out.Strategy]
	if strategy == nil {
		strategy = (*run).steps
	}
	err := strategy(r, ctx)
	r.unfinished(err) // ready.go
	return out, err
}

// strategies is how each rollout strategy runs, one file each (a table,
// never written); phased is canary's weighted steps with cohort routing.
var strategies = map[string]func(*run, context.Context) error{
	scenarios.StrategyCanary:    (*run).steps,     // canary.go
	scenarios.StrategyPhased:    (*run).steps,     // canary.go, cohorts set in steps
	scenarios.StrategyBlueGreen: (*run).blueGreen, // bluegreen.go
	scenarios.StrategyRolling:   (*run).rolling,   // rolling.go
}

// Capabilities some strategies need beyond Fleet and Router.
const (
	CapInstanceScaling = "instance scaling"
	CapCohortRouting   = "cohort routing"
	CapMirroring       = "request mirroring"
	CapSynthetic       = "synthetic preview traffic"
	CapFeatureFlags    = "feature flags"
)

// Needs lists the optional capabilities a rollout needs.
func Needs(ro *scenarios.Rollout) []string {
	var need []string
	switch ro.Strategy {
	case scenarios.StrategyRolling:
		need = append(need, CapInstanceScaling)
	case scenarios.StrategyPhased:
		need = append(need, CapCohortRouting)
	case scenarios.StrategyBlueGreen:
		if bg := ro.BlueGreen; bg != nil {
			switch bg.Preview {
			case scenarios.PreviewMirror, "":
				need = append(need, CapMirroring)
			case scenarios.PreviewSynthetic:
				need = append(need, CapSynthetic)
			}
		}
	}
	if ro.Mitigation != nil {
		need = append(need, CapFeatureFlags)
	}
	return need
}

// Check reports a capability the rollout needs that the controller's Fleet
// or Router lacks.
func (c *Controller) Check() error {
	for _, capability := range Needs(c.Rollout) {
		var ok bool
		switch capability {
		case CapInstanceScaling:
			_, ok = c.Fleet.(InstanceScaler)
		case CapFeatureFlags:
			_, ok = c.Fleet.(FlagSetter)
		case CapCohortRouting:
			_, ok = c.Router.(CohortRouter)
		case CapMirroring:
			_, ok = c.Router.(Mirrorer)
		case CapSynthetic:
			_, ok = c.Router.(SyntheticSource)
		}
		if !ok {
			return fmt.Errorf("rollout of %s: %s needs %s, which this world lacks; pick another strategy or runtime",
				c.Rollout.Service, describeNeed(c.Rollout), capability)
		}
	}
	return nil
}

func describeNeed(ro *scenarios.Rollout) string {
	s := "strategy " + ro.Strategy
	if ro.Mitigation != nil {
		s += " with mitigation"
	}
	return s
}

// run is the state of one rollout: evidence so far, pending decisions.
type run struct {
	*Controller
	ro  *scenarios.Rollout
	out *Outcome

	// Sequential evidence: one test per arm, fed cumulative counts since seqFrom.
	seq     *analysis.SequentialTest
	seqArm  arm
	seqFrom time.Time
	seqFed  [4]int // baseline n, errors, canary n, errors fed so far
	// evidenceFrom bounds every analysis window (mitigation starts afresh).
	evidenceFrom time.Time
	fails        int

	newUp      bool      // instances of the new version were deployed (ready.go)
	newWeight  int       // the new version's last weight set
	healthSeen time.Time // health events up to here have triggered already
	mitigated  bool
	alerted    *trigger // an alert without a scheduled decision was raised
	ignoring   bool     // a human decided to ignore alerts
	pending    *pending
}

// pending is an alert waiting for its scheduled decision.
type pending struct {
	trig trigger
	due  time.Time
}

// trigger is why a rollback (or a mitigation) should happen.
type trigger struct {
	name   string
	why    string
	fields map[string]any
}

func (r *run) event(e record.Event) {
	if r.Events == nil {
		return
	}
	if e.At.IsZero() {
		e.At = r.Clock.Now()
	}
	if e.Service == "" {
		e.Service = r.ro.Service
	}
	r.Events.Add(e)
}

func (r *run) setWeights(ctx context.Context, w map[string]int) error {
	if err := r.Router.SetWeights(ctx, r.ro.Service, w); err != nil {
		return fmt.Errorf("set weights of %s to %v: %w", r.ro.Service, w, err)
	}
	r.newWeight = w[r.ro.To]
	return nil
}

// exposed notes the first time the new version handles requests.
func (r *run) exposed(at time.Time) {
	if r.out.RegressionAt.IsZero() {
		r.out.RegressionAt = at
		r.evidenceFrom = at
	}
}

// startStep records and announces a step.
func (r *run) startStep(index, weight int, msg string) StepRecord {
	rec := StepRecord{Index: index, Weight: weight, Started: r.Clock.Now()}
	r.event(record.Event{At: rec.Started, Kind: record.EvStepStarted, Message: msg,
		Fields: map[string]any{"step": index, "weight": weight}})
	if r.OnStep != nil {
		r.OnStep(index, weight, rec.Started)
	}
	return rec
}

// endStep files a step with its result.
func (r *run) endStep(rec StepRecord, result string) {
	rec.Ended = r.Clock.Now()
	rec.Result = result
	r.out.Steps = append(r.out.Steps, rec)
}

// rollback fires t and restores the old version with restore, which must
// set TrafficRestoredAt. It finishes even when ctx ends: a half-rolled-back
// service is the worst state to leave.
func (r *run) rollback(ctx context.Context, t trigger, restore func(context.Context) error) error {
	out := r.out
	out.Trigger = t.name
	now := r.Clock.Now()
	if out.DetectedAt.IsZero() {
		out.DetectedAt = now
	}
	fields := map[string]any{"trigger": t.name}
	for k, v := range t.fields {
		fields[k] = v
	}
	r.event(record.Event{At: now, Kind: record.EvTriggerFired, Message: t.why, Fields: fields})
	out.RollbackStartedAt = r.Clock.Now()
	r.event(record.Event{At: out.RollbackStartedAt, Kind: record.EvRollbackStarted,
		Message: fmt.Sprintf("rolling %s back to %s (%s)", r.ro.Service, r.From, out.Strategy)})
	if err := restore(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("rollback of %s to %s: %w", r.ro.Service, r.From, err)
	}
	if out.TrafficRestoredAt.IsZero() {
		out.TrafficRestoredAt = r.Clock.Now()
	}
	out.CompletedAt = r.Clock.Now()
	out.Result = RolledBack
	r.audit(out.TrafficRestoredAt)
	f := r.auditFields()
	f["trigger"] = t.name
	r.event(record.Event{At: out.CompletedAt, Kind: record.EvRollbackCompleted,
		Message: fmt.Sprintf("%s serves only %s again; the new version served %d bad requests", r.ro.Service, r.From, out.BadRequests),
		Fields:  f})
	return nil
}

// restored marks the moment no live request reaches the new version.
func (r *run) restored() {
	r.out.TrafficRestoredAt = r.Clock.Now()
	r.event(record.Event{At: r.out.TrafficRestoredAt, Kind: EvTrafficRestore,
		Message: fmt.Sprintf("all traffic of %s on %s", r.ro.Service, r.From)})
}

// promote completes the rollout with finish (the strategy's last moves).
func (r *run) promote(ctx context.Context, finish func(context.Context) error) error {
	if err := finish(ctx); err != nil {
		return fmt.Errorf("promote %s to %s: %w", r.ro.Service, r.ro.To, err)
	}
	out := r.out
	out.CompletedAt = r.Clock.Now()
	out.Result = Promoted
	r.audit(out.CompletedAt)
	r.event(record.Event{At: out.CompletedAt, Kind: record.EvPromoted,
		Message: fmt.Sprintf("%s promoted to %s", r.ro.Service, r.ro.To), Fields: r.auditFields()})
	return nil
}

// audit counts the blast radius: what the new version served to callers
// (not mirrored or synthetic requests) from the regression until end.
func (r *run) audit(end time.Time) {
	out := r.out
	if out.RegressionAt.IsZero() || end.IsZero() {
		return
	}
	ws := r.windowStats(Query{Service: r.ro.Service, Version: r.ro.To, From: out.RegressionAt, To: end.Add(time.Nanosecond)}, false)
	out.BadRequests, out.NewRequests = ws.Errors, ws.Requests
}

func (r *run) auditFields() map[string]any {
	out := r.out
	f := map[string]any{"strategy": out.Strategy, "bad_requests": out.BadRequests, "new_version_requests": out.NewRequests}
	t := out.Timings()
	for _, k := range TimingNames {
		if v, ok := t[k]; ok {
			f[k] = v
		} else {
			f[k] = nil // did not happen: null, not 0
		}
	}
	if out.Mitigation != "" {
		f["mitigation"] = out.Mitigation
	}
	return f
}

func (c *Controller) sleepUntil(ctx context.Context, t time.Time) error {
	d := t.Sub(c.Clock.Now())
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.Clock.After(d):
		return nil
	}
}

func firstNonZero(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func secondsSince(from, to time.Time) float64 {
	if from.IsZero() || to.IsZero() {
		return 0
	}
	return round4(to.Sub(from).Seconds())
}

func round4(f float64) float64 { return math.Round(f*10000) / 10000 }
