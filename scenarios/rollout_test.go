package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rolloutOf is base with a rollout of a written in YAML (indented by two).
func rolloutOf(body string) string { return base + "rollout:\n  service: a\n  to: v2\n" + body }

func TestStrategyDefaults(t *testing.T) {
	bg, err := Parse("t.yaml", []byte(strings.Replace(rolloutOf("  strategy: blue_green\n"), "fixture: httpsvc\n    depends_on", "fixture: httpsvc\n    replicas: 3\n    depends_on", 1)))
	require.NoError(t, err)
	r := bg.Rollout
	assert.Equal(t, 3, r.Replicas, "a full stack")
	assert.Equal(t, &BlueGreen{Preview: "mirror", MirrorPercent: 100, SyntheticRate: 20,
		PreviewFor: Duration(10 * time.Second), ScaleDownDelay: Duration(10 * time.Second)}, r.BlueGreen)
	assert.True(t, r.HealthTrigger())
	assert.Equal(t, 2, r.StepCount())
	assert.Equal(t, 25*time.Second, bg.RolloutDuration(), "5s start + 10s preview + 10s kept")

	ro, err := Parse("t.yaml", []byte(strings.Replace(rolloutOf("  strategy: rolling\n"), "fixture: httpsvc\n    depends_on", "fixture: httpsvc\n    replicas: 3\n    depends_on", 1)))
	require.NoError(t, err)
	assert.Equal(t, &Rolling{MaxSurge: 1, Pause: Duration(5 * time.Second)}, ro.Rollout.Rolling)
	assert.Equal(t, 3, ro.Rollout.Replicas)
	assert.Equal(t, 3, ro.Rollout.StepCount(), "one batch per instance")
	assert.Equal(t, 20*time.Second, ro.RolloutDuration())

	ph, err := Parse("t.yaml", []byte(rolloutOf("  strategy: phased\n  steps: [{weight: 10, pause: 5s}]\n")))
	require.NoError(t, err)
	assert.Equal(t, &Phased{Header: "X-Request-Id"}, ph.Rollout.Phased)
	assert.Equal(t, 1, ph.Rollout.Replicas)

	burn, err := Parse("t.yaml", []byte(rolloutOf("  steps: [{weight: 10, pause: 5s, gate: {after: 2s, action: approve}}]\n  triggers: {health: false, burn_rate: {objective: 0.999}}\n")))
	require.NoError(t, err)
	assert.False(t, burn.Rollout.HealthTrigger())
	assert.Equal(t, Duration(5*time.Second), burn.Rollout.Triggers.BurnRate.Window, "30s of traffic / 6")
	assert.Equal(t, 12*time.Second, burn.RolloutDuration(), "the gate's wait counts")
	a := burn.Rollout.Steps[0].Analysis
	assert.Equal(t, JudgeSequential, a.Judge)
	assert.Equal(t, 0.05, a.Alpha)
}

func TestRolloutInvalid(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		at   string
		msg  string
	}{
		{"unknown strategy", rolloutOf("  strategy: bluegreen\n  steps: [{weight: 10, pause: 5s}]\n"), "bluegreen",
			`unknown strategy "bluegreen"; did you mean "blue_green"?`},
		{"options of another strategy", rolloutOf("  steps: [{weight: 10, pause: 5s}]\n  rolling: {max_surge: 2}\n"), "rolling:",
			"options of strategy rolling, but the strategy is canary"},
		{"steps on blue_green", rolloutOf("  strategy: blue_green\n  steps: [{weight: 10, pause: 5s}]\n"), "steps:",
			"blue_green rollouts have no steps"},
		{"canary without steps", rolloutOf("  strategy: canary\n"), "rollout:", "the rollout has no steps"},
		{"bad preview", rolloutOf("  strategy: blue_green\n  blue_green: {preview: shadow}\n"), "shadow", `unknown preview "shadow"`},
		{"mirror percent", rolloutOf("  strategy: blue_green\n  blue_green: {mirror_percent: 150}\n"), "150", "150 is not a percentage"},
		{"blue_green too long", rolloutOf("  strategy: blue_green\n  blue_green: {preview_for: 20s, scale_down_delay: 10s}\n"), "rollout:",
			"the rollout needs 35s (start_at 5s + the blue_green strategy's waits 30s) but traffic.duration is 30s"},
		{"rolling takes everything down", rolloutOf("  strategy: rolling\n  rolling: {max_unavailable: 1}\n"), "1}\n",
			"1 with max_surge 0 would take all 1 instances of a down at once"},
		{"negative surge", rolloutOf("  strategy: rolling\n  rolling: {max_surge: -1, max_unavailable: 1}\n"), "-1", "must be 0 or more"},
		{"header and cookie", rolloutOf("  strategy: phased\n  steps: [{weight: 10, pause: 5s}]\n  phased: {header: X-User, cookie: sid}\n"), "sid",
			"a header or a cookie, not both"},
		{"bad header", rolloutOf("  strategy: phased\n  steps: [{weight: 10, pause: 5s}]\n  phased: {header: \"X User\"}\n"), "\"X User", "is not a header name"},
		{"gate action", rolloutOf("  steps: [{weight: 10, pause: 5s, gate: {after: 1s, action: rollback}}]\n"), "rollback}", `unknown action "rollback"`},
		{"decision needs manual", rolloutOf("  steps: [{weight: 10, pause: 5s}]\n  decision: {after: 1s, action: rollback}\n"), "decision:",
			"a decision answers the alert of rollback: manual"},
		{"decision action", rolloutOf("  rollback: manual\n  steps: [{weight: 10, pause: 5s}]\n  decision: {after: 1s, action: approve}\n"), "approve",
			`unknown action "approve"`},
		{"judge", rolloutOf("  steps: [{weight: 10, pause: 5s}]\n  analysis: {judge: bayes}\n"), "bayes", `unknown judge "bayes"`},
		{"alpha", rolloutOf("  steps: [{weight: 10, pause: 5s}]\n  analysis: {alpha: 0.7}\n"), "0.7", "0.7 is not a false-alarm rate"},
		{"error margin", rolloutOf("  steps: [{weight: 10, pause: 5s}]\n  analysis: {error_margin: 1.5}\n"), "1.5", "is not an error-rate increase"},
		{"burn objective", rolloutOf("  steps: [{weight: 10, pause: 5s}]\n  triggers: {burn_rate: {objective: 99.9}}\n"), "99.9", "is not an SLO objective"},
		{"mitigation flag", rolloutOf("  steps: [{weight: 10, pause: 5s}]\n  mitigation: {flag: \"bad flag\"}\n"), "\"bad flag", "is not a flag name"},
		{"fault step beyond batches", strings.Replace(rolloutOf("  strategy: rolling\n"), "fixture: httpsvc\n    depends_on", "fixture: httpsvc\n    replicas: 2\n    depends_on", 1) +
			"faults:\n  - {kind: latency, edge: a -> b, latency: 10ms, step: 3, at: 0s, duration: 1s}\n", "3,", "the rollout has 2 step(s), so step 3 never starts"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { requireErrorAt(t, tc.yaml, tc.at, tc.msg) })
	}
}

// Every rollout example is valid and, loaded twice, identical (defaults
// are idempotent).
func TestStrategyExamplesValid(t *testing.T) {
	for _, f := range []string{"bluegreen", "bluegreen-healthy", "rolling", "rolling-healthy", "phased", "phased-healthy",
		"canary-healthy", "canary-flag", "canary-manual"} {
		s, err := Load("examples/" + f + ".yaml")
		require.NoError(t, err, f)
		require.NotNil(t, s.Rollout, f)
		assert.LessOrEqual(t, s.Traffic.Duration.D(), 30*time.Second, "%s: at most 30 s of traffic", f)
		assert.LessOrEqual(t, s.RolloutDuration(), s.Traffic.Duration.D(), f)
	}
}
