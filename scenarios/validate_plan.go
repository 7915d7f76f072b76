package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Valid values of the enumerated keys.
var (
	Methods    = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
	Strategies = []string{StrategyCanary, StrategyBlueGreen, StrategyRolling, StrategyPhased}
	Rollbacks  = []string{"auto", "manual"}
	Directions = []string{"downstream", "upstream", "both"}
	FaultKinds = append(append(append(append(slices.Clone(ToxicKinds), FaultDown, FaultKill, FaultPause, FaultPartition, FaultStop, FaultRestart), DatabaseFaultKinds...), HTTPFaultKinds...), ResourceFaultKinds...)
	// containerFaultKinds exist on the docker runtime only.
	containerFaultKinds = []string{FaultPartition, FaultStop, FaultRestart, FaultCPUThrottle, FaultMemoryLimit, FaultNetem}
	ExpectationKinds    = []string{ExpectRolloutOutcome, ExpectRollbackWithin, ExpectAvailability, ExpectP99Latency, ExpectCanaryPower, ExpectSLOBurn, ExpectRTO, ExpectBreaker, ExpectRetries, ExpectRPO, ExpectNoSplitBrain, ExpectReplicationLag, ExpectBackupRestore, ExpectMigration, ExpectVersionSkew, ExpectAlertFires, ExpectAlertSilent, ExpectJourneySuccess}
	Outcomes            = []string{"promoted", "rolled_back", "none", "unfinished"}
	instanceFaultKinds  = []string{FaultKill, FaultPause, FaultPartition, FaultStop, FaultRestart, FaultCPUThrottle, FaultMemoryLimit, FaultNetem}
)

func (c *checker) traffic() {
	t := &c.s.Traffic
	if t.Entry == "" && t.Rate == 0 && t.Duration == 0 {
		c.atKey("traffic", "is missing; write e.g. traffic: {entry: gateway, rate: 100, duration: 60s}")
		return
	}
	c.serviceRef("traffic.entry", t.Entry, "entry: gateway, the service that receives the load")
	if !(t.Rate > 0) || math.IsInf(t.Rate, 0) {
		c.at("traffic.rate", "must be greater than 0 requests per second; write e.g. rate: 100")
	}
	if t.Duration == 0 {
		c.at("traffic.duration", "is missing; write e.g. duration: 60s")
	}
	if t.Timeout <= 0 {
		c.at("traffic.timeout", "must be greater than 0; write e.g. timeout: 2s")
	}
	if !slices.Contains(Methods, t.Method) {
		c.at("traffic.method", "unknown method %q; write one of %s", t.Method, strings.Join(Methods, ", "))
	}
	if len(t.Paths) == 0 {
		c.at("traffic.paths", "is empty; write e.g. paths: [/]")
	}
	for i, p := range t.Paths {
		if !strings.HasPrefix(p, "/") {
			c.at(fmt.Sprintf("traffic.paths[%d]", i), "%q is not a path; paths start with /, e.g. /api/orders", p)
		}
	}
}

func (c *checker) rollout() {
	r := c.s.Rollout
	if r == nil {
		return
	}
	var svc *Service
	if c.serviceRef("rollout.service", r.Service, "service: checkout, the service to roll out") {
		svc = c.lookup(r.Service)
	}
	c.oneOf("rollout.strategy", r.Strategy, Strategies, "strategy")
	c.oneOf("rollout.rollback", r.Rollback, Rollbacks, "rollback")
	switch {
	case r.To == "":
		c.at("rollout.to", "is missing; name the new version, e.g. to: v2")
	case !versionLabel.MatchString(r.To):
		c.at("rollout.to", "%q: use letters, digits, '.', '-' and '_' (it becomes part of instance names)", r.To)
	case svc != nil && r.To == svc.Version:
		c.at("rollout.to", "%s already runs version %s; name the new version, e.g. to: v2", svc.Name, r.To)
	}
	if r.Replicas < 1 {
		c.at("rollout.replicas", "must be at least 1 (instances of the new version), not %d", r.Replicas)
	}
	if svc != nil {
		for i, arg := range r.Args {
			c.template(fmt.Sprintf("rollout.args[%d]", i), arg, svc, r.To)
		}
		c.env("rollout.env", r.Env, svc, r.To)
	}
	c.analysis(&r.Analysis, "rollout.analysis")
	c.rolloutOptions(r, svc) // rollout.go
	if !r.HasSteps() {
		return // blue_green and rolling: checked by rolloutOptions
	}
	if len(r.Steps) == 0 {
		c.atKey("rollout.steps", "the rollout has no steps; add e.g. steps: [{weight: 10, pause: 30s}, {weight: 100, pause: 30s}]")
		return
	}
	prev := -1
	for i, st := range r.Steps {
		p := fmt.Sprintf("rollout.steps[%d]", i)
		if st == nil {
			c.at(p, "is empty; write {weight: 10, pause: 30s}")
			continue
		}
		switch {
		case st.Weight < 0 || st.Weight > 100:
			c.at(p+".weight", "%d is not a percentage; write a weight from 0 to 100", st.Weight)
		case st.Weight <= prev:
			c.at(p+".weight", "%d does not grow (the step before routes %d%%); weights must increase step by step", st.Weight, prev)
		}
		prev = max(prev, st.Weight)
		if st.Pause == 0 && c.written(p+".pause") {
			c.at(p+".pause", "0s is too short: analysis watches each step during its pause; write e.g. pause: 30s")
		} else if st.Pause == 0 {
			c.at(p+".pause", "is missing; write how long to watch this step, e.g. pause: 30s")
		}
		// A step that inherited the rollout's analysis was checked above.
		if st.Analysis != nil && *st.Analysis != r.Analysis {
			c.analysis(st.Analysis, p+".analysis")
		}
		c.gate(st.Gate, p+".gate") // rollout.go
	}
	need, have := c.s.RolloutDuration(), c.s.Traffic.Duration.D()
	if have > 0 && need > have {
		c.atKey("rollout", "the rollout needs %s (start_at %s + pauses %s) but traffic.duration is %s; make traffic.duration at least %s or shorten the pauses",
			need, r.StartAt, need-r.StartAt.D(), have, need)
	}
}

func (c *checker) analysis(a *Analysis, p string) {
	if !within01(a.MaxErrorRate, false) {
		c.at(p+".max_error_rate", "%v is not a ratio; write a value from 0 to 1, e.g. max_error_rate: 0.05", a.MaxErrorRate)
	}
	if a.Interval <= 0 {
		c.at(p+".interval", "must be greater than 0; write e.g. interval: 1s")
	}
	if a.Window <= 0 {
		c.at(p+".window", "must be greater than 0; write e.g. window: 5s")
	}
	if a.MinRequests < 1 {
		c.at(p+".min_requests", "must be at least 1, not %d", a.MinRequests)
	}
	if a.Failures < 1 {
		c.at(p+".failures", "must be at least 1 (consecutive failed looks), not %d", a.Failures)
	}
	c.judge(a, p) // rollout.go
}

// faultAttr is a kind-specific key: set is whether the fault gives it, and
// kinds the fault kinds it belongs to.
type faultAttr struct {
	key   string
	set   bool
	kinds []string
}

func (c *checker) faults() {
	names := map[string]int{}
	for i, f := range c.s.Faults {
		p := fmt.Sprintf("faults[%d]", i)
		if f == nil {
			c.at(p, "is empty; write at least kind, at and duration")
			continue
		}
		if j, dup := names[f.Name]; dup && f.Name != "" {
			c.at(p+".name", "%q is also the name of faults[%d]; give each fault a unique name", f.Name, j)
		}
		names[f.Name] = i
		if !c.oneOf(p+".kind", f.Kind, FaultKinds, "fault kind") {
			continue
		}
		c.fault(f, p)
	}
	c.overlaps()
}

func (c *checker) fault(f *Fault, p string) {
	if c.databaseFault(f, p) { // validate_db.go
		return
	}
	if slices.Contains(containerFaultKinds, f.Kind) && c.s.Runtime != "docker" {
		c.at(p+".kind", "%s needs the docker runtime (it acts on a container); write runtime: docker, run with --runtime docker, or use kill or pause, which every runtime has", f.Kind)
	}
	edges := c.s.Edges()
	if f.IsEdgeFault() {
		c.faultEdge(f, p, edges)
		if f.Service != "" {
			c.at(p+".service", "%s faults act on an edge, not a service; remove service (kill and pause take service)", f.Kind)
		}
	} else if !c.httpFault(f, p) { // validate_httpfaults.go
		c.faultInstance(f, p)
		if f.Edge != "" {
			c.at(p+".edge", "%s acts on an instance, not an edge; write service: and instance: instead", f.Kind)
		}
	}
	toxic := slices.Contains(ToxicKinds, f.Kind)
	if toxic {
		if f.Direction != "" {
			c.oneOf(p+".direction", f.Direction, Directions, "direction")
		}
		if !within01(f.Toxicity, true) {
			c.at(p+".toxicity", "%v is not a share of connections; write a value above 0 and at most 1, e.g. toxicity: 0.5", f.Toxicity)
		}
	} else {
		if f.Direction != "" {
			c.at(p+".direction", "applies to toxics only (%s), not %s; remove it", strings.Join(ToxicKinds, ", "), f.Kind)
		}
		if f.Toxicity != 0 {
			c.at(p+".toxicity", "applies to toxics only (%s), not %s; remove it", strings.Join(ToxicKinds, ", "), f.Kind)
		}
	}
	c.faultAttrs(f, p)
	c.resourceFault(f, p) // validate_resources.go
	if f.Duration == 0 {
		c.at(p+".duration", "is missing; write how long the fault lasts, e.g. duration: 10s")
	}
	switch {
	case f.Step < 0:
		c.at(p+".step", "must be 1 or more (the rollout step whose start at counts from), not %d", f.Step)
	case f.Step > 0 && c.s.Rollout == nil:
		c.at(p+".step", "counts from a rollout step, but there is no rollout; remove step to count at from traffic start")
	case f.Step > 0 && f.Step > c.s.Rollout.StepCount():
		c.at(p+".step", "the rollout has %d step(s), so step %d never starts; steps count from 1", c.s.Rollout.StepCount(), f.Step)
	case f.Step == 0 && c.s.Traffic.Duration > 0 && f.At >= c.s.Traffic.Duration:
		c.at(p+".at", "%s is not before the end of traffic (%s); the fault would never be injected", f.At, c.s.Traffic.Duration)
	}
}

func (c *checker) faultEdge(f *Fault, p string, edges []Edge) {
	var list []string
	for _, e := range edges {
		list = append(list, e.String())
	}
	existing := "there are no edges: no service has depends_on"
	if len(list) > 0 {
		existing = "the edges are " + strings.Join(list, ", ")
	}
	if f.Edge == "" {
		c.at(p+".edge", "is missing; %s faults need edge: A -> B (%s)", f.Kind, existing)
		return
	}
	from, to := f.EdgeEnds()
	if from == "" || to == "" || strings.Contains(to, "->") {
		c.at(p+".edge", "%q is not an edge; write edge: caller -> dependency, e.g. edge: checkout -> payments", f.Edge)
		return
	}
	if slices.Contains(edges, Edge{From: from, To: to}) {
		return
	}
	c.at(p+".edge", "%s -> %s is not a dependency edge (%s); add %s to %s's depends_on, or pick an existing edge", from, to, existing, to, from)
}

func (c *checker) faultInstance(f *Fault, p string) {
	if !c.serviceRef(p+".service", f.Service, "service: payments, the service whose instance to "+f.Kind) {
		return
	}
	svc := c.lookup(f.Service)
	if f.Instance < 0 {
		c.at(p+".instance", "must be 0 or more (the index among the service's instances), not %d", f.Instance)
		return
	}
	replicas, version := svc.Replicas, f.Version
	if version == "" {
		version = svc.Version
	}
	if r := c.s.Rollout; r != nil && r.Service == svc.Name && version == r.To && r.To != svc.Version {
		replicas = r.Replicas
	} else if version != svc.Version {
		versions := svc.Version
		if r != nil && r.Service == svc.Name {
			versions += " or " + r.To
		}
		c.at(p+".version", "%s never runs version %q; write version: %s", svc.Name, version, versions)
		return
	}
	if f.Instance >= replicas {
		c.at(p+".instance", "%s has %d instance(s) of %s, numbered from 0; instance %d does not exist",
			svc.Name, replicas, version, f.Instance)
	}
}

func (c *checker) faultAttrs(f *Fault, p string) {
	attrs := []faultAttr{
		{"latency", f.Latency != 0, []string{FaultLatency, FaultNetem}},
		{"jitter", f.Jitter != 0, []string{FaultLatency, FaultNetem}},
		{"rate_kbps", f.RateKBps != 0, []string{FaultBandwidth}},
		{"delay", f.Delay != 0, []string{FaultSlowClose, FaultSlicer, FaultHTTPDelay}},
		{"timeout", f.Timeout != 0, []string{FaultTimeout, FaultResetPeer}},
		{"average_size", f.AverageSize != 0, []string{FaultSlicer}},
		{"size_variation", f.SizeVariation != 0, []string{FaultSlicer}},
		{"bytes", f.Bytes != 0, []string{FaultLimitData}},
		{"restart_after", f.RestartAfter != 0, []string{FaultKill}},
		{"instance", f.Instance != 0, instanceFaultKinds},
		{"version", f.Version != "", instanceFaultKinds},
		{"status", f.Status != 0, []string{FaultHTTPAbort}},
		{"percent", f.Percent != 0, HTTPFaultKinds},
		{"match_path", f.MatchPath != "", HTTPFaultKinds},
		{"match_header", f.MatchHeader != "", HTTPFaultKinds},
		{"cpus", f.CPUs != 0, []string{FaultCPUThrottle}},
		{"memory_mb", f.MemoryMB != 0, []string{FaultMemoryLimit}},
		{"loss_percent", f.LossPercent != 0, []string{FaultNetem}},
		{"corrupt_percent", f.CorruptPercent != 0, []string{FaultNetem}},
	}
	for _, a := range attrs {
		if a.set && !slices.Contains(a.kinds, f.Kind) {
			c.at(p+"."+a.key, "applies to %s faults, not %s; remove it", strings.Join(a.kinds, " and "), f.Kind)
		}
	}
	switch f.Kind {
	case FaultLatency:
		if f.Latency <= 0 {
			c.at(p+".latency", "a latency fault needs latency greater than 0; write e.g. latency: 100ms")
		}
	case FaultBandwidth:
		if f.RateKBps <= 0 {
			c.at(p+".rate_kbps", "a bandwidth fault needs rate_kbps greater than 0 (KB/s allowed through); write e.g. rate_kbps: 64")
		}
	case FaultLimitData:
		if f.Bytes <= 0 {
			c.at(p+".bytes", "a limit_data fault needs bytes greater than 0 (bytes let through before closing); write e.g. bytes: 1024")
		}
	case FaultSlicer:
		if f.AverageSize <= 0 {
			c.at(p+".average_size", "a slicer fault needs average_size greater than 0 (bytes per slice); write e.g. average_size: 64")
		}
		if f.SizeVariation < 0 {
			c.at(p+".size_variation", "must be 0 or more, not %d", f.SizeVariation)
		}
	}
}

// window is when a fault holds its target, from traffic start.
type window struct {
	from, to Duration
	forever  bool
}

func (w window) overlaps(o window) bool {
	return (w.forever || o.from < w.to) && (o.forever || w.from < o.to)
}

func (w window) String() string {
	if w.forever {
		return fmt.Sprintf("from %s on", w.from)
	}
	return fmt.Sprintf("%s to %s", w.from, w.to)
}

// targetKey identifies what a fault holds, or "" when it can't be compared
// (invalid, or timed from a rollout step).
func (c *checker) targetKey(f *Fault) string {
	if f == nil || f.Step != 0 || f.Duration <= 0 || f.At < 0 {
		return ""
	}
	if f.IsEdgeFault() {
		from, to := f.EdgeEnds()
		if from == "" || to == "" {
			return ""
		}
		return "edge " + from + " -> " + to
	}
	if !slices.Contains(instanceFaultKinds, f.Kind) || c.lookup(f.Service) == nil {
		return ""
	}
	version := f.Version
	if version == "" {
		version = c.lookup(f.Service).Version
	}
	return fmt.Sprintf("instance %d of %s (%s)", f.Instance, f.Service, version)
}

func faultWindow(f *Fault) window {
	w := window{from: f.At, to: f.At + f.Duration}
	if f.Kind == FaultKill {
		switch {
		case f.RestartAfter == Never:
			w.forever = true
		case f.RestartAfter > f.Duration:
			w.to = f.At + f.RestartAfter
		}
	}
	return w
}

// overlaps reports faults that hold the same target at the same time: the
// second would fight the first (and reverting one would undo the other).
// Faults timed from a rollout step start at a time only known at run time,
// so they are not compared.
func (c *checker) overlaps() {
	faults := c.s.Faults
	for j, fj := range faults {
		kj := c.targetKey(fj)
		if kj == "" {
			continue
		}
		wj := faultWindow(fj)
		for i := range j {
			fi := faults[i]
			if c.targetKey(fi) != kj {
				continue
			}
			wi := faultWindow(fi)
			if !wi.overlaps(wj) {
				continue
			}
			hint := "move it to another target"
			if !wi.forever {
				hint = fmt.Sprintf("start it at %s or later, or %s", wi.to, hint)
			}
			c.at(fmt.Sprintf("faults[%d].at", j), "%s (%s) overlaps %s (%s) on %s; one fault at a time per target: %s",
				fj.Name, wj, fi.Name, wi, kj, hint)
			break
		}
	}
}

func (c *checker) expectations() {
	names := map[string]int{}
	for i, e := range c.s.Expectations {
		p := fmt.Sprintf("expectations[%d]", i)
		if e == nil {
			c.at(p, "is empty; write e.g. {kind: availability, min: 0.99}")
			continue
		}
		if j, dup := names[e.Name]; dup && e.Name != "" {
			c.at(p+".name", "%q is also the name of expectations[%d]; give one of them its own name", e.Name, j)
		}
		names[e.Name] = i
		if !c.oneOf(p+".kind", e.Kind, ExpectationKinds, "expectation kind") {
			continue
		}
		c.expectation(e, p)
	}
}

func (c *checker) expectation(e *Expectation, p string) {
	attrs := []faultAttr{
		{"min", e.Min != 0, []string{ExpectAvailability, ExpectCanaryPower, ExpectVersionSkew, ExpectJourneySuccess}},
		{"max", e.Max != 0, []string{ExpectP99Latency, ExpectRTO}},
		{"outcome", e.Outcome != "", []string{ExpectRolloutOutcome}},
		{"within", e.Within != 0, []string{ExpectRollbackWithin, ExpectAlertFires}},
	}
	for _, a := range attrs {
		if a.set && !slices.Contains(a.kinds, e.Kind) {
			c.at(p+"."+a.key, "applies to %s expectations, not %s; remove it", a.kinds[0], e.Kind)
		}
	}
	switch e.Kind {
	case ExpectAvailability:
		if !within01(e.Min, true) {
			c.at(p+".min", "availability needs min, the lowest success ratio, above 0 and at most 1; write e.g. min: 0.99")
		}
	case ExpectP99Latency:
		if e.Max <= 0 {
			c.at(p+".max", "p99_latency needs max, the highest p99 allowed; write e.g. max: 500ms")
		}
	case ExpectRolloutOutcome:
		if c.oneOf(p+".outcome", e.Outcome, Outcomes, "outcome") && e.Outcome != "none" && c.s.Rollout == nil {
			c.at(p+".outcome", "%s needs a rollout, and the scenario has none; add rollout: or expect outcome: none", e.Outcome)
		}
	case ExpectRollbackWithin:
		if e.Within <= 0 {
			c.at(p+".within", "rollback_within needs within, the longest time from regression to rollback; write e.g. within: 30s")
		}
		if c.s.Rollout == nil {
			c.at(p+".kind", "rollback_within needs a rollout, and the scenario has none; add rollout: or remove this expectation")
		}
	}
	if e.To != 0 && e.To <= e.From {
		c.at(p+".to", "%s is not after from (%s); the window [from, to) would be empty", e.To, e.From)
	}
	if d := c.s.Traffic.Duration; d > 0 && e.From >= d {
		c.at(p+".from", "%s is not before the end of traffic (%s); the window would be empty", e.From, d)
	}
	c.analysisExpectation(e, p) // validate_expect.go
	c.databaseExpectation(e, p) // validate_db.go
	c.skewExpectation(e, p)     // skew.go
	c.alertExpectation(e, p)    // validate_alerts.go
	c.journeyExpectation(e, p)  // validate_journeys.go
}
