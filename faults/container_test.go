package faults

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
)

// recInstance records the lifecycle calls made on it (pure logic of the
// injectors; the docker runtime's tests drive real containers).
type recInstance struct {
	name  string
	calls *[]string
	fail  string // the call that fails
}

func (r *recInstance) do(call string) error {
	*r.calls = append(*r.calls, r.name+"."+call)
	if call == r.fail {
		return errors.New(call + " failed")
	}
	return nil
}

func (r *recInstance) Name() string                  { return r.name }
func (r *recInstance) Service() string               { return "svc" }
func (r *recInstance) Version() string               { return "v1" }
func (r *recInstance) Addr() string                  { return r.name + ":8080" }
func (r *recInstance) Kill(context.Context) error    { return r.do("kill") }
func (r *recInstance) Start(context.Context) error   { return r.do("start") }
func (r *recInstance) Pause(context.Context) error   { return r.do("pause") }
func (r *recInstance) Resume(context.Context) error  { return r.do("resume") }
func (r *recInstance) Restart(context.Context) error { return r.do("restart") }

// containerInstance adds what container runtimes offer.
type containerInstance struct{ recInstance }

func (c *containerInstance) Stop(context.Context) error      { return c.do("stop") }
func (c *containerInstance) Partition(context.Context) error { return c.do("partition") }
func (c *containerInstance) Reconnect(context.Context) error { return c.do("reconnect") }

func envOf(insts ...topology.Instance) Env {
	return Env{
		Instances:      func(string, string) []topology.Instance { return insts },
		DefaultVersion: func(string) string { return "v1" },
	}
}

func inject(t *testing.T, f *scenarios.Fault, env Env) (func(context.Context) error, error) {
	t.Helper()
	inj, err := New(f, env)
	require.NoError(t, err)
	return inj.Inject(context.Background())
}

func TestContainerFaults(t *testing.T) {
	var calls []string
	a := &containerInstance{recInstance{name: "a", calls: &calls}}
	b := &containerInstance{recInstance{name: "b", calls: &calls}}
	env := envOf(a, b)
	ctx := context.Background()

	cases := []struct {
		fault  scenarios.Fault
		inject []string
		revert []string
	}{
		{scenarios.Fault{Kind: KindPartition, Instance: 1}, []string{"b.partition"}, []string{"b.reconnect"}},
		{scenarios.Fault{Kind: KindPartition, Instance: -1}, []string{"a.partition", "b.partition"}, []string{"a.reconnect", "b.reconnect"}},
		{scenarios.Fault{Kind: KindStop}, []string{"a.stop"}, []string{"a.start"}},
		{scenarios.Fault{Kind: KindStop, RestartAfter: -1}, []string{"a.stop"}, nil},
		{scenarios.Fault{Kind: KindStart}, []string{"a.start"}, nil},
		{scenarios.Fault{Kind: KindRestart, Instance: 1}, []string{"b.restart"}, nil},
	}
	for _, c := range cases {
		calls = nil
		revert, err := inject(t, &c.fault, env)
		require.NoError(t, err, c.fault.Kind)
		assert.Equal(t, c.inject, calls, "inject %s %d", c.fault.Kind, c.fault.Instance)
		calls = nil
		require.NoError(t, revert(ctx))
		assert.Equal(t, c.revert, calls, "revert %s %d", c.fault.Kind, c.fault.Instance)
	}
}

func TestPartitionHalfWayIsUndone(t *testing.T) {
	var calls []string
	a := &containerInstance{recInstance{name: "a", calls: &calls}}
	b := &containerInstance{recInstance{name: "b", calls: &calls, fail: "partition"}}
	_, err := inject(t, &scenarios.Fault{Name: "cut", Kind: KindPartition, Instance: -1}, envOf(a, b))
	require.ErrorContains(t, err, "partition b")
	assert.Equal(t, []string{"a.partition", "b.partition", "a.reconnect"}, calls, "a is reconnected, b was never cut")
}

func TestContainerFaultsNeedAContainerRuntime(t *testing.T) {
	var calls []string
	plain := &recInstance{name: "p", calls: &calls}
	for _, kind := range []string{KindPartition, KindStop} {
		_, err := inject(t, &scenarios.Fault{Name: "f", Kind: kind}, envOf(plain))
		require.ErrorContains(t, err, "use runtime: docker", kind)
	}
	assert.Empty(t, calls)
	_, err := inject(t, &scenarios.Fault{Name: "f", Kind: KindRestart, Instance: 3}, envOf(plain))
	require.ErrorContains(t, err, "instance 3 does not exist")
	_, err = inject(t, &scenarios.Fault{Name: "f", Kind: KindPartition, Instance: -1}, envOf())
	require.ErrorContains(t, err, "no instances")
}

// A run adds the kinds only it can build; Add replaces a kind.
func TestRegistryAddsAndReplacesKinds(t *testing.T) {
	const kind = "test-kind"
	reg := NewRegistry(Env{})
	_, err := reg.New(&scenarios.Fault{Name: "f", Kind: kind})
	require.EqualError(t, err, `fault "f": kind "test-kind" is not supported by this runtime`)
	mine := func(msg string) Factory {
		return func(*scenarios.Fault) (Injector, error) {
			return InjectorFunc(func(context.Context) (func(context.Context) error, error) { return nil, errors.New(msg) }), nil
		}
	}
	reg.Add(kind, mine("first"))
	reg.Add(kind, mine("mine"))
	inj, err := reg.New(&scenarios.Fault{Kind: kind})
	require.NoError(t, err)
	_, err = inj.Inject(context.Background())
	require.EqualError(t, err, "mine")
	_, err = NewRegistry(Env{}).New(&scenarios.Fault{Name: "f", Kind: kind})
	require.Error(t, err, "registries of two runs share nothing")
}

// limitedInstance records the limits asked for.
type limitedInstance struct {
	containerInstance
	cpus   float64
	memory int64
}

func (l *limitedInstance) LimitResources(_ context.Context, cpus float64, memory int64) (func(context.Context) error, error) {
	l.cpus, l.memory = cpus, memory
	*l.calls = append(*l.calls, l.name+".limit")
	return func(context.Context) error { *l.calls = append(*l.calls, l.name+".unlimit"); return nil }, nil
}

func TestResourceFaults(t *testing.T) {
	var calls []string
	a := &limitedInstance{containerInstance: containerInstance{recInstance{name: "a", calls: &calls}}}
	revert, err := inject(t, &scenarios.Fault{Kind: scenarios.FaultMemoryLimit, MemoryMB: 64}, envOf(a))
	require.NoError(t, err)
	assert.EqualValues(t, 64<<20, a.memory)
	assert.Zero(t, a.cpus)
	require.NoError(t, revert(context.Background()))
	_, err = inject(t, &scenarios.Fault{Kind: scenarios.FaultCPUThrottle, CPUs: 0.25}, envOf(a))
	require.NoError(t, err)
	assert.InDelta(t, 0.25, a.cpus, 0)
	assert.Equal(t, []string{"a.limit", "a.unlimit", "a.limit"}, calls)

	_, err = inject(t, &scenarios.Fault{Name: "f", Kind: scenarios.FaultCPUThrottle, CPUs: 1}, envOf(&recInstance{name: "p", calls: &calls}))
	require.ErrorContains(t, err, "use runtime: docker")
}

type netemInstance struct {
	containerInstance
	got []any
}

func (n *netemInstance) SetNetem(_ context.Context, delay, jitter time.Duration, loss, corrupt float64) (func(context.Context) error, error) {
	n.got = []any{delay, jitter, loss, corrupt}
	return func(context.Context) error { *n.calls = append(*n.calls, n.name+".unnetem"); return nil }, nil
}

func TestNetemFault(t *testing.T) {
	var calls []string
	a := &netemInstance{containerInstance: containerInstance{recInstance{name: "a", calls: &calls}}}
	revert, err := inject(t, &scenarios.Fault{Kind: scenarios.FaultNetem, Latency: scenarios.Duration(50 * time.Millisecond),
		Jitter: scenarios.Duration(time.Millisecond), LossPercent: 5, CorruptPercent: 1}, envOf(a))
	require.NoError(t, err)
	assert.Equal(t, []any{50 * time.Millisecond, time.Millisecond, 5.0, 1.0}, a.got)
	require.NoError(t, revert(context.Background()))
	assert.Equal(t, []string{"a.unnetem"}, calls)
	_, err = inject(t, &scenarios.Fault{Name: "f", Kind: scenarios.FaultNetem, LossPercent: 1}, envOf(&recInstance{name: "p", calls: &calls}))
	require.ErrorContains(t, err, "use runtime: docker")
}
