package stateful

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/faults"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology/pg"
)

// AddFaults makes reg build the database faults and actions
// (scenarios.DatabaseFaultKinds) on this run's databases.
func (r *Run) AddFaults(reg *faults.Registry) {
	for _, kind := range scenarios.DatabaseFaultKinds {
		reg.Add(kind, func(f *scenarios.Fault) (faults.Injector, error) {
			d := r.dbs[f.Database]
			if d == nil {
				return nil, fmt.Errorf("fault %q: database %q is not running in this run", f.Name, f.Database)
			}
			return (&dbFault{r: r, d: d}).injector(f), nil
		})
	}
}

// dbFault is a fault on one database of the run.
type dbFault struct {
	r *Run
	d *dbRun
}

func noRevert(context.Context) error { return nil }

func (x *dbFault) injector(f *scenarios.Fault) faults.Injector {
	cl := x.d.cl
	return faults.InjectorFunc(func(ctx context.Context) (func(context.Context) error, error) {
		switch f.Kind {
		case scenarios.FaultKillPrimary:
			n := cl.Primary()
			if err := n.Kill(ctx); err != nil {
				return nil, err
			}
			if f.Duration <= 0 {
				return noRevert, nil
			}
			// The server comes back on its own data: a crash restart, or,
			// after a failover, a former primary that still accepts writes.
			return n.Start, nil
		case scenarios.FaultPausePrimary:
			n := cl.Primary()
			if err := n.Pause(ctx); err != nil {
				return nil, err
			}
			return n.Resume, nil
		case scenarios.FaultPartitionReplica:
			p, err := x.replProxy(f)
			if err != nil {
				return nil, err
			}
			if err := p.Disable(); err != nil {
				return nil, fmt.Errorf("cut replication of %s: %w", p.Name, err)
			}
			return func(context.Context) error { return p.Enable() }, nil
		case scenarios.FaultDelayReplication:
			return x.delay(f)
		case scenarios.ActionPromote:
			return noRevert, x.r.switchover(ctx, x.d, f)
		case scenarios.ActionBackup:
			return noRevert, x.r.backup(ctx, x.d, f)
		case scenarios.ActionMigrate:
			return noRevert, x.r.migrate(ctx, x.d, f)
		}
		return nil, fmt.Errorf("fault kind %q is not a database fault", f.Kind)
	})
}

// replica is the node of f.Replica (1-based, default 1).
func (x *dbFault) replica(f *scenarios.Fault) (*pg.Node, error) {
	name := fmt.Sprintf("%s-%d", f.Database, max(f.Replica, 1))
	n := x.d.cl.Node(name)
	if n == nil {
		return nil, fmt.Errorf("fault %q: database %s has no node %s", f.Name, f.Database, name)
	}
	return n, nil
}

func (x *dbFault) replProxy(f *scenarios.Fault) (*toxiclient.Proxy, error) {
	n, err := x.replica(f)
	if err != nil {
		return nil, err
	}
	if n.ReplicationProxy() == "" {
		return nil, fmt.Errorf("fault %q: %s does not replicate through a proxy", f.Name, n.Name())
	}
	return toxiclient.NewClient(x.r.toxi.URL()).Proxy(n.ReplicationProxy())
}

// delay adds a latency and/or bandwidth toxic to the WAL stream (downstream:
// from the primary to the replica).
func (x *dbFault) delay(f *scenarios.Fault) (func(context.Context) error, error) {
	p, err := x.replProxy(f)
	if err != nil {
		return nil, err
	}
	var added []string
	revert := func(context.Context) error {
		var errs []error
		for _, name := range added {
			if err := p.RemoveToxic(name); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	add := func(kind string, attrs toxiclient.Attributes) error {
		name := f.Name + "_" + kind
		if _, err := p.AddToxic(name, kind, "downstream", 1, attrs); err != nil {
			return errors.Join(fmt.Errorf("add %s toxic on %s: %w", kind, p.Name, err), revert(context.Background()))
		}
		added = append(added, name)
		return nil
	}
	if f.Latency > 0 {
		if err := add("latency", toxiclient.Attributes{"latency": f.Latency.D().Milliseconds(), "jitter": f.Jitter.D().Milliseconds()}); err != nil {
			return nil, err
		}
	}
	if f.RateKBps > 0 {
		if err := add("bandwidth", toxiclient.Attributes{"rate": f.RateKBps}); err != nil {
			return nil, err
		}
	}
	return revert, nil
}

// switchover is a planned promotion: wait for the lag gate, stop the
// primary cleanly (a fast shutdown waits until the replicas have all its
// WAL), promote the replica and repoint the clients.
func (r *Run) switchover(ctx context.Context, d *dbRun, f *scenarios.Fault) error {
	if g := f.LagGate; g != nil {
		if err := r.waitLag(ctx, d, g); err != nil {
			return fmt.Errorf("promote %s: %w", f.Database, err)
		}
	}
	r.stamp(f, time.Now())
	var target *pg.Node
	var err error
	if f.Replica > 0 {
		x := &dbFault{r: r, d: d}
		target, err = x.replica(f)
	} else {
		target, err = d.cl.Candidate(ctx)
	}
	if err != nil {
		return err
	}
	if err := d.cl.Primary().Stop(ctx); err != nil {
		return fmt.Errorf("stop the primary before the switchover: %w", err)
	}
	return d.cl.Promote(ctx, target)
}

// waitLag holds until every replica streams with a lag under the gate, or
// fails after the gate's timeout.
func (r *Run) waitLag(ctx context.Context, d *dbRun, g *scenarios.LagGate) error {
	deadline := time.Now().Add(g.Timeout.D())
	var last string
	for {
		s := d.cl.Sample(ctx, 800*time.Millisecond)
		pts := lagPoints(s, r.t0)
		if analysis.LagBelow(pts, g.MaxLag.D(), g.MaxLagBytes) {
			r.cfg.Events.Add(record.Event{Kind: "lag_gate_passed", Service: d.spec.Name,
				Message: fmt.Sprintf("replication lag under %s: %s", g.MaxLag, describeLag(pts))})
			return nil
		}
		last = describeLag(pts)
		if time.Now().After(deadline) {
			r.cfg.Events.Add(record.Event{Kind: "lag_gate_failed", Service: d.spec.Name,
				Message: fmt.Sprintf("replication lag not under %s within %s: %s", g.MaxLag, g.Timeout, last)})
			return fmt.Errorf("lag gate: replication lag not under %s within %s (%s)", g.MaxLag, g.Timeout, last)
		}
		if !faults.SleepUntil(ctx, time.Now().Add(250*time.Millisecond)) {
			return ctx.Err()
		}
	}
}

func describeLag(pts []analysis.LagPoint) string {
	if len(pts) == 0 {
		return "no replica"
	}
	var parts []string
	for _, p := range pts {
		if !p.Streaming {
			parts = append(parts, p.Replica+" not streaming")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s (%d bytes)", p.Replica, p.Lag.Round(time.Millisecond), p.Bytes))
	}
	return strings.Join(parts, ", ")
}

// watchPrimary promotes a replica (auto) or runs the scenario's failover
// command (external) once the primary has been unreachable for detect.
func (r *Run) watchPrimary(ctx context.Context, d *dbRun) {
	const every = 200 * time.Millisecond
	detect := d.spec.Detect.D()
	var downSince time.Time
	for faults.SleepUntil(ctx, time.Now().Add(every)) {
		if d.cl.PrimaryHealthy(ctx, 300*time.Millisecond) {
			downSince = time.Time{}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		now := time.Now()
		if downSince.IsZero() {
			downSince = now
		}
		if now.Sub(downSince) < detect {
			continue
		}
		old := d.cl.Primary()
		d.mu.Lock()
		d.detected = append(d.detected, downSince)
		d.mu.Unlock()
		r.cfg.Events.Add(record.Event{Kind: pg.EvFailureDetected, Service: d.spec.Name, Target: old.Name(),
			Message: fmt.Sprintf("primary %s unreachable for %s: %s failover", old.Name(), now.Sub(downSince).Round(time.Millisecond), d.spec.Failover)})
		var err error
		if d.spec.Failover == scenarios.FailoverExternal {
			err = r.externalFailover(ctx, d, old)
		} else {
			_, err = d.cl.Failover(ctx)
		}
		if err != nil && ctx.Err() == nil {
			r.cfg.Events.Add(record.Event{Kind: EvFailoverErr, Service: d.spec.Name, Message: err.Error()})
		}
		downSince = time.Time{}
	}
}

// externalFailover runs the scenario's failover command and adopts the
// replica it promoted (the first one found out of recovery within 30s).
// The command gets the cluster in its environment.
func (r *Run) externalFailover(ctx context.Context, d *dbRun, old *pg.Node) error {
	argv := d.spec.FailoverCommand
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	env := append(os.Environ(), "FIREDRILL_RUN_ID="+r.cfg.RunID, "FIREDRILL_PG_DATABASE="+d.spec.Name,
		"FIREDRILL_PG_PRIMARY="+old.Addr(), "FIREDRILL_PG_PRIMARY_PID="+fmt.Sprint(old.Pid()), "PGUSER="+pg.Superuser)
	var reps []string
	for _, n := range d.cl.Replicas() {
		reps = append(reps, n.Addr())
	}
	env = append(env, "FIREDRILL_PG_REPLICAS="+strings.Join(reps, ","))
	if c, err := d.cl.Candidate(ctx); err == nil {
		host, port, _ := strings.Cut(c.Addr(), ":")
		env = append(env, "FIREDRILL_PG_CANDIDATE="+c.Addr(), "PGHOST="+host, "PGPORT="+port)
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	r.cfg.Events.Add(record.Event{Kind: "db_failover_command", Service: d.spec.Name,
		Message: fmt.Sprintf("%s: %v", strings.Join(argv, " "), err), Fields: map[string]any{"output": tail(string(out), 2000)}})
	if err != nil {
		return fmt.Errorf("failover command %q: %w", strings.Join(argv, " "), err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range d.cl.Replicas() {
			qctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			rec, err := n.InRecovery(qctx)
			cancel()
			if err == nil && !rec {
				return d.cl.Adopt(ctx, n)
			}
		}
		if !faults.SleepUntil(ctx, time.Now().Add(100*time.Millisecond)) {
			return ctx.Err()
		}
	}
	return errors.New("the failover command ended, but no replica left recovery within 30s")
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// lagPoints turns a sample into analysis points.
func lagPoints(s pg.Sample, t0 time.Time) []analysis.LagPoint {
	out := make([]analysis.LagPoint, 0, len(s.Replicas))
	for _, rs := range s.Replicas {
		out = append(out, analysis.LagPoint{T: s.At.Sub(t0), Replica: rs.Node, Streaming: rs.Streaming,
			Lag: rs.ReplayLag, Bytes: rs.LagBytes})
	}
	return out
}

// BeforeStep holds rollout step index until its lag gate passes
// (simulator.Controller.BeforeStep); an error rolls the release back.
func (r *Run) BeforeStep(ctx context.Context, index int) error {
	ro := r.cfg.Scenario.Rollout
	if ro == nil || index < 1 || index > len(ro.Steps) || ro.Steps[index-1].LagGate == nil {
		return nil
	}
	g := ro.Steps[index-1].LagGate
	d := r.dbs[g.Database]
	if d == nil {
		return fmt.Errorf("step %d: lag gate on database %s, which is not running", index, g.Database)
	}
	if err := r.waitLag(ctx, d, g); err != nil {
		return fmt.Errorf("step %d: %w", index, err)
	}
	return nil
}
