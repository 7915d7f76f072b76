package rehearsal

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/traffic"
)

// The run sequence on a fake runtime: Up serves the entry service from an
// httptest.Server, so traffic crosses a real loopback socket, but no
// process or container starts. The fake stands in for the service's router
// too: it splits requests between versions by the weights the controller
// set and records a Hop sample of each into the run's recorder.

// fakeBinary is Config.Binary: the fake never runs it.
const fakeBinary = "/nonexistent/firedrill"

// fakeRuntime is a topology.Runtime whose topology is one in-process server.
type fakeRuntime struct {
	t *testing.T
	// upErr makes Up fail.
	upErr error
	// status answers the n-th request (from 1) that version served
	// (nil: 200).
	status func(version string, n int64) int
	// onRequest is called with each request's number (from 1) as it arrives.
	onRequest func(n int64)

	mu    sync.Mutex
	ups   int
	downs int
	opts  topology.Options
	topo  *fakeTopology
}

func (rt *fakeRuntime) Up(_ context.Context, sc *scenarios.Scenario, opts topology.Options) (topology.Topology, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.ups++
	rt.opts = opts
	if rt.upErr != nil {
		return nil, rt.upErr
	}
	ft := &fakeTopology{rt: rt, rec: opts.Recorder, entry: sc.Traffic.Entry,
		weights: map[string]map[string]int{}, versions: map[string][]string{}}
	for _, s := range sc.Services {
		ft.weights[s.Name] = map[string]int{s.Version: 100}
		ft.versions[s.Name] = []string{s.Version}
	}
	ft.srv = httptest.NewServer(ft)
	rt.t.Cleanup(ft.srv.Close) // also when the run forgets Down
	rt.topo = ft
	return ft, nil
}

func (rt *fakeRuntime) Down(context.Context) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.downs++
	if rt.topo != nil {
		rt.topo.srv.Close()
	}
	return nil
}

func (rt *fakeRuntime) counts() (ups, downs int) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.ups, rt.downs
}

// fakeTopology is the running fake: every service's router is the entry's
// server (only the entry receives traffic).
type fakeTopology struct {
	rt    *fakeRuntime
	srv   *httptest.Server
	rec   *record.Recorder
	entry string
	n     atomic.Int64

	mu       sync.Mutex
	weights  map[string]map[string]int // service -> version -> percent
	versions map[string][]string       // service -> running versions
	served   map[string]int64          // version -> requests served
	calls    []string                  // Deploy, SetWeights, Retire, in order
}

// ServeHTTP answers one request of the entry service as the version the
// weights pick, and records what it served as its router would.
func (ft *fakeTopology) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	n := ft.n.Add(1)
	if f := ft.rt.onRequest; f != nil {
		f(n)
	}
	ft.mu.Lock()
	version := pick(ft.weights[ft.entry], n)
	if ft.served == nil {
		ft.served = map[string]int64{}
	}
	ft.served[version]++
	nth := ft.served[version]
	ft.mu.Unlock()
	status := http.StatusOK
	if f := ft.rt.status; f != nil {
		status = f(version, nth)
	}
	w.Header().Set(traffic.HeaderVersion, version)
	w.Header().Set(traffic.HeaderInstance, instanceName(ft.entry, version))
	w.WriteHeader(status)
	ft.rec.Observe(record.Observation{Source: record.Hop, Service: ft.entry, Version: version, Instance: instanceName(ft.entry, version),
		Intended: start, Latency: time.Since(start), Status: status})
}

// pick routes request n by weight, spreading each version's share evenly
// over consecutive requests (n·37 mod 100 visits every bucket once per 100).
func pick(weights map[string]int, n int64) string {
	bucket := int(n * 37 % 100)
	versions := slices.Sorted(maps.Keys(weights))
	for _, v := range versions {
		if bucket < weights[v] {
			return v
		}
		bucket -= weights[v]
	}
	return versions[len(versions)-1]
}

func instanceName(service, version string) string { return service + "-" + version + "-0" }

func (ft *fakeTopology) record(format string, args ...any) {
	ft.mu.Lock()
	ft.calls = append(ft.calls, fmt.Sprintf(format, args...))
	ft.mu.Unlock()
}

func (ft *fakeTopology) callLog() []string {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return slices.Clone(ft.calls)
}

func (ft *fakeTopology) EntryURL() string                  { return ft.srv.URL }
func (ft *fakeTopology) RouterURL(string) string           { return ft.srv.URL }
func (ft *fakeTopology) ToxiproxyURL() string              { return "http://127.0.0.1:1" }
func (ft *fakeTopology) ProxyName(e scenarios.Edge) string { return e.From + "_" + e.To }

func (ft *fakeTopology) SetWeights(_ context.Context, service string, w map[string]int) error {
	ft.record("weights %s %v", service, w) // %v prints maps sorted by key
	ft.mu.Lock()
	ft.weights[service] = maps.Clone(w)
	ft.mu.Unlock()
	return nil
}

func (ft *fakeTopology) Weights(service string) map[string]int {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return maps.Clone(ft.weights[service])
}

func (ft *fakeTopology) Deploy(_ context.Context, service string, d topology.Deployment) error {
	ft.record("deploy %s %s x%d", service, d.Version, d.Replicas)
	ft.mu.Lock()
	ft.versions[service] = append(ft.versions[service], d.Version)
	ft.mu.Unlock()
	return nil
}

func (ft *fakeTopology) Retire(_ context.Context, service, version string) error {
	ft.record("retire %s %s", service, version)
	ft.mu.Lock()
	ft.versions[service] = slices.DeleteFunc(ft.versions[service], func(v string) bool { return v == version })
	ft.mu.Unlock()
	return nil
}

func (ft *fakeTopology) Instances(service, version string) []topology.Instance {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	var out []topology.Instance
	for _, v := range ft.versions[service] {
		if version == "" || v == version {
			out = append(out, fakeInstance{service: service, version: v, addr: ft.srv.Listener.Addr().String()})
		}
	}
	return out
}

// The fakes are the runtime interfaces, as the real runtimes are.
var (
	_ topology.Runtime  = (*fakeRuntime)(nil)
	_ topology.Topology = (*fakeTopology)(nil)
	_ topology.Instance = fakeInstance{}
)

// fakeInstance is an instance nothing can kill: there is no process.
type fakeInstance struct{ service, version, addr string }

func (i fakeInstance) Name() string                  { return instanceName(i.service, i.version) }
func (i fakeInstance) Service() string               { return i.service }
func (i fakeInstance) Version() string               { return i.version }
func (i fakeInstance) Addr() string                  { return i.addr }
func (i fakeInstance) Kill(context.Context) error    { return nil }
func (i fakeInstance) Start(context.Context) error   { return nil }
func (i fakeInstance) Pause(context.Context) error   { return nil }
func (i fakeInstance) Resume(context.Context) error  { return nil }
func (i fakeInstance) Restart(context.Context) error { return nil }

// parse reads a scenario as firedrill run would (Parse validates it).
func parse(t *testing.T, text string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse("fake.yaml", []byte(text))
	require.NoError(t, err)
	require.NoError(t, sc.Validate())
	return sc
}

// run rehearses sc on rt into a fresh directory.
func run(ctx context.Context, t *testing.T, sc *scenarios.Scenario, rt *fakeRuntime) (*reports.Result, string, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(ctx, Config{Scenario: sc, Runtime: rt, RuntimeName: "fake", Seed: sc.Seed, OutDir: dir,
		Formats: []string{"md"}, Binary: fakeBinary})
	return res, dir, err
}

// eventKinds reads events.jsonl back.
func eventKinds(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "events.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	var kinds []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e record.Event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "line %q", sc.Text())
		kinds = append(kinds, e.Kind)
	}
	require.NoError(t, sc.Err())
	return kinds
}

// assertInOrder checks that want appears in got in this order (not
// necessarily next to each other).
func assertInOrder(t *testing.T, got, want []string) {
	t.Helper()
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	assert.Equal(t, len(want), i, "%v should appear in this order in %v", want, got)
}

// loadResult checks that result.json was written and reads it back.
func loadResult(t *testing.T, dir string) *reports.Result {
	t.Helper()
	res, err := reports.Load(filepath.Join(dir, "result.json"))
	require.NoError(t, err)
	return res
}

const steady = `
name: fake-steady
seed: 7
services:
  api: {fixture: httpsvc}
traffic: {entry: api, rate: 50, duration: 1s}
expectations:
  - kind: availability
    min: 0.9
`

// A run without a rollout: traffic reaches the fake, the verdict follows
// the expectation, the result and the events are written, and the
// topology is stopped once.
func TestRunJudgesTrafficOnAFakeTopology(t *testing.T) {
	for _, c := range []struct {
		name    string
		status  func(string, int64) int
		verdict string
	}{
		{name: "every request served", verdict: reports.GO},
		// One request in five fails: 80% available, 90% needed.
		{name: "one in five fails", status: func(_ string, n int64) int {
			if n%5 == 0 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		}, verdict: reports.NOGO},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := parse(t, steady)
			rt := &fakeRuntime{t: t, status: c.status}
			res, dir, err := run(context.Background(), t, sc, rt)
			require.NoError(t, err, "a failed expectation is a verdict, not an error")
			require.NotNil(t, res)

			ups, downs := rt.counts()
			assert.Equal(t, 1, ups)
			assert.Equal(t, 1, downs, "Down exactly once")
			assert.Equal(t, fakeBinary, rt.opts.Binary)
			assert.Equal(t, dir, rt.opts.RunDir)
			assert.Equal(t, res.RunID, rt.opts.RunID)
			assert.NotNil(t, rt.opts.Recorder)
			assert.NotNil(t, rt.opts.Events)

			assert.Equal(t, c.verdict, res.Verdict)
			require.Len(t, res.Expectations, 1)
			assert.Equal(t, c.verdict == reports.GO, res.Expectations[0].Passed, "%s: %s", res.Expectations[0].Observed, res.Expectations[0].Detail)
			assert.Positive(t, res.Traffic.Requests, "requests crossed the socket")
			assert.Equal(t, res.Traffic.Requests, int(rt.topo.n.Load()), "every request the fake served is a client sample")
			if c.verdict == reports.GO {
				assert.Zero(t, res.Traffic.Errors)
			} else {
				assert.Equal(t, res.Traffic.Requests/5, res.Traffic.Errors, "every fifth request failed")
			}
			assert.False(t, res.Interrupted)
			assert.Empty(t, res.Error)
			assert.Equal(t, reports.None, res.Rollout.Outcome)
			sources := map[string]bool{}
			for _, s := range res.Series {
				sources[s.Source+" "+s.Service+" "+s.Version] = true
			}
			assert.Equal(t, map[string]bool{"client api ": true, "hop api v1": true}, sources, "the fake's hop samples reach the result")

			written := loadResult(t, dir)
			assert.Equal(t, res.RunID, written.RunID)
			assert.Equal(t, c.verdict, written.Verdict)
			assert.FileExists(t, filepath.Join(dir, "report.md"))
			assertInOrder(t, eventKinds(t, dir), []string{record.EvRunStarted, record.EvTopologyUp, record.EvTrafficStarted,
				record.EvTrafficStopped, record.EvRunEnded})
		})
	}
}

// Up failing is an infrastructure error; the result still says what
// happened and is written, and Down still runs.
func TestRunUpFails(t *testing.T) {
	sc := parse(t, steady)
	rt := &fakeRuntime{t: t, upErr: errors.New("no such runtime here")}
	res, dir, err := run(context.Background(), t, sc, rt)

	var infra *InfraError
	require.ErrorAs(t, err, &infra)
	assert.Contains(t, err.Error(), "bring the topology up: no such runtime here")
	assert.NotErrorIs(t, err, ErrInterrupted)
	require.NotNil(t, res, "a result although nothing ran")
	ups, downs := rt.counts()
	assert.Equal(t, 1, ups)
	assert.Equal(t, 1, downs, "Down after a failed Up")

	assert.Equal(t, reports.NOGO, res.Verdict)
	assert.Equal(t, err.Error(), res.Error)
	assert.Zero(t, res.Traffic.Requests)
	assert.Nil(t, res.SeriesStart, "traffic never started")
	require.Len(t, res.Expectations, 1)
	assert.Equal(t, "no data", res.Expectations[0].Observed)

	written := loadResult(t, dir)
	assert.Equal(t, reports.NOGO, written.Verdict)
	assert.Equal(t, res.Error, written.Error)
	kinds := eventKinds(t, dir)
	assert.NotContains(t, kinds, record.EvTopologyUp)
	assert.NotContains(t, kinds, record.EvTrafficStarted)
	assertInOrder(t, kinds, []string{record.EvRunStarted, record.EvRunEnded})
}

// A context cancelled while traffic flows ends the run at once as
// interrupted: the partial result is returned and written, the topology
// stopped.
func TestRunInterruptedDuringTraffic(t *testing.T) {
	sc := parse(t, `
name: fake-long
services:
  api: {fixture: httpsvc}
traffic: {entry: api, rate: 50, duration: 1m}
expectations:
  - {kind: availability, min: 0.9}
`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rt := &fakeRuntime{t: t, onRequest: func(n int64) {
		if n == 10 {
			cancel() // Ctrl-C, ten requests in
		}
	}}
	res, dir, err := run(ctx, t, sc, rt)

	require.ErrorIs(t, err, ErrInterrupted)
	var infra *InfraError
	assert.False(t, errors.As(err, &infra), "an interruption is not an infrastructure error: %v", err)
	require.NotNil(t, res)
	assert.True(t, res.Interrupted)
	assert.Equal(t, reports.INTERRUPTED, res.Verdict, "its own verdict, not NO-GO")
	assert.Equal(t, err.Error(), res.Error)
	_, downs := rt.counts()
	assert.Equal(t, 1, downs)
	assert.Less(t, res.Traffic.Requests, 50*60, "the minute of traffic was cut short")

	written := loadResult(t, dir)
	assert.True(t, written.Interrupted)
	kinds := eventKinds(t, dir)
	assert.Contains(t, kinds, record.EvInterrupted)
	assertInOrder(t, kinds, []string{record.EvTrafficStarted, record.EvTrafficStopped, record.EvInterrupted, record.EvRunEnded})
}

// canary rolls api out to v2 in one step of 50% over a fake whose router
// records each version's requests, judged every 250ms on a 1s window.
const canary = `
name: fake-canary
seed: 7
services:
  api: {fixture: httpsvc}
traffic: {entry: api, rate: 50, duration: 3s}
rollout:
  service: api
  to: v2
  start_at: 300ms
  steps:
    - {weight: 50, pause: 1s}
  analysis:
    interval: 250ms
    window: 1s
    max_error_rate: 0.1
    min_requests: 5
expectations:
  - {kind: rollout_outcome, outcome: %s}
`

// The controller drives the fake: deploy, weights, then retire the old
// version (promoted) or the new one (rolled back), in that order.
func TestRunCanaryOverTheFake(t *testing.T) {
	for _, c := range []struct {
		name    string
		status  func(string, int64) int
		outcome string
		calls   []string
	}{
		// v2 answers like v1: nothing to trigger on, promoted after the step.
		{name: "a healthy v2 is promoted", outcome: reports.Promoted, calls: []string{
			"deploy api v2 x1", "weights api map[v1:50 v2:50]", "weights api map[v2:100]", "retire api v1"}},
		// v2 answers only errors: 100% > 10% at the first look with 5
		// of its requests (25 rps reach it), rolled back in step 1.
		{name: "a failing v2 is rolled back", outcome: reports.RolledBack, status: func(version string, _ int64) int {
			if version == "v2" {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		}, calls: []string{"deploy api v2 x1", "weights api map[v1:50 v2:50]", "weights api map[v1:100]", "retire api v2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := parse(t, fmt.Sprintf(canary, c.outcome))
			rt := &fakeRuntime{t: t, status: c.status}
			res, dir, err := run(context.Background(), t, sc, rt)
			require.NoError(t, err)

			assert.Equal(t, c.calls, rt.topo.callLog())
			ro := res.Rollout
			assert.Equal(t, c.outcome, ro.Outcome, "trigger %q", ro.Trigger)
			assert.Equal(t, "v1", ro.From)
			assert.Equal(t, "v2", ro.To)
			assert.Equal(t, reports.GO, res.Verdict, "the expected outcome")
			require.NotNil(t, ro.RegressionAt, "v2 received traffic")
			require.NotNil(t, ro.CompletedAt)
			require.Len(t, ro.Steps, 1)
			assert.Equal(t, 50, ro.Steps[0].Weight)
			require.NotNil(t, ro.Audit)
			assert.Positive(t, ro.Audit.NewVersionRequests, "the fake's hop samples reached the controller")
			if c.outcome == reports.RolledBack {
				assert.Equal(t, "analysis", ro.Trigger)
				assert.Equal(t, "failed", ro.Steps[0].Result)
				assert.Equal(t, ro.Audit.NewVersionRequests, ro.Audit.BadRequests, "v2 failed every request it served")
			} else {
				assert.Empty(t, ro.Trigger)
				assert.Equal(t, "passed", ro.Steps[0].Result)
				assert.Zero(t, ro.Audit.BadRequests)
			}
			_, downs := rt.counts()
			assert.Equal(t, 1, downs)
			event := record.EvPromoted
			if c.outcome == reports.RolledBack {
				event = record.EvRollbackCompleted
			}
			assertInOrder(t, eventKinds(t, dir), []string{record.EvTrafficStarted, record.EvRolloutStarted, record.EvStepStarted,
				event, record.EvTrafficStopped, record.EvRunEnded})
		})
	}
}

// A rollout whose strategy needs a capability the runtime's topology lacks
// (the fake cannot mirror requests) is refused as invalid input once the
// topology is up, before any traffic; the topology is still stopped.
func TestRunRefusesARolloutTheTopologyCannotDo(t *testing.T) {
	sc := parse(t, `
name: fake-bluegreen
services:
  api: {fixture: httpsvc}
traffic: {entry: api, rate: 50, duration: 1m}
rollout:
  service: api
  strategy: blue_green
  to: v2
  blue_green: {preview: mirror}
`)
	rt := &fakeRuntime{t: t}
	res, dir, err := run(context.Background(), t, sc, rt)

	require.Error(t, err)
	assert.True(t, scenarios.IsInvalid(err), "invalid input, not an infrastructure failure: %T %v", err, err)
	assert.Contains(t, err.Error(), "needs request mirroring, which runtime fake lacks")
	require.NotNil(t, res)
	_, downs := rt.counts()
	assert.Equal(t, 1, downs)
	assert.Empty(t, rt.topo.callLog(), "the controller never ran")
	assert.Zero(t, rt.topo.n.Load(), "no request was sent")
	assert.Equal(t, reports.NOGO, res.Verdict)
	assert.Equal(t, reports.None, res.Rollout.Outcome)
	kinds := eventKinds(t, dir)
	assert.Contains(t, kinds, record.EvTopologyUp)
	assert.NotContains(t, kinds, record.EvTrafficStarted)
}
