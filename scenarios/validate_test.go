package scenarios

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// base is a small valid scenario; cases append to it or rewrite it. Its
// last line is 11, so appended text starts on line 12.
const base = `name: t
services:
  a:
    fixture: httpsvc
    depends_on: [b]
  b:
    fixture: httpsvc
traffic:
  entry: a
  rate: 10
  duration: 30s
`

// withRollout appends a two-step rollout of a (lines 12-17).
const withRollout = base + `rollout:
  service: a
  to: v2
  steps:
    - {weight: 10, pause: 5s}
    - {weight: 50, pause: 5s}
`

// lineCol is where needle starts in text, counted independently of the
// parser: the expected position of each case is the text it points at.
func lineCol(t *testing.T, text, needle string) string {
	t.Helper()
	require.Equal(t, 1, strings.Count(text, needle), "needle %q must occur exactly once", needle)
	before := text[:strings.Index(text, needle)]
	line := strings.Count(before, "\n") + 1
	col := len(before) - strings.LastIndex(before, "\n")
	return fmt.Sprintf("%d:%d", line, col)
}

// requireErrorAt parses text as case.yaml and requires an error line at
// the position of needle (see lineCol) that contains msg.
func requireErrorAt(t *testing.T, text, needle, msg string) {
	t.Helper()
	s, err := Parse("case.yaml", []byte(text))
	require.Error(t, err)
	assert.Nil(t, s)
	assert.True(t, IsInvalid(err))
	want := "case.yaml:" + lineCol(t, text, needle) + ": "
	for _, line := range strings.Split(err.Error(), "\n") {
		if strings.HasPrefix(line, want) && strings.Contains(line, msg) {
			return
		}
	}
	t.Fatalf("no error at %s containing %q; got:\n%v", want, msg, err)
}

func TestBaseIsValid(t *testing.T) {
	for _, text := range []string{base, withRollout} {
		_, err := Parse("t.yaml", []byte(text))
		require.NoError(t, err)
	}
}

func TestInvalid(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		at   string // the text the error points at
		msg  string // a fragment of the message
	}{
		// decoding
		{"unknown top-level key", strings.Replace(base, "services:", "servics:", 1), "servics:", `unknown key "servics"; did you mean "services"?`},
		{"unknown service key", strings.Replace(base, "depends_on: [b]", "dependsOn: [b]", 1), "dependsOn", `did you mean "depends_on"?`},
		{"unknown key lists valid ones", base + "faults:\n  - kind: down\n    edge: a -> b\n    duration: 1s\n    colour: red\n", "colour", "valid keys are: name, kind, edge"},
		{"string where number", strings.Replace(base, "rate: 10", "rate: fast", 1), "fast", `traffic.rate: must be a number, not "fast"`},
		{"string where whole number", strings.Replace(base, "depends_on: [b]", "replicas: two", 1), "two", "must be a whole number"},
		{"scalar where list", strings.Replace(base, "depends_on: [b]", "depends_on: b", 1), "b\n  b:", "must be a list, not \"b\"; write depends_on: [b]"},
		{"mapping where scalar", strings.Replace(base, "entry: a", "entry: {name: a}", 1), "{name", "must be a single value, not a mapping"},
		{"duration without unit", strings.Replace(base, "duration: 30s", "duration: 30", 1), "30\n", "30 has no unit; write e.g. 30s"},
		{"duration unreadable", strings.Replace(base, "duration: 30s", "duration: 30 seconds", 1), "30 seconds", `"30 seconds" is not a duration`},
		{"never is only for restart_after", base + "faults:\n  - kind: down\n    edge: a -> b\n    at: never\n    duration: 1s\n", "never", `"never" is not a duration; write e.g. 250ms`},
		{"duplicate service", strings.Replace(base, "  b:\n", "  a:\n", 1), "a:\n    fixture: httpsvc\ntraffic", `"a" is already defined on line 3; a key may appear once per mapping`},
		{"not YAML", "name: [unclosed\n", "[", "this [ is never closed"},
		{"not YAML, all closed", "a: b: c\n", "b: c", "this is not valid YAML"},
		{"not a mapping", "just some words\n", "just", `this is not a scenario: the top level must be keys such as name:, services:, traffic:, not "just some words"`},
		{"a list", "- name: x\n", "-", `this is not a scenario: the top level must be keys such as name:, services:, traffic:, not a list`},
		{"binary", "name: t\n\x89PNG\r\n", "\x89", "this is not a text file"},
		{"traffic missing", "name: t\nservices: {a: {fixture: httpsvc}}\n", "name", "traffic: is missing; write e.g. traffic: {entry: gateway, rate: 100, duration: 60s}"},
		{"empty file", "# nothing here\n", "#", "the file is empty"},
		{"two documents", base + "---\nname: other\n", "---", "put one scenario per file"},
		{"unknown alias", strings.Replace(base, "rate: 10", "rate: *r", 1), "*r", "alias *r refers to no anchor"},

		// scenario and services
		{"name missing", strings.Replace(base, "name: t\n", "", 1), "services:", "name: is missing; write e.g. name:"},
		{"runtime unknown", "runtime: podman\n" + base, "podman", `unknown runtime "podman"`},
		{"nothing to run", strings.Replace(base, "  b:\n    fixture: httpsvc\n", "  b:\n    replicas: 1\n", 1), "b:\n    replicas", "says nothing to run; give exactly one of fixture"},
		{"two things to run", strings.Replace(base, "  b:\n    fixture: httpsvc\n", "  b:\n    fixture: httpsvc\n    command: [sh]\n", 1), "b:\n    fixture", "has fixture and command; give exactly one"},
		{"unknown fixture", strings.Replace(base, "  b:\n    fixture: httpsvc", "  b:\n    fixture: httpsv", 1), "httpsv\n", `unknown fixture "httpsv"; did you mean "httpsvc"?`},
		{"program not found", strings.Replace(base, "  b:\n    fixture: httpsvc", "  b:\n    command: [no-such-program-firedrill]", 1), "no-such-program-firedrill", `program "no-such-program-firedrill" is not on PATH`},
		{"program path missing", strings.Replace(base, "  b:\n    fixture: httpsvc", "  b:\n    command: [./no/such/server]", 1), "./no/such", "does not exist or is not executable"},
		{"template does not parse", strings.Replace(base, "  b:\n    fixture: httpsvc", "  b:\n    command: [sh, -c, 'serve {{.Port']", 1), "'serve", "unclosed action"},
		{"template unknown field", strings.Replace(base, "  b:\n    fixture: httpsvc", "  b:\n    command: [sh, '{{.Prot}}']", 1), "'{{.Prot}}'", "can't evaluate field Prot"},
		{"template dep not a dependency", strings.Replace(base, "depends_on: [b]", "depends_on: [b]\n    env: {PAY: '{{dep \"c\"}}'}", 1), "'{{dep", `"c" is not a dependency of a (its dependencies are b)`},
		{"env name", strings.Replace(base, "depends_on: [b]", "depends_on: [b]\n    env: {1BAD: x}", 1), "x}", `"1BAD" is not an environment variable name`},
		{"container fault on local runtime", base + "faults:\n  - kind: partition\n    service: b\n    duration: 1s\n", "partition", "partition needs the docker runtime"},
		{"image on local runtime", strings.Replace(base, "  b:\n    fixture: httpsvc", "  b:\n    image: payments:1", 1), "payments:1", "images run only on the docker runtime"},
		{"replicas zero or less", strings.Replace(base, "depends_on: [b]", "replicas: -1", 1), "-1", "must be at least 1, not -1"},
		{"depends on unknown", strings.Replace(base, "depends_on: [b]", "depends_on: [c]", 1), "c]", `no service named "c"; services are: a, b`},
		{"depends on itself", strings.Replace(base, "depends_on: [b]", "depends_on: [a]", 1), "a]", "a depends on itself"},
		{"cycle", strings.Replace(base, "  b:\n    fixture: httpsvc", "  b:\n    fixture: httpsvc\n    depends_on: [a]", 1), "a]", "dependency cycle a -> b -> a"},
		{"health path", strings.Replace(base, "depends_on: [b]", "depends_on: [b]\n    health: {http: healthz}", 1), "healthz}", `"healthz" is not a path`},

		// traffic
		{"entry missing", strings.Replace(base, "  entry: a\n", "", 1), "traffic:", "traffic.entry: is missing; write e.g. entry: gateway"},
		{"entry unknown", strings.Replace(base, "entry: a", "entry: A", 1), "A\n", `no service named "A"; did you mean "a"?`},
		{"entry unknown far", strings.Replace(base, "entry: a", "entry: front", 1), "front", `no service named "front"; services are: a, b`},
		{"rate zero", strings.Replace(base, "rate: 10", "rate: 0", 1), "0\n", "traffic.rate: must be greater than 0"},
		{"rate negative", strings.Replace(base, "rate: 10", "rate: -3", 1), "-3", "must be greater than 0"},
		{"rate infinite", strings.Replace(base, "rate: 10", "rate: .inf", 1), ".inf", "must be a finite number"},
		{"traffic duration missing", strings.Replace(base, "  duration: 30s\n", "", 1), "traffic:", "traffic.duration: is missing"},
		{"traffic duration negative", strings.Replace(base, "duration: 30s", "duration: -30s", 1), "-30s", "-30s is negative"},
		{"method", strings.Replace(base, "rate: 10", "rate: 10\n  method: FETCH", 1), "FETCH", `unknown method "FETCH"`},

		// rollout
		{"rollout service unknown", strings.Replace(withRollout, "service: a\n  to", "service: z\n  to", 1), "z\n", `rollout.service: no service named "z"`},
		{"rollout to is current version", strings.Replace(withRollout, "to: v2", "to: v1", 1), "v1", "a already runs version v1"},
		{"rollout without steps", base + "rollout:\n  service: a\n  to: v2\n", "rollout:", "the rollout has no steps"},
		{"weight above 100", strings.Replace(withRollout, "weight: 50", "weight: 120", 1), "120", "120 is not a percentage"},
		{"weights not increasing", strings.Replace(withRollout, "weight: 50", "weight: 5", 1), "5, pause", "5 does not grow (the step before routes 10%)"},
		{"step pause missing", strings.Replace(withRollout, "{weight: 50, pause: 5s}", "{weight: 50}", 1), "{weight: 50}", "rollout.steps[1].pause: is missing"},
		{"strategy", strings.Replace(withRollout, "to: v2", "to: v2\n  strategy: canery", 1), "canery", `did you mean "canary"?`},
		{"analysis ratio", withRollout + "  analysis: {max_error_rate: 5}\n", "5}", "5 is not a ratio"},
		{"rollout longer than traffic", strings.Replace(withRollout, "pause: 5s}\n    - {weight: 50, pause: 5s}", "pause: 15s}\n    - {weight: 50, pause: 15s}", 1), "rollout:", "the rollout needs 35s (start_at 5s + pauses 30s) but traffic.duration is 30s"},

		// faults
		{"fault kind unknown close", base + "faults:\n  - kind: latancy\n", "latancy", `unknown fault kind "latancy"; did you mean "latency"?`},
		{"fault kind unknown far", base + "faults:\n  - kind: explode\n", "explode", "valid ones are: latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data, down, kill, pause"},
		{"fault duration missing", base + "faults:\n  - kind: down\n    edge: a -> b\n    at: 1s\n", "kind: down", "faults[0].duration: is missing"},
		{"fault duration negative", base + "faults:\n  - kind: down\n    edge: a -> b\n    duration: -1s\n", "-1s", "-1s is negative"},
		{"edge missing", base + "faults:\n  - kind: down\n    duration: 1s\n", "kind: down", "down faults need edge: A -> B (the edges are a -> b)"},
		{"edge malformed", base + "faults:\n  - kind: down\n    edge: a to b\n    duration: 1s\n", "a to b", `"a to b" is not an edge`},
		{"edge not a dependency", base + "faults:\n  - kind: down\n    edge: b -> a\n    duration: 1s\n", "b -> a", "b -> a is not a dependency edge (the edges are a -> b)"},
		{"edge to unknown service", base + "faults:\n  - kind: down\n    edge: a -> x\n    duration: 1s\n", "a -> x", "a -> x is not a dependency edge"},
		{"latency needs latency", base + "faults:\n  - kind: latency\n    edge: a -> b\n    duration: 1s\n", "kind: latency", "a latency fault needs latency greater than 0"},
		{"bandwidth needs rate", base + "faults:\n  - kind: bandwidth\n    edge: a -> b\n    duration: 1s\n", "kind: bandwidth", "needs rate_kbps greater than 0"},
		{"limit_data needs bytes", base + "faults:\n  - kind: limit_data\n    edge: a -> b\n    duration: 1s\n", "kind: limit_data", "needs bytes greater than 0"},
		{"slicer needs average size", base + "faults:\n  - kind: slicer\n    edge: a -> b\n    duration: 1s\n", "kind: slicer", "needs average_size greater than 0"},
		{"attribute of another kind", base + "faults:\n  - kind: down\n    edge: a -> b\n    duration: 1s\n    latency: 5ms\n", "5ms", "applies to latency and netem faults, not down"},
		{"toxicity above 1", base + "faults:\n  - kind: latency\n    edge: a -> b\n    latency: 5ms\n    duration: 1s\n    toxicity: 1.5\n", "1.5", "1.5 is not a share of connections"},
		{"direction unknown", base + "faults:\n  - kind: latency\n    edge: a -> b\n    latency: 5ms\n    duration: 1s\n    direction: sideways\n", "sideways", `unknown direction "sideways"; valid ones are: downstream, upstream, both`},
		{"kill needs service", base + "faults:\n  - kind: kill\n    duration: 1s\n", "kind: kill", "faults[0].service: is missing; write e.g. service: payments"},
		{"pause service unknown", base + "faults:\n  - kind: pause\n    service: zed\n    duration: 1s\n", "zed", `no service named "zed"`},
		{"instance beyond replicas", base + "faults:\n  - kind: kill\n    service: b\n    instance: 1\n    duration: 1s\n", "1\n    duration", "b has 1 instance(s) of v1, numbered from 0; instance 1 does not exist"},
		{"version never runs", base + "faults:\n  - kind: kill\n    service: b\n    version: v9\n    duration: 1s\n", "v9", `b never runs version "v9"`},
		{"step without rollout", base + "faults:\n  - kind: down\n    edge: a -> b\n    step: 1\n    duration: 1s\n", "1\n    duration", "there is no rollout"},
		{"step beyond steps", withRollout + "faults:\n  - kind: down\n    edge: a -> b\n    step: 3\n    duration: 1s\n", "3\n", "the rollout has 2 step(s), so step 3 never starts"},
		{"fault after traffic", base + "faults:\n  - kind: down\n    edge: a -> b\n    at: 40s\n    duration: 1s\n", "40s", "40s is not before the end of traffic (30s)"},
		{"overlap on an edge", base + "faults:\n  - kind: down\n    edge: a -> b\n    at: 5s\n    duration: 10s\n  - kind: latency\n    edge: a->b\n    latency: 1s\n    at: 8s\n    duration: 1s\n", "8s", "latency-1 (8s to 9s) overlaps down-0 (5s to 15s) on edge a -> b; one fault at a time per target: start it at 15s or later"},
		{"overlap on an instance", base + "faults:\n  - kind: kill\n    service: b\n    at: 5s\n    duration: 10s\n    restart_after: never\n  - kind: pause\n    service: b\n    at: 28s\n    duration: 1s\n", "28s", "pause-1 (28s to 29s) overlaps kill-0 (from 5s on)"},
		{"duplicate fault names", base + "faults:\n  - {name: x, kind: down, edge: a -> b, at: 1s, duration: 1s}\n  - {name: x, kind: down, edge: a -> b, at: 5s, duration: 1s}\n", "x, kind: down, edge: a -> b, at: 5s", `"x" is also the name of faults[0]`},

		// expectations
		{"expectation kind unknown", base + "expectations:\n  - kind: uptime\n", "uptime", `unknown expectation kind "uptime"`},
		{"availability min missing", base + "expectations:\n  - kind: availability\n", "kind: availability", "availability needs min"},
		{"availability min above 1", base + "expectations:\n  - kind: availability\n    min: 99\n", "99", "availability needs min"},
		{"p99 max missing", base + "expectations:\n  - kind: p99_latency\n", "kind: p99", "p99_latency needs max"},
		{"outcome unknown", withRollout + "expectations:\n  - kind: rollout_outcome\n    outcome: reverted\n", "reverted", `unknown outcome "reverted"; valid ones are: promoted, rolled_back, none`},
		{"outcome needs rollout", base + "expectations:\n  - kind: rollout_outcome\n    outcome: promoted\n", "promoted", "promoted needs a rollout"},
		{"rollback_within needs within", withRollout + "expectations:\n  - kind: rollback_within\n", "kind: rollback", "rollback_within needs within"},
		{"field of another expectation", base + "expectations:\n  - kind: availability\n    min: 0.9\n    max: 1s\n", "1s\n", "applies to p99_latency expectations, not availability"},
		{"empty window", base + "expectations:\n  - kind: availability\n    min: 0.9\n    from: 10s\n    to: 5s\n", "5s\n", "5s is not after from (10s)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { requireErrorAt(t, tc.yaml, tc.at, tc.msg) })
	}
}

// All problems come back at once, one per line, in file order.
func TestAllErrorsCollected(t *testing.T) {
	text := `name: t
services:
  a:
    fixture: httpsvc
    replicas: many
    depends_on: [b, c]
  b:
    fixture: httpsvc
    depends_on: [a]
traffic:
  entry: a
  rate: 0
  duration: 30s
faults:
  - kind: latency
    edge: b -> c
    duration: 1s
`
	_, err := Parse("all.yaml", []byte(text))
	require.Error(t, err)
	var es *Errors
	require.True(t, errors.As(err, &es))
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, len(*es))
	assert.Equal(t, []string{
		`all.yaml:5:15: services.a.replicas: must be a whole number, not "many"; write e.g. replicas: 2`,
		`all.yaml:6:21: services.a.depends_on[1]: no service named "c"; services are: a, b`,
		`all.yaml:9:18: services.b.depends_on[0]: dependency cycle a -> b -> a; a request would loop for ever, remove one of these dependencies`,
		`all.yaml:12:9: traffic.rate: must be greater than 0 requests per second; write e.g. rate: 100`,
		`all.yaml:15:5: faults[0].latency: a latency fault needs latency greater than 0; write e.g. latency: 100ms`,
		`all.yaml:16:11: faults[0].edge: b -> c is not a dependency edge (the edges are a -> b, a -> c, b -> a); add c to b's depends_on, or pick an existing edge`,
	}, lines)
	for _, e := range *es {
		assert.Equal(t, "all.yaml", e.File)
		var one *Error
		require.True(t, errors.As(e, &one))
	}
	var one *Error
	assert.True(t, errors.As(err, &one), "each *Error is reachable through the list")
}

func TestFaultsInDifferentStepsAreNotCompared(t *testing.T) {
	text := withRollout + `faults:
  - {kind: down, edge: a -> b, step: 1, at: 1s, duration: 3s}
  - {kind: down, edge: a -> b, step: 2, at: 1s, duration: 3s}
  - {kind: down, edge: a -> b, at: 1s, duration: 3s}
  - {kind: down, edge: a -> b, at: 4s, duration: 3s}
`
	_, err := Parse("steps.yaml", []byte(text))
	require.NoError(t, err, "step-relative faults and back-to-back absolute ones do not overlap")
}

func TestValidateBuiltInCode(t *testing.T) {
	s := &Scenario{
		Name:     "code",
		Services: []*Service{{Name: "a", Fixture: "httpsvc"}, nil},
		Traffic:  Traffic{Entry: "b", Rate: 1, Duration: Duration(10e9)},
		Faults:   []*Fault{nil},
	}
	s.ApplyDefaults()
	err := s.Validate()
	require.Error(t, err)
	assert.True(t, IsInvalid(err))
	assert.Equal(t, `<scenario>: services[1]: is nil; remove it or give it a spec
<scenario>: traffic.entry: no service named "b"; services are: a
<scenario>: faults[0]: is empty; write at least kind, at and duration`, err.Error())

	s.File = "built.yaml"
	assert.Contains(t, s.Validate().Error(), "built.yaml: traffic.entry: no service named")

	// Without ApplyDefaults, unset values are reported rather than assumed.
	bare := &Scenario{Name: "bare", Services: []*Service{{Name: "a", Fixture: "httpsvc"}},
		Traffic: Traffic{Entry: "a", Rate: 1, Duration: Duration(10e9)}}
	err = bare.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "<scenario>: runtime: unknown runtime \"\"")
	assert.Contains(t, err.Error(), "<scenario>: services.a.replicas: must be at least 1, not 0")

	bare.ApplyDefaults()
	require.NoError(t, bare.Validate())
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml")
	require.Error(t, err)
	assert.True(t, IsInvalid(err))
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), "testdata/does-not-exist.yaml: cannot read the scenario")
}

func TestIsInvalid(t *testing.T) {
	assert.False(t, IsInvalid(nil))
	assert.False(t, IsInvalid(errors.New("docker is not running")))
	assert.True(t, IsInvalid(fmt.Errorf("load: %w", &Errors{{Msg: "x"}})))
	assert.True(t, IsInvalid(&Error{Msg: "x"}))
}
