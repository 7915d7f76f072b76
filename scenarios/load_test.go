package scenarios

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadValid(t *testing.T) {
	s, err := Load("testdata/valid.yaml")
	require.NoError(t, err)
	assert.Equal(t, "testdata/valid.yaml", s.File)
	assert.Equal(t, "quickstart", s.Name)

	// services keep file order and take their names from the keys
	var names []string
	for _, svc := range s.Services {
		names = append(names, svc.Name)
	}
	assert.Equal(t, []string{"gateway", "checkout", "payments", "legacy"}, names)
	assert.Equal(t, []Edge{{"gateway", "checkout"}, {"checkout", "payments"}}, s.Edges())
	assert.Equal(t, map[string]string{"LATENCY_MEDIAN": "5ms"}, s.Service("checkout").Env)
	assert.Equal(t, []string{"sh", "-c", "exec some-server --port {{.Port}}"}, s.Service("legacy").Command)

	assert.Equal(t, Traffic{Entry: "gateway", Paths: []string{"/"}, Method: "GET", Rate: 100,
		Duration: Duration(40 * time.Second), Timeout: Duration(2 * time.Second)}, s.Traffic)

	r := s.Rollout
	require.NotNil(t, r)
	assert.Equal(t, "v2", r.To)
	assert.Equal(t, map[string]string{"ERROR_RATE": "0.3"}, r.Env)
	assert.Equal(t, 0.05, r.Analysis.MaxErrorRate)
	assert.Equal(t, Duration(500*time.Millisecond), r.Analysis.MaxP99)
	require.Len(t, r.Steps, 2)
	assert.Equal(t, 50, r.Steps[1].Weight)
	assert.Equal(t, Duration(10*time.Second), r.Steps[1].Pause)

	require.Len(t, s.Faults, 2)
	lat, kill := s.Faults[0], s.Faults[1]
	assert.Equal(t, "checkout -> payments", lat.Edge)
	assert.Equal(t, Duration(100*time.Millisecond), lat.Latency)
	assert.Equal(t, Duration(20*time.Millisecond), lat.Jitter)
	assert.Equal(t, Duration(8*time.Second), lat.At)
	assert.Equal(t, 1, kill.Instance)

	require.Len(t, s.Expectations, 4)
	assert.Equal(t, "rolled_back", s.Expectations[0].Outcome)
	assert.Equal(t, 0.9, s.Expectations[2].Min)
}

func TestDefaults(t *testing.T) {
	s, err := Load("testdata/valid.yaml")
	require.NoError(t, err)
	sec := func(n float64) Duration { return Duration(n * float64(time.Second)) }

	assert.Equal(t, "local", s.Runtime)
	gw := s.Service("gateway")
	assert.Equal(t, "v1", gw.Version)
	assert.Equal(t, Health{HTTP: "/healthz", Interval: sec(1), Timeout: sec(1), UnhealthyAfter: 2, HealthyAfter: 1}, gw.Health)
	assert.Equal(t, sec(30), gw.StartTimeout)
	legacy := s.Service("legacy")
	assert.Equal(t, 1, legacy.Replicas)
	assert.True(t, legacy.Health.TCP, "commands are checked over TCP")
	assert.Empty(t, legacy.Health.HTTP)

	r := s.Rollout
	assert.Equal(t, "canary", r.Strategy)
	assert.Equal(t, "auto", r.Rollback)
	assert.Equal(t, 1, r.Replicas)
	assert.Equal(t, sec(5), r.StartAt)
	want := Analysis{Interval: sec(1), Window: sec(5), MaxErrorRate: 0.05, MaxP99: sec(0.5), MinRequests: 20, Failures: 1,
		Judge: "sequential", Alpha: 0.05, ErrorMargin: 0.01, LatencyMargin: 0.1}
	assert.Equal(t, want, r.Analysis)
	for _, st := range r.Steps {
		require.NotNil(t, st.Analysis, "a step without analysis uses the rollout's")
		assert.Equal(t, want, *st.Analysis)
		assert.NotSame(t, &r.Analysis, st.Analysis, "a copy, so changing one step changes no other")
	}

	lat, kill := s.Faults[0], s.Faults[1]
	assert.Equal(t, "latency-0", lat.Name)
	assert.Equal(t, "downstream", lat.Direction)
	assert.Equal(t, 1.0, lat.Toxicity)
	assert.Empty(t, lat.Version, "edge faults have no version")
	assert.Equal(t, "kill-1", kill.Name)
	assert.Equal(t, sec(3), kill.RestartAfter, "restart_after defaults to duration")
	assert.Equal(t, "v1", kill.Version)
	assert.Empty(t, kill.Direction)
	assert.Zero(t, kill.Toxicity)

	var names []string
	for _, e := range s.Expectations {
		names = append(names, e.Name)
	}
	assert.Equal(t, []string{"rollout outcome is rolled_back", "rollback within 15s", "availability >= 0.9", "p99 latency <= 1s"}, names)

	// Idempotent: a second pass changes nothing.
	before, err := json.Marshal(s)
	require.NoError(t, err)
	s.ApplyDefaults()
	after, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, string(before), string(after))
}

func TestStepAnalysisInheritsUnsetKeys(t *testing.T) {
	text := strings.Replace(withRollout, "{weight: 50, pause: 5s}", "{weight: 50, pause: 5s, analysis: {max_p99: 200ms, failures: 3}}", 1) +
		"  analysis: {max_error_rate: 0.1, max_p99: 1s, window: 10s}\n"
	s, err := Parse("t.yaml", []byte(text))
	require.NoError(t, err)
	own := s.Rollout.Steps[1].Analysis
	assert.Equal(t, Analysis{Interval: Duration(time.Second), Window: Duration(10 * time.Second), MaxErrorRate: 0.1,
		MaxP99: Duration(200 * time.Millisecond), MinRequests: 20, Failures: 3,
		Judge: "sequential", Alpha: 0.05, ErrorMargin: 0.01, LatencyMargin: 0.1}, *own)
	assert.Equal(t, Duration(time.Second), s.Rollout.Steps[0].Analysis.MaxP99)
}

func TestExplicitValuesWinOverDefaults(t *testing.T) {
	text := `name: t
runtime: docker
services:
  a:
    image: example/a:1
    replicas: 3
    version: blue
    health: {http: /ready, interval: 2s, timeout: 500ms, unhealthy_after: 5, healthy_after: 2}
    start_timeout: 1m
    depends_on: [b]
  b:
    image: example/b:1
traffic: {entry: a, rate: 5, duration: 1m, paths: [/x, /y], method: POST, timeout: 3s, warmup: 2s}
faults:
  - {name: slow, kind: latency, edge: a -> b, latency: 1s, duration: 1s, direction: both, toxicity: 0.25}
  - {kind: kill, service: b, duration: 2s, restart_after: 5s}
`
	s, err := Parse("t.yaml", []byte(text))
	require.NoError(t, err)
	a := s.Service("a")
	assert.Equal(t, 3, a.Replicas)
	assert.Equal(t, "blue", a.Version)
	assert.Equal(t, Health{HTTP: "/ready", Interval: Duration(2 * time.Second), Timeout: Duration(500 * time.Millisecond),
		UnhealthyAfter: 5, HealthyAfter: 2}, a.Health)
	assert.Equal(t, Duration(time.Minute), a.StartTimeout)
	assert.True(t, s.Service("b").Health.TCP, "images are checked over TCP")
	assert.Equal(t, Traffic{Entry: "a", Paths: []string{"/x", "/y"}, Method: "POST", Rate: 5,
		Duration: Duration(time.Minute), Timeout: Duration(3 * time.Second), Warmup: Duration(2 * time.Second)}, s.Traffic)
	assert.Equal(t, "slow", s.Faults[0].Name)
	assert.Equal(t, "both", s.Faults[0].Direction)
	assert.Equal(t, 0.25, s.Faults[0].Toxicity)
	assert.Equal(t, Duration(5*time.Second), s.Faults[1].RestartAfter)
}

func TestDecodeScalars(t *testing.T) {
	text := base + `rollout:
  service: a
  to: 2
  replicas: 2.0
  env:
    PORT: 8080
    DEBUG: true
    RATIO: 0.5
    NOTE: |
      two lines
      here
  steps:
    - {weight: 100, pause: 5s}
faults:
  - kind: kill
    service: b
    at: 0
    duration: 1s
    restart_after: never
`
	s, err := Parse("t.yaml", []byte(text))
	require.NoError(t, err)
	assert.Equal(t, "2", s.Rollout.To, "a number where a string goes keeps its spelling")
	assert.Equal(t, 2, s.Rollout.Replicas)
	assert.Equal(t, map[string]string{"PORT": "8080", "DEBUG": "true", "RATIO": "0.5", "NOTE": "two lines\nhere\n"}, s.Rollout.Env)
	assert.Equal(t, Never, s.Faults[0].RestartAfter)
	assert.Zero(t, s.Faults[0].At)
}

func TestAnchorsAndMerges(t *testing.T) {
	text := `name: t
services:
  a:
    <<: &svc
      fixture: httpsvc
      replicas: 2
      env: {MODE: shared}
    depends_on: [b]
  b:
    <<: *svc
    replicas: 3
traffic: {entry: a, rate: 10, duration: &d 30s}
faults:
  - {kind: down, edge: a -> b, duration: *d}
`
	s, err := Parse("t.yaml", []byte(text))
	require.NoError(t, err)
	assert.Equal(t, 2, s.Service("a").Replicas)
	assert.Equal(t, 3, s.Service("b").Replicas, "a key written in the mapping wins over the merged one")
	assert.Equal(t, "httpsvc", s.Service("b").Fixture)
	assert.Equal(t, map[string]string{"MODE": "shared"}, s.Service("b").Env)
	assert.Equal(t, Duration(30*time.Second), s.Faults[0].Duration)

	// A merged key that is unknown is reported where it is written.
	bad := strings.Replace(text, "replicas: 2\n", "replicaz: 2\n", 1)
	_, err = Parse("t.yaml", []byte(bad))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `t.yaml:6:7: services.a: unknown key "replicaz"; did you mean "replicas"?`)
}

func TestNullsAreUnset(t *testing.T) {
	text := base + "rollout:\nfaults:\nexpectations: []\n"
	s, err := Parse("t.yaml", []byte(text))
	require.NoError(t, err)
	assert.Nil(t, s.Rollout)
	assert.Empty(t, s.Faults)
}

func TestLoadReadsFromDisk(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(base, "rate: 10", "rate: x", 1)), 0o600))
	_, err := Load(path)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), path+":10:9: traffic.rate: must be a number"), err.Error())
}

func TestRolloutDurationAndTargets(t *testing.T) {
	s, err := Load("testdata/valid.yaml")
	require.NoError(t, err)
	assert.Equal(t, 25*time.Second, s.RolloutDuration(), "start_at 5s + pauses 10s + 10s")
	assert.Equal(t, "checkout -> payments", s.Faults[0].Target())
	assert.Equal(t, "service payments instance 1 (v1)", s.Faults[1].Target())

	assert.Zero(t, (&Scenario{}).RolloutDuration())
	assert.Equal(t, "a -> b", (&Fault{Kind: FaultDown, Edge: " a->b "}).Target())
	assert.Equal(t, "service x instance 0", (&Fault{Kind: FaultPause, Service: "x"}).Target())
}

// Merges of merges are expanded once per mapping: 40 layers that each merge
// the layer below twice would be 2^40 expansions if followed naively.
func TestMergeBombIsCheap(t *testing.T) {
	var b strings.Builder
	b.WriteString("x0: &x0 {fixture: httpsvc}\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "x%d: &x%d {<<: [*x%d, *x%d]}\n", i, i, i-1, i-1)
	}
	b.WriteString("services:\n  a: {<<: *x40}\n")
	_, err := Parse("bomb.yaml", []byte(b.String()))
	require.Error(t, err, "x0..x40 are unknown top-level keys")
	assert.Contains(t, err.Error(), `bomb.yaml:1:1: unknown key "x0"`)
	assert.NotContains(t, err.Error(), "services.a", "the service itself decodes")

	_, err = Parse("self.yaml", []byte("services:\n  a: &a\n    fixture: httpsvc\n    <<: *a\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "self.yaml:3:5: services.a: << merges a mapping into itself")
}

// Every shipped example loads cleanly.
func TestExamplesAreValid(t *testing.T) {
	files, err := filepath.Glob("examples/*.yaml")
	require.NoError(t, err)
	if len(files) == 0 {
		t.Skip("no examples yet")
	}
	for _, f := range files {
		_, err := Load(f)
		assert.NoError(t, err, f)
	}
}
