package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/router"
)

// The control plane over a fake runtime: no process, container or socket.
// The fakes record every call in one log, so tests assert on order.

type fakeRuntime struct {
	mu     sync.Mutex
	calls  []string
	insts  map[string]*fakeInstance
	closed int
	// behave tells a new instance how to act, by its name ("" = healthy).
	behave func(name string) string
	// healthyGate, when set, holds every WaitHealthy until closed.
	healthyGate chan struct{}
}

func newFakeRuntime() *fakeRuntime {
	return &fakeRuntime{insts: map[string]*fakeInstance{}, behave: func(string) string { return "" }}
}

func (f *fakeRuntime) log(format string, args ...any) {
	f.mu.Lock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

// callsLike returns the calls that start with prefix.
func (f *fakeRuntime) callsLike(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeRuntime) index(call string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Index(f.calls, call)
}

func (f *fakeRuntime) runtime(startTimeout time.Duration) *Runtime {
	return NewRuntime(Config{Name: "fake runtime", StartTimeout: startTimeout, DownTimeout: 10 * time.Second, Leftovers: "(run %s)"},
		func(context.Context, *scenarios.Scenario, topology.Options) Launcher { return f })
}

// Launcher

func (f *fakeRuntime) Prepare(context.Context, []*Service) (DataPlane, error) {
	f.log("prepare")
	return fakeDP{f}, nil
}

func (f *fakeRuntime) Instance(s *Service, d topology.Deployment, index int) (Instance, error) {
	name := fmt.Sprintf("%s-%s-%d", s.Name(), d.Version, index)
	for _, dep := range s.Spec.DependsOn {
		if s.Deps[dep] == "" {
			return nil, fmt.Errorf("%s made before its dependency %s was wired", name, dep)
		}
	}
	in := &fakeInstance{f: f, service: s.Name(), version: d.Version, index: index, name: name,
		behaviour: f.behave(name), exited: make(chan struct{})}
	f.mu.Lock()
	f.insts[name] = in
	f.mu.Unlock()
	return in, nil
}

func (f *fakeRuntime) Close(context.Context) error {
	f.log("close")
	f.mu.Lock()
	f.closed++
	f.mu.Unlock()
	return nil
}

// fakeDP is the fake runtime's data plane.
type fakeDP struct{ *fakeRuntime }

func (f fakeDP) Close(context.Context) error {
	f.log("routers closed")
	return nil
}

func (f fakeDP) AddRouter(_ context.Context, s *Service) (string, error) {
	f.log("router %s seed-index %d health %q", s.Name(), s.Index, s.Health.HTTP)
	return "http://router-" + s.Name(), nil
}

func (f fakeDP) AddEdge(_ context.Context, e scenarios.Edge, name string) (string, error) {
	f.log("edge %s", name)
	return "proxy-" + name, nil
}

func (f fakeDP) ToxiproxyURL() string { return "http://toxiproxy" }

func (f fakeDP) AddBackend(_ context.Context, service string, b router.Backend) error {
	f.log("backend+ %s %s", service, b.Name)
	return nil
}

func (f fakeDP) RemoveBackend(_ context.Context, service, instance string, _ time.Duration) error {
	f.log("backend- %s %s", service, instance)
	return nil
}

func (f fakeDP) WaitHealthy(ctx context.Context, service, instance string) error {
	f.mu.Lock()
	in, gate := f.insts[instance], f.healthyGate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if in.behaviour == "slow" {
		select {
		case <-time.After(300 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if in.behaviour == "never-healthy" || in.behaviour == "exits" {
		<-ctx.Done()
		return &router.NotHealthyError{Service: service, Backend: instance, LastCheck: "GET /healthz: status 503", Err: ctx.Err()}
	}
	f.log("healthy %s", instance)
	return nil
}

func (f fakeDP) SetWeights(_ context.Context, service string, w map[string]int) error {
	f.log("weights %s %v", service, w)
	return nil
}

func (f fakeDP) Weights(context.Context, string) (map[string]int, error) {
	return map[string]int{"from-router": 100}, nil
}

func (f fakeDP) SetCohorts(context.Context, string, router.Cohorts) error { return nil }
func (f fakeDP) SetMirror(context.Context, string, string, int) error     { return nil }
func (f fakeDP) AddHTTPFault(context.Context, string, router.HTTPFault) error {
	return nil
}
func (f fakeDP) RemoveHTTPFault(context.Context, string, string) error { return nil }

func (f fakeDP) StartSynthetic(_ context.Context, service, version string, _ float64, paths []string) (func(), error) {
	f.log("synthetic %s %s %v", service, version, paths)
	return func() {}, nil
}

type fakeInstance struct {
	f                      *fakeRuntime
	service, version, name string
	index                  int
	behaviour              string
	exited                 chan struct{}
	removed                int
	topology.Instance      // Kill, Start, ... are not called here
}

func (in *fakeInstance) Name() string            { return in.name }
func (in *fakeInstance) Service() string         { return in.service }
func (in *fakeInstance) Version() string         { return in.version }
func (in *fakeInstance) Addr() string            { return "addr-" + in.name }
func (in *fakeInstance) HostAddr() string        { return "host-" + in.name }
func (in *fakeInstance) Index() int              { return in.index }
func (in *fakeInstance) Exited() <-chan struct{} { return in.exited }

func (in *fakeInstance) Launch(context.Context) error {
	in.f.log("launch %s", in.name)
	switch in.behaviour {
	case "launch-fails":
		return fmt.Errorf("launch %s: no such program", in.name)
	case "exits":
		close(in.exited)
	}
	return nil
}

func (in *fakeInstance) Failed(_ context.Context, cause error) error {
	if cause == nil {
		return fmt.Errorf("%s exited before it became healthy", in.name)
	}
	return fmt.Errorf("%s: %w", in.name, cause)
}

func (in *fakeInstance) Remove(_ context.Context, reason string) error {
	in.f.log("remove %s %s", in.name, reason)
	in.f.mu.Lock()
	in.removed++
	in.f.mu.Unlock()
	return nil
}

// chain is gw -> api -> db (fixtures), with gw also on auth.
func chain() *scenarios.Scenario {
	return &scenarios.Scenario{Services: []*scenarios.Service{
		{Name: "gw", Version: "v1", Fixture: "httpsvc", DependsOn: []string{"api", "auth"}},
		{Name: "api", Version: "v1", Fixture: "httpsvc", Replicas: 2, DependsOn: []string{"db"}},
		{Name: "auth", Version: "v1", Command: []string{"auth"}},
		{Name: "db", Version: "v1", Fixture: "httpsvc"},
	}, Traffic: scenarios.Traffic{Paths: []string{"/buy"}}}
}

func up(t *testing.T, f *fakeRuntime, sc *scenarios.Scenario, opts topology.Options) (*Runtime, *Cluster) {
	t.Helper()
	rt := f.runtime(5 * time.Second)
	tp, err := rt.Up(context.Background(), sc, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt.Down(context.Background()) })
	return rt, tp.(*Cluster)
}

func TestUpWiresEveryServiceBeforeAnyInstanceAndStartsAfterDependencies(t *testing.T) {
	f := newFakeRuntime()
	var mu sync.Mutex
	var progress []string
	rt, c := up(t, f, chain(), topology.Options{Progress: func(service, instance string, done, total int) {
		mu.Lock()
		progress = append(progress, fmt.Sprintf("%s %d/%d", instance, done, total))
		mu.Unlock()
	}})

	// Routers in dependency order, each with its index and health check.
	assert.Equal(t, []string{`router db seed-index 0 health "/healthz"`, `router api seed-index 1 health "/healthz"`,
		`router auth seed-index 2 health ""`, `router gw seed-index 3 health "/healthz"`}, f.callsLike("router "))
	assert.ElementsMatch(t, []string{"edge api__db", "edge gw__api", "edge gw__auth"}, f.callsLike("edge "))
	assert.Less(t, f.index("edge gw__auth"), f.index("launch db-v1-0"), "every edge exists before the first instance")

	// Each service after its own dependencies: db before api, api and auth
	// before gw; each service gets its weights once its instances are healthy.
	for _, before := range [][2]string{
		{"healthy db-v1-0", "launch api-v1-0"}, {"healthy auth-v1-0", "launch gw-v1-0"},
		{"healthy api-v1-0", "launch gw-v1-0"}, {"healthy api-v1-1", "launch gw-v1-0"},
		{"backend+ db db-v1-0", "healthy db-v1-0"},
		{"healthy api-v1-1", "weights api map[v1:100]"},
	} {
		assert.Less(t, f.index(before[0]), f.index(before[1]), "%s before %s", before[0], before[1])
	}
	mu.Lock()
	assert.Len(t, progress, 5)
	assert.Contains(t, progress, "gw-v1-0 5/5", "gw is last")
	mu.Unlock()

	assert.Equal(t, "http://router-gw", c.EntryURL(), "the first service is the entry")
	assert.Equal(t, "http://router-db", c.RouterURL("db"))
	assert.Equal(t, "", c.RouterURL("nope"))
	assert.Equal(t, "http://toxiproxy", c.ToxiproxyURL())
	assert.Equal(t, map[string]int{"v1": 100}, c.Weights("api"), "the weights set, not the router's")
	assert.Len(t, c.Instances("api", ""), 2)
	gw := c.service("gw")
	assert.Equal(t, map[string]string{"api": "proxy-gw__api", "auth": "proxy-gw__auth"}, gw.Deps)

	require.NoError(t, rt.Down(context.Background()))
	assert.Less(t, f.index("routers closed"), f.index("remove gw-v1-0 down"), "routing stops before the instances do")
	assert.Less(t, f.index("remove gw-v1-0 down"), f.index("close"), "the launcher releases the run last")
	require.NoError(t, rt.Down(context.Background()), "Down is idempotent")
}

func TestDatabaseDependencyUsesTheHarnessAddress(t *testing.T) {
	sc := &scenarios.Scenario{Services: []*scenarios.Service{{Name: "app", Version: "v1", Fixture: "httpsvc", DependsOn: []string{"pg"}}},
		Databases: map[string]*scenarios.Database{"pg": {Name: "pg"}}}
	f := newFakeRuntime()
	_, c := up(t, f, sc, topology.Options{DatabaseAddr: func(service, db string) (string, bool) { return service + "->" + db + ":5432", true }})
	assert.Equal(t, "app->pg:5432", c.service("app").Deps["pg"])
	assert.Empty(t, f.callsLike("edge "), "no edge proxy to a database")

	_, err := newFakeRuntime().runtime(time.Second).Up(context.Background(), sc, topology.Options{})
	require.ErrorContains(t, err, "depends on database pg, but the harness gave no address for it")
}

func TestUpFailureStopsEverythingAndSaysWhy(t *testing.T) {
	cases := []struct {
		behaviour, want string
	}{
		{"launch-fails", "launch api-v1-1: no such program"},
		{"exits", "api-v1-1 exited before it became healthy"},
		{"never-healthy", "api-v1-1: not healthy within 200ms (start_timeout)"},
	}
	for _, tc := range cases {
		t.Run(tc.behaviour, func(t *testing.T) {
			f := newFakeRuntime()
			f.behave = func(name string) string {
				if name == "api-v1-1" {
					return tc.behaviour
				}
				return ""
			}
			rt := f.runtime(200 * time.Millisecond)
			_, err := rt.Up(context.Background(), chain(), topology.Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "fake runtime: ")
			assert.Contains(t, err.Error(), tc.want)
			assert.NotErrorIs(t, err, context.Canceled, "the instance's own failure, not its siblings' cancellations")
			assert.Empty(t, f.callsLike("launch gw"), "nothing of the next level starts")
			f.mu.Lock()
			for name, in := range f.insts {
				assert.Equal(t, 1, in.removed, "%s removed once", name)
			}
			assert.Equal(t, 1, f.closed, "the launcher released the run")
			f.mu.Unlock()
			assert.Contains(t, f.callsLike("remove api-v1-1"), "remove api-v1-1 failed")
			require.NoError(t, rt.Down(context.Background()), "Down after a failed Up has nothing left to do")
		})
	}
}

func TestDeployRetireAndScale(t *testing.T) {
	f := newFakeRuntime()
	_, c := up(t, f, chain(), topology.Options{})
	ctx := context.Background()

	require.NoError(t, c.Deploy(ctx, "api", topology.Deployment{Version: "v2", Replicas: 3}))
	assert.Equal(t, map[string]int{"v1": 100}, c.Weights("api"), "a new version gets no traffic until told")
	require.NoError(t, c.RetireInstances(ctx, "api", "v2", 2))
	left := c.Instances("api", "v2")
	require.Len(t, left, 1)
	assert.Equal(t, "api-v2-2", left[0].Name(), "the oldest go first")
	assert.Less(t, f.index("backend- api api-v2-0"), f.index("remove api-v2-0 retired"), "drained before it stops")

	require.NoError(t, c.Deploy(ctx, "api", topology.Deployment{Version: "v2", Replicas: 1}))
	assert.Equal(t, []string{"api-v2-2", "api-v2-3"}, namesOf(c.Instances("api", "v2")), "one past the highest index, names stay unique")
	require.ErrorContains(t, c.RetireInstances(ctx, "api", "v2", 3), "retire 3 instance(s) of api version v2: it has 2")
	require.NoError(t, c.RetireInstances(ctx, "api", "v2", 0), "nothing to do")

	require.ErrorContains(t, c.SetFlag(ctx, "api", "v9", "new-checkout", true), "api has no instance of version v9")
	require.NoError(t, c.Retire(ctx, "api", "v2"))
	assert.Empty(t, c.Instances("api", "v2"))
	assert.ErrorContains(t, c.Retire(ctx, "api", "v2"), `retire api: no instances of version "v2"`)
	assert.ErrorContains(t, c.Deploy(ctx, "api", topology.Deployment{}), "no version given")
	assert.ErrorContains(t, c.Deploy(ctx, "nope", topology.Deployment{Version: "v2"}), `no service "nope"`)

	stop, err := c.StartSynthetic(ctx, "api", "v2", 5, nil)
	require.NoError(t, err)
	stop()
	assert.Equal(t, []string{"synthetic api v2 [/buy]"}, f.callsLike("synthetic "), "the traffic's paths by default")
}

func namesOf(ins []topology.Instance) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.Name())
	}
	return out
}

func TestDeployFailureLeavesTheOldVersionAsItWas(t *testing.T) {
	f := newFakeRuntime()
	f.behave = func(name string) string {
		if strings.HasPrefix(name, "db-v2") {
			return "exits"
		}
		return ""
	}
	_, c := up(t, f, chain(), topology.Options{})
	err := c.Deploy(context.Background(), "db", topology.Deployment{Version: "v2", Replicas: 2})
	require.ErrorContains(t, err, "exited before it became healthy")
	assert.Empty(t, c.Instances("db", "v2"))
	assert.Len(t, c.Instances("db", "v1"), 1)
	assert.Equal(t, map[string]int{"v1": 100}, c.Weights("db"))
}

func TestDownDuringUpWaitsForTheStartsAndRemovesEverythingOnce(t *testing.T) {
	f := newFakeRuntime()
	f.healthyGate = make(chan struct{}) // no instance ever becomes healthy
	rt := f.runtime(time.Minute)
	upErr := make(chan error, 1)
	go func() {
		_, err := rt.Up(context.Background(), chain(), topology.Options{})
		upErr <- err
	}()
	require.Eventually(t, func() bool { return len(f.callsLike("launch ")) == 2 }, 5*time.Second, time.Millisecond, "db and auth launched")
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = rt.Down(context.Background()) })
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
	select {
	case err := <-upErr:
		require.ErrorIs(t, err, context.Canceled)
		assert.Contains(t, err.Error(), "start interrupted")
	case <-time.After(5 * time.Second):
		t.Fatal("Up did not return after Down")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Equal(t, 1, f.closed)
	for name, in := range f.insts {
		assert.Equal(t, 1, in.removed, "%s removed once", name)
	}
	assert.Equal(t, "close", f.calls[len(f.calls)-1], "the launcher releases the run last")
	assert.Less(t, slices.Index(f.calls, "routers closed"), slices.Index(f.calls, "close"))
}

func TestUpInterruptedByItsContext(t *testing.T) {
	f := newFakeRuntime()
	f.healthyGate = make(chan struct{})
	rt := f.runtime(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(f.callsLike("launch ")) < 2 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := rt.Up(ctx, chain(), topology.Options{})
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "fake runtime: up interrupted")
	assert.Equal(t, 1, f.closed)
	f.mu.Lock()
	f.healthyGate = nil
	f.mu.Unlock()
	_, err = rt.Up(context.Background(), chain(), topology.Options{})
	require.NoError(t, err, "the runtime is free again")
	require.NoError(t, rt.Down(context.Background()))
}

func TestUpTwiceRefused(t *testing.T) {
	f := newFakeRuntime()
	rt, _ := up(t, f, chain(), topology.Options{})
	_, err := rt.Up(context.Background(), chain(), topology.Options{})
	require.ErrorContains(t, err, "a topology is already up")
	_, err = f.runtime(time.Second).Up(context.Background(), nil, topology.Options{})
	require.ErrorContains(t, err, "no scenario")
}

func TestFirstErrorPrefersTheCause(t *testing.T) {
	cause := errors.New("exit status 3")
	assert.Equal(t, cause, firstError([]error{nil, fmt.Errorf("interrupted: %w", context.Canceled), cause}))
	assert.ErrorIs(t, firstError([]error{fmt.Errorf("interrupted: %w", context.Canceled)}), context.Canceled)
	assert.NoError(t, firstError([]error{nil, nil}))
}

func TestOpLockGivesUpWithItsContext(t *testing.T) {
	l := NewOpLock()
	require.NoError(t, l.Lock(context.Background(), "a"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := l.Lock(ctx, "a")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "instance a: busy with another operation")
	l.Unlock()
	require.NoError(t, l.Lock(context.Background(), "a"), "free again")
}

// A deploy cut by its caller's deadline (a rollout's ready_timeout) names
// the instance and its last health answer, and leaves nothing behind.
func TestDeployPastItsDeadlineSaysWhichInstanceWasNotReady(t *testing.T) {
	f := newFakeRuntime()
	f.behave = func(name string) string {
		if name == "db-v2-0" {
			return "never-healthy"
		}
		return ""
	}
	_, c := up(t, f, chain(), topology.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.Deploy(ctx, "db", topology.Deployment{Version: "v2", Replicas: 1})
	nr, ok := errors.AsType[*NotReadyError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "db-v2-0", nr.Instance)
	assert.Equal(t, "GET /healthz: status 503", nr.LastHealth)
	assert.Empty(t, c.Instances("db", "v2"))
}

// A service starts as soon as its own dependencies are ready, not when a
// slow service of the same dependency level is.
func TestServiceDoesNotWaitForUnrelatedSlowService(t *testing.T) {
	f := newFakeRuntime()
	f.behave = func(name string) string {
		if name == "auth-v1-0" {
			return "slow"
		}
		return ""
	}
	up(t, f, chain(), topology.Options{})
	assert.Less(t, f.index("healthy api-v1-0"), f.index("healthy auth-v1-0"), "api (after db) did not wait for auth")
	assert.Less(t, f.index("healthy auth-v1-0"), f.index("launch gw-v1-0"), "gw waited for auth, its dependency")
}
