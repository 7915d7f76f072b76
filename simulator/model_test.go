package simulator

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// model is a pure fake of the live world for unit tests. Requests arrive
// evenly at rate per second; request k goes to a version by the weights in
// force at its instant (a hash of k is the draw), fails when another hash
// of k falls below its version's error rate, and takes the version's
// latency. The same k always gives the same sample, so windows looked at
// twice agree, as a real recorder's would.
type model struct {
	t0      time.Time
	rate    float64
	errRate map[string]float64
	// offRate is a version's error rate once its flag is turned off.
	offRate map[string]float64
	latency map[string]time.Duration

	weights []change[map[string]int]
	mirror  []change[mirrorState]
	flagOff map[string]time.Time // version -> when its flag went off

	instances map[string]int
	maxTotal  int
	minTotal  int
	ops       []string
	cohorts   *Cohorts
	deployErr error
	flagErr   error
	status    map[string]int16 // a version's answer instead of 200 (requests_test.go)
	now       func() time.Time
}

type change[T any] struct {
	at time.Time
	v  T
}

type mirrorState struct {
	version string
	percent int
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newModel(canaryErr float64, canaryLatency time.Duration) *model {
	m := &model{t0: t0, rate: 100,
		errRate:   map[string]float64{"v1": 0.001, "v2": canaryErr},
		offRate:   map[string]float64{},
		latency:   map[string]time.Duration{"v1": 50 * time.Millisecond, "v2": canaryLatency},
		flagOff:   map[string]time.Time{},
		instances: map[string]int{"v1": 2},
	}
	m.weights = []change[map[string]int]{{t0, map[string]int{"v1": 100}}}
	m.maxTotal, m.minTotal = 2, 2
	return m
}

func (m *model) op(format string, args ...any) { m.ops = append(m.ops, fmt.Sprintf(format, args...)) }

func (m *model) count() {
	total := 0
	for _, n := range m.instances {
		total += n
	}
	m.maxTotal, m.minTotal = max(m.maxTotal, total), min(m.minTotal, total)
}

func (m *model) Deploy(_ context.Context, _, version string, n int, _ map[string]string, _ []string) error {
	if m.deployErr != nil && version != "v1" {
		return m.deployErr
	}
	m.instances[version] += n
	m.op("deploy %s %d", version, n)
	m.count()
	return nil
}

func (m *model) Retire(_ context.Context, _, version string) error {
	m.instances[version] = 0
	m.op("retire %s", version)
	m.count()
	return nil
}

func (m *model) RetireInstances(_ context.Context, _, version string, n int) error {
	if n > m.instances[version] {
		return fmt.Errorf("retire %d of %s: only %d", n, version, m.instances[version])
	}
	m.instances[version] -= n
	m.op("retire %s %d", version, n)
	m.count()
	return nil
}

func (m *model) SetWeights(_ context.Context, _ string, w map[string]int) error {
	sum := 0
	for _, p := range w {
		sum += p
	}
	if sum != 100 {
		return fmt.Errorf("weights %v sum to %d", w, sum)
	}
	m.weights = append(m.weights, change[map[string]int]{m.now(), maps.Clone(w)})
	m.op("weights %s", fmtWeights(w))
	return nil
}

func (m *model) SetCohorts(_ context.Context, _ string, c Cohorts) error {
	m.cohorts = &c
	m.op("cohorts %s%s %v", c.Header, c.Cookie, c.Order)
	return nil
}

func (m *model) SetMirror(_ context.Context, _, version string, percent int) error {
	m.mirror = append(m.mirror, change[mirrorState]{m.now(), mirrorState{version, percent}})
	m.op("mirror %s %d", version, percent)
	return nil
}

func (m *model) SetFlag(_ context.Context, _, version, flag string, on bool) error {
	if m.flagErr != nil {
		return m.flagErr
	}
	if !on {
		m.flagOff[version] = m.now()
	}
	m.op("flag %s %s %v", version, flag, on)
	return nil
}

func (m *model) Start() time.Time { return m.t0 }

func (m *model) Samples(q Query) []record.Sample {
	var out []record.Sample
	first := int64(q.From.Sub(m.t0).Seconds()*m.rate) - 1
	for k := max(first, 0); ; k++ {
		at := m.t0.Add(time.Duration(float64(k) / m.rate * float64(time.Second)))
		if !at.Before(q.To) {
			break
		}
		if at.Before(q.From) {
			continue
		}
		version, salt := m.pick(k, at), uint64(3)
		if q.Shadow {
			ms := latest(m.mirror, at)
			if ms.percent == 0 || int(hash(k, 2)%100) >= ms.percent {
				continue
			}
			version, salt = ms.version, 4
		}
		if version == "" || (q.Version != "" && version != q.Version) {
			continue
		}
		rate := m.errRate[version]
		if off, ok := m.flagOff[version]; ok && !at.Before(off) {
			rate = m.offRate[version]
		}
		s := record.Sample{At: int64(at.Sub(m.t0)), LatencyUS: uint32(m.latency[version].Microseconds()), Status: 200}
		if st := m.status[version]; st != 0 {
			s.Status = st
		}
		if float64(hash(k, salt)>>11)/(1<<53) < rate {
			s.Status = 500
		}
		out = append(out, s)
	}
	return out
}

// pick draws request k's version by the weights in force at its instant.
func (m *model) pick(k int64, at time.Time) string {
	w := latest(m.weights, at)
	names := slices.Sorted(maps.Keys(w))
	p := int(hash(k, 1) % 100)
	for _, v := range names {
		if p < w[v] {
			return v
		}
		p -= w[v]
	}
	return ""
}

func latest[T any](cs []change[T], at time.Time) T {
	var v T
	for _, c := range cs {
		if c.at.After(at) {
			break
		}
		v = c.v
	}
	return v
}

// hash is SplitMix64 of (k, salt): independent uniform draws per request.
func hash(k int64, salt uint64) uint64 {
	z := uint64(k)*0x9E3779B97F4A7C15 + salt*0xD1B54A32D192ED03
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func fmtWeights(w map[string]int) string {
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for _, k := range keys {
		if s != "" {
			s += ","
		}
		s += fmt.Sprintf("%s=%d", k, w[k])
	}
	return s
}

// canary is a two-step canary with threshold guardrails only.
func canary(rollback string) *scenarios.Rollout {
	return &scenarios.Rollout{
		Service: "checkout", To: "v2", Strategy: "canary", Replicas: 1, Rollback: rollback,
		StartAt: scenarios.Duration(5 * time.Second),
		Steps: []*scenarios.Step{
			{Weight: 10, Pause: scenarios.Duration(10 * time.Second)},
			{Weight: 50, Pause: scenarios.Duration(10 * time.Second)},
		},
		Analysis: scenarios.Analysis{Interval: scenarios.Duration(time.Second), Window: scenarios.Duration(5 * time.Second),
			MaxErrorRate: 0.05, MaxP99: scenarios.Duration(500 * time.Millisecond), MinRequests: 20, Failures: 2,
			Judge: scenarios.JudgeThreshold, Alpha: 0.05, ErrorMargin: 0.01, LatencyMargin: 0.1},
	}
}

// runModel runs ro against m on virtual time and returns what happened.
func runModel(t *testing.T, m *model, ro *scenarios.Rollout) (*Outcome, *record.Log) {
	t.Helper()
	out, log, err := runModelErr(m, ro, nil)
	require.NoError(t, err)
	return out, log
}

func runModelErr(m *model, ro *scenarios.Rollout, log *record.Log) (*Outcome, *record.Log, error) {
	clock := NewStepClock(t0)
	m.now = clock.Now
	if log == nil {
		log = record.NewLog(nil)
	}
	c := &Controller{Clock: clock, Fleet: m, Router: m, Observer: m, Events: log, Rollout: ro, From: "v1",
		FromReplicas: m.instances["v1"], Start: t0}
	out, err := c.Run(context.Background())
	return out, log, err
}

func kinds(log *record.Log) map[string]int {
	k := map[string]int{}
	for _, e := range log.Events() {
		k[e.Kind]++
	}
	return k
}

func find(t *testing.T, log *record.Log, kind string) record.Event {
	t.Helper()
	e, ok := log.Find(kind, "", time.Time{})
	require.True(t, ok, "no %s event", kind)
	return e
}
