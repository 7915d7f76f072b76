package simulator

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// model is a pure fake of the live world for unit tests: the canary's
// error rate is fixed, and each look sees rate*weight*window requests.
type model struct {
	clock     Clock
	rate      float64 // requests per second to the service
	errRate   map[string]float64
	p99       map[string]time.Duration
	weights   map[string]int
	deployed  map[string]bool
	retired   []string
	deployErr error
}

func (m *model) Deploy(_ context.Context, _, version string, _ int, _ map[string]string, _ []string) error {
	if m.deployErr != nil {
		return m.deployErr
	}
	m.deployed[version] = true
	return nil
}
func (m *model) Retire(_ context.Context, _, version string) error {
	m.retired = append(m.retired, version)
	return nil
}
func (m *model) SetWeights(_ context.Context, _ string, w map[string]int) error {
	m.weights = w
	return nil
}
func (m *model) Window(_, version string, from, to time.Time) WindowStats {
	n := int(m.rate * float64(m.weights[version]) / 100 * to.Sub(from).Seconds())
	return WindowStats{Requests: n, Errors: int(float64(n) * m.errRate[version]), P99: m.p99[version]}
}

func canary(rollback string) *scenarios.Rollout {
	return &scenarios.Rollout{
		Service: "checkout", To: "v2", Strategy: "canary", Replicas: 1, Rollback: rollback,
		StartAt: scenarios.Duration(5 * time.Second),
		Steps: []*scenarios.Step{
			{Weight: 10, Pause: scenarios.Duration(10 * time.Second)},
			{Weight: 50, Pause: scenarios.Duration(10 * time.Second)},
		},
		Analysis: scenarios.Analysis{Interval: scenarios.Duration(time.Second), Window: scenarios.Duration(5 * time.Second),
			MaxErrorRate: 0.05, MaxP99: scenarios.Duration(500 * time.Millisecond), MinRequests: 20, Failures: 2},
	}
}

func run(t *testing.T, m *model, ro *scenarios.Rollout) (*Outcome, *record.Log) {
	t.Helper()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := NewStepClock(t0)
	m.clock = clock
	log := record.NewLog(nil)
	c := &Controller{Clock: clock, Fleet: m, Router: m, Observer: m, Events: log, Rollout: ro, From: "v1", Start: t0}
	out, err := c.Run(context.Background())
	require.NoError(t, err)
	return out, log
}

func newModel(canaryErr float64, canaryP99 time.Duration) *model {
	return &model{rate: 100, weights: map[string]int{"v1": 100}, deployed: map[string]bool{},
		errRate: map[string]float64{"v1": 0.001, "v2": canaryErr},
		p99:     map[string]time.Duration{"v1": 50 * time.Millisecond, "v2": canaryP99}}
}

func TestCanaryRollsBackOnErrors(t *testing.T) {
	m := newModel(0.3, 50*time.Millisecond)
	out, log := run(t, m, canary("auto"))
	assert.Equal(t, RolledBack, out.Result)
	assert.Equal(t, "analysis", out.Trigger)
	assert.Equal(t, map[string]int{"v1": 100}, m.weights, "traffic back on the old version")
	assert.Equal(t, []string{"v2"}, m.retired)
	// 10 rps reach the canary; 20 requests (min_requests) need 2 s of
	// window, and two failed looks in a row are required: detection at
	// 3 s after the regression reached traffic (looks at 1 s, 2 s, 3 s).
	assert.Equal(t, 3*time.Second, out.DetectedAt.Sub(out.RegressionAt))
	require.Len(t, out.Steps, 1)
	assert.Equal(t, "failed", out.Steps[0].Result)
	kinds := map[string]int{}
	for _, e := range log.Events() {
		kinds[e.Kind]++
	}
	assert.Equal(t, 1, kinds[record.EvTriggerFired])
	assert.Equal(t, 1, kinds[record.EvRollbackCompleted])
	assert.Zero(t, kinds[record.EvPromoted])
}

func TestCanaryRollsBackOnLatency(t *testing.T) {
	m := newModel(0, 900*time.Millisecond)
	out, _ := run(t, m, canary("auto"))
	assert.Equal(t, RolledBack, out.Result)
}

func TestHealthyCanaryIsPromoted(t *testing.T) {
	m := newModel(0.01, 60*time.Millisecond)
	out, log := run(t, m, canary("auto"))
	assert.Equal(t, Promoted, out.Result)
	assert.Equal(t, map[string]int{"v2": 100}, m.weights)
	assert.Equal(t, []string{"v1"}, m.retired)
	require.Len(t, out.Steps, 2)
	// 5 s start + 10 s + 10 s of steps.
	assert.Equal(t, 25*time.Second, out.CompletedAt.Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	_, ok := log.Find(record.EvPromoted, "checkout", time.Time{})
	assert.True(t, ok)
}

func TestManualRollbackOnlyAlerts(t *testing.T) {
	m := newModel(0.3, 50*time.Millisecond)
	out, log := run(t, m, canary("manual"))
	assert.Equal(t, Promoted, out.Result, "manual mode waits for a human; none came")
	_, ok := log.Find("alert", "checkout", time.Time{})
	assert.True(t, ok)
}

func TestFailedDeployRollsBack(t *testing.T) {
	m := newModel(0, 0)
	m.deployErr = assert.AnError
	out, _ := run(t, m, canary("auto"))
	assert.Equal(t, RolledBack, out.Result)
	assert.Equal(t, "deploy_failed", out.Trigger)
	assert.True(t, out.RegressionAt.IsZero(), "no traffic ever reached the new version")
}

func TestCancelledRunStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := newModel(0, 0)
	m.clock = RealClock{}
	c := &Controller{Clock: RealClock{}, Fleet: m, Router: m, Observer: m, Rollout: canary("auto"), From: "v1", Start: time.Now()}
	out, err := c.Run(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, None, out.Result)
}
