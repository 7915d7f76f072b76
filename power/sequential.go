package power

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/simulator/model"
)

// Simulated is the configured judge sized by simulating it: the live run's
// controller and judge on the virtual-time model (simulator/model), once
// with the regression and once with an identical new version. It exists for
// the sequential judge, whose power and false alarms no closed form gives:
// the fixed-horizon figures only bound its power from above and its false
// alarms (the per-step union bound) from far above.
type Simulated struct {
	Judge  string `json:"judge"`
	Trials int    `json:"trials"`
	Seed   uint64 `json:"seed"`
	// Power is the share of regressed trials in which a trigger fired;
	// FalseAlarms the share of healthy (A/A) trials in which one did.
	Power        float64    `json:"power"`
	PowerCI      [2]float64 `json:"power_ci95"`
	FalseAlarms  float64    `json:"false_alarms"`
	FalseAlarmCI [2]float64 `json:"false_alarms_ci95"`
	// DetectP50S is the median time from the regression to detection.
	DetectP50S float64 `json:"detect_p50_s"`
	// PauseScale is the factor on every pause at which the simulated
	// judge reaches the target (0: none up to x16 tried).
	PauseScale float64 `json:"pause_scale_needed,omitempty"`
}

// sequentialJudge reports whether sc's rollout is judged by the sequential
// test (the default judge).
func sequentialJudge(sc *scenarios.Scenario) bool {
	if sc == nil || sc.Rollout == nil {
		return false
	}
	j := sc.Rollout.Analysis.Judge
	return j == scenarios.JudgeSequential || j == ""
}

// simulate sizes the scenario's sequential judge with trials trials.
func (rep *Report) simulate(ctx context.Context, sc *scenarios.Scenario, trials int, seed uint64) error {
	top, err := rep.planTopology(sc, 1)
	if err != nil {
		return err
	}
	reg, err := model.SimulateTopology(ctx, top, model.Options{Trials: trials, Seed: seed})
	if err != nil {
		return fmt.Errorf("simulate the sequential judge: %w", err)
	}
	aa := *top
	aa.New = aa.Old
	healthy, err := model.SimulateTopology(ctx, &aa, model.Options{Trials: trials, Seed: seed})
	if err != nil {
		return fmt.Errorf("simulate the sequential judge on a healthy canary: %w", err)
	}
	d, f := reg.Ratios["detected"], healthy.Ratios["detected"]
	s := &Simulated{Judge: scenarios.JudgeSequential, Trials: trials, Seed: seed,
		Power: d.Ratio, PowerCI: d.CI95, FalseAlarms: f.Ratio, FalseAlarmCI: f.CI95, DetectP50S: reg.DetectS.P50}
	if s.Power < rep.Target {
		s.PauseScale = rep.simPauseScale(ctx, sc, trials, seed)
	}
	rep.Simulated = s
	rep.Effective, rep.EffectiveMethod = s.Power, "simulation of the sequential judge"
	rep.PauseScale, rep.PauseScaleMethod = s.PauseScale, "simulated"
	rep.Advice = rep.sequentialAdvice()
	return nil
}

// planTopology is the model of the plan the report describes: the
// scenario's rollout with the report's steps scaled by k, its rate, the
// baseline error rate, and the regression on the new version; no faults
// and no dependencies, so that only the judge decides.
func (rep *Report) planTopology(sc *scenarios.Scenario, k float64) (*model.Topology, error) {
	c := *sc
	ro := *sc.Rollout
	ro.Steps = nil
	var total time.Duration
	for _, s := range rep.Plan.Steps {
		d := time.Duration(float64(s.Duration) * k)
		ro.Steps = append(ro.Steps, &scenarios.Step{Weight: s.Weight, Pause: scenarios.Duration(d)})
		total += d
	}
	c.Rollout, c.Faults = &ro, nil
	top, err := model.Build(&c)
	if err != nil {
		return nil, err
	}
	top.Effects, top.HealthEvents, top.DepsErr, top.RestErr = nil, false, 0, 0
	top.Rate = rep.Rate
	top.Duration = ro.StartAt.D() + top.ReadyAfter + total + time.Second
	top.Old.ErrorRate, top.Old.BadFlag = rep.BaselineErrorRate, false
	top.New = top.Old
	r := rep.Reg
	top.New.ErrorRate = math.Min(1, rep.BaselineErrorRate*(1+r.ErrorRel)+r.ErrorAbs)
	if r.LatencyRatio > 0 {
		top.New.Median = time.Duration(float64(top.Old.Median) * r.LatencyRatio)
		top.New.P99 = time.Duration(float64(top.Old.P99) * r.LatencyRatio)
	}
	return top, nil
}

// simPauseScale tries every pause x1.25, x1.5625, ... up to x16 until the
// simulated judge reaches the target.
func (rep *Report) simPauseScale(ctx context.Context, sc *scenarios.Scenario, trials int, seed uint64) float64 {
	for k := 1.25; k <= 16; k *= 1.25 {
		top, err := rep.planTopology(sc, k)
		if err != nil {
			return 0
		}
		s, err := model.SimulateTopology(ctx, top, model.Options{Trials: trials, Seed: seed})
		if err != nil {
			return 0
		}
		if s.Ratios["detected"].Ratio >= rep.Target {
			return k
		}
	}
	return 0
}

func (rep *Report) sequentialAdvice() string {
	s := rep.Simulated
	have := fmt.Sprintf("power %.2f (simulated sequential judge) against %s", s.Power, rep.Effect)
	if s.Power >= rep.Target {
		return fmt.Sprintf("the plan is strong enough: %s (target %.2f)", have, rep.Target)
	}
	if s.PauseScale == 0 {
		return fmt.Sprintf("too weak: %s (target %.2f), and pauses up to x16 do not reach it: raise the weights or the traffic", have, rep.Target)
	}
	var durs []string
	for _, st := range rep.Plan.Steps {
		durs = append(durs, fmt.Sprintf("%d%% for %s", st.Weight, roundDur(time.Duration(float64(st.Duration)*s.PauseScale))))
	}
	return fmt.Sprintf("too weak: %s (target %.2f); it would reach %.2f with every pause x%.3g (%s; simulated)",
		have, rep.Target, rep.Target, s.PauseScale, strings.Join(durs, ", "))
}
