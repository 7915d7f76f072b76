package rehearsal

import (
	"context"
	"fmt"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/simulator"
	"github.com/firedrill/firedrill/topology"
)

// Adapters from the topology to the rollout controller's interfaces. The
// optional capabilities pass through when the topology has them;
// checkCapabilities refuses a rollout whose strategy needs one it lacks
// before any traffic flows.

type fleet struct{ t topology.Topology }

func (f fleet) Deploy(ctx context.Context, service, version string, n int, env map[string]string, args []string) error {
	return f.t.Deploy(ctx, service, topology.Deployment{Version: version, Replicas: n, Env: env, Args: args})
}

func (f fleet) Retire(ctx context.Context, service, version string) error {
	return f.t.Retire(ctx, service, version)
}

func (f fleet) RetireInstances(ctx context.Context, service, version string, n int) error {
	s, ok := f.t.(topology.InstanceScaling)
	if !ok {
		return fmt.Errorf("retire %d instance(s) of %s: this runtime cannot scale a version down instance by instance", n, service)
	}
	return s.RetireInstances(ctx, service, version, n)
}

func (f fleet) SetFlag(ctx context.Context, service, version, flag string, on bool) error {
	s, ok := f.t.(topology.FeatureFlags)
	if !ok {
		return fmt.Errorf("set flag %s on %s: this runtime cannot flip feature flags", flag, service)
	}
	return s.SetFlag(ctx, service, version, flag, on)
}

type router struct {
	t     topology.Topology
	paths []string // synthetic preview requests use the traffic's paths
}

func (r router) SetWeights(ctx context.Context, service string, w map[string]int) error {
	return r.t.SetWeights(ctx, service, w)
}

func (r router) SetCohorts(ctx context.Context, service string, c simulator.Cohorts) error {
	s, ok := r.t.(topology.CohortRouting)
	if !ok {
		return fmt.Errorf("route %s by cohort: this runtime cannot", service)
	}
	return s.SetCohorts(ctx, service, topology.Cohorts{Header: c.Header, Cookie: c.Cookie, Order: c.Order})
}

func (r router) SetMirror(ctx context.Context, service, version string, percent int) error {
	s, ok := r.t.(topology.Mirroring)
	if !ok {
		return fmt.Errorf("mirror %s to %s: this runtime cannot", service, version)
	}
	return s.SetMirror(ctx, service, version, percent)
}

func (r router) StartSynthetic(ctx context.Context, service, version string, rate float64) (func(), error) {
	s, ok := r.t.(topology.SyntheticTraffic)
	if !ok {
		return nil, fmt.Errorf("synthetic traffic to %s %s: this runtime cannot", service, version)
	}
	return s.StartSynthetic(ctx, service, version, rate, r.paths)
}

// observer answers the controller's sample queries from the recorder.
type observer struct{ rec *record.Recorder }

func (o observer) Start() time.Time { return o.rec.Start() }

func (o observer) Samples(q simulator.Query) []record.Sample {
	start := o.rec.Start()
	if !q.To.After(start) {
		return nil // a window ending before time zero (To 0 would mean "no bound")
	}
	src := record.Hop
	if q.Shadow {
		src = record.Shadow
	}
	return o.rec.Select(record.Filter{Source: src, Service: q.Service, Version: q.Version,
		From: q.From.Sub(start), To: q.To.Sub(start)})
}

// checkCapabilities refuses, as invalid input, a rollout that needs a
// capability the runtime's topology lacks.
func checkCapabilities(sc *scenarios.Scenario, topo topology.Topology, runtime string) error {
	ro := sc.Rollout
	if ro == nil {
		return nil
	}
	for _, c := range simulator.Needs(ro) {
		var ok bool
		switch c {
		case simulator.CapInstanceScaling:
			_, ok = topo.(topology.InstanceScaling)
		case simulator.CapCohortRouting:
			_, ok = topo.(topology.CohortRouting)
		case simulator.CapMirroring:
			_, ok = topo.(topology.Mirroring)
		case simulator.CapSynthetic:
			_, ok = topo.(topology.SyntheticTraffic)
		case simulator.CapFeatureFlags:
			_, ok = topo.(topology.FeatureFlags)
		}
		if !ok {
			what := "strategy " + ro.Strategy
			if c == simulator.CapFeatureFlags {
				what = "mitigation"
			}
			return scenarios.Errors{&scenarios.Error{File: sc.File,
				Msg: fmt.Sprintf("rollout: %s needs %s, which runtime %s lacks; use runtime: local or another strategy", what, c, runtime)}}
		}
	}
	return nil
}

// newController wires the rollout controller to the topology.
func (r *rehearsal) newController(onStep func(int, int, time.Time)) *simulator.Controller {
	ro, topo := r.sc.Rollout, r.topo
	svc := r.sc.Service(ro.Service)
	return &simulator.Controller{
		Clock: simulator.RealClock{}, Fleet: fleet{topo}, Router: router{t: topo, paths: r.sc.Traffic.Paths},
		Observer: observer{r.rec}, Events: r.events, Rollout: ro, From: svc.Version, FromReplicas: svc.Replicas,
		Start: r.t0, OnStep: onStep,
		BeforeStep:   r.beforeStep, // lag and journey gates (journeygate.go)
		ReadyTimeout: r.sc.ReadyTimeoutFor(),
		IsError: func(s record.Sample) bool {
			return svc.Requests.IsError(int(s.Status), s.Err != record.ErrNone)
		},
	}
}

// rolloutAudit is the outcome's audit figures for the result.
func rolloutAudit(o *simulator.Outcome) *reports.RolloutAudit {
	t := o.Timings()
	a := &reports.RolloutAudit{
		TimeToDetectS: seconds(t, "time_to_detect_s"), TimeToDecideS: seconds(t, "time_to_decide_s"),
		TimeToRestoreS: seconds(t, "time_to_restore_s"), TimeToCompleteS: seconds(t, "time_to_complete_s"),
		BadRequests: o.BadRequests, NewVersionRequests: o.NewRequests,
		Mitigation: o.Mitigation, DecidedAt: tp(o.DecidedAt), MitigatedAt: tp(o.MitigatedAt),
	}
	if s := o.Switch; s != nil {
		a.Switch = &reports.SwitchImpact{At: s.At.UTC(), InFlight: s.InFlight, InFlightFailed: s.Failed,
			NewFirstSecond: s.NewFirstSecond, NewFirstSecondFailed: s.NewFirstSecondFailed}
	}
	return a
}

// seconds is a timing that happened, nil (null in result.json) when not.
func seconds(t map[string]float64, name string) *float64 {
	if v, ok := t[name]; ok {
		return &v
	}
	return nil
}
