package rehearsal

import (
	"context"
	"fmt"
	"sync"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/firedrill/firedrill/faults"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/simulator"
	"github.com/firedrill/firedrill/traffic"
)

// act runs the rollout and the faults while traffic flows; both end when
// it does. It returns the rollout's error.
func (r *rehearsal) act(ctx context.Context, gen *traffic.Generator, desk *simulator.Desk) error {
	actCtx, stopActs := context.WithCancel(ctx)
	defer stopActs()
	stopWatch := watchMachine() // machine.go: did the machine run out of CPU?
	defer func() {
		if stopWatch != nil {
			r.machine = stopWatch()
		}
	}()
	if !r.steadyGate(actCtx, gen) { // steady.go: not steady, so no fault and no rollout
		return r.notSteady(gen)
	}
	steps := faults.NewSteps()
	var wg sync.WaitGroup
	var rolloutErr error
	if r.sc.Rollout != nil {
		wg.Go(func() {
			defer steps.Over()
			c := r.newController(func(i, _ int, at time.Time) { steps.Started(i, at) }) // rollout.go
			c.Desk = desk
			r.outcome, rolloutErr = c.Run(actCtx)
		})
	} else {
		steps.Over()
	}
	if r.sc.AbortIf != nil { // abort.go: the safety floor
		wg.Go(func() { r.abortReason = r.watchFloor(actCtx, gen, stopActs) })
	}
	if len(r.sc.Faults) > 0 {
		reg := r.faultRegistry()
		wg.Go(func() { r.faults = faults.Run(actCtx, r.t0, r.sc.Faults, reg, steps, r.events) })
	}
	r.stats = gen.Wait()
	r.machine, stopWatch = stopWatch(), nil
	msg := fmt.Sprintf("%d requests sent, %d errors", r.stats.Sent, r.stats.Errors)
	if n := r.stats.NoPort; n > 0 { // traffic.Stats.NoPort
		msg += fmt.Sprintf("; %d found no free local port (EADDRNOTAVAIL: ephemeral ports exhausted, "+
			"sockets in TIME_WAIT; lower the rate or widen net.ipv4.ip_local_port_range)", n)
	}
	r.events.Add(record.Event{Kind: record.EvTrafficStopped, Message: msg})
	stopActs()
	wg.Wait()
	return rolloutErr
}

// faultRegistry builds this run's faults: the built-in kinds on the
// topology, the database kinds on its databases.
func (r *rehearsal) faultRegistry() *faults.Registry {
	env := faults.Env{
		Toxiproxy: toxiclient.NewClient(r.topo.ToxiproxyURL()), ProxyName: r.topo.ProxyName,
		Instances: r.topo.Instances,
		DefaultVersion: func(s string) string {
			if svc := r.sc.Service(s); svc != nil {
				return svc.Version
			}
			return ""
		},
	}
	env.Routers, _ = r.topo.(faults.HTTPFaults) // nil: HTTP faults fail saying the runtime cannot
	reg := faults.NewRegistry(env)
	r.db.AddFaults(reg)
	return reg
}
