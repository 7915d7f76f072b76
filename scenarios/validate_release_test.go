package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequestErrorClasses(t *testing.T) {
	var def *Requests
	custom := &Requests{Errors: []string{"5xx", "404"}}
	for _, tc := range []struct {
		r       *Requests
		status  int
		conn    bool
		isError bool
	}{
		{def, 500, false, true}, {def, 503, false, true}, {def, 404, false, false}, {def, 429, false, false},
		{def, 200, false, false}, {def, 0, true, true},
		{custom, 404, false, true}, {custom, 403, false, false}, {custom, 0, true, false}, {custom, 502, false, true},
	} {
		assert.Equal(t, tc.isError, tc.r.IsError(tc.status, tc.conn), "%v %d %v", tc.r, tc.status, tc.conn)
	}
}

func TestReadyTimeoutDefault(t *testing.T) {
	sc := &Scenario{Services: []*Service{{Name: "api", Health: Health{Interval: Duration(2 * time.Second)}}},
		Rollout: &Rollout{Service: "api"}}
	assert.Equal(t, 10*time.Second, sc.ReadyTimeoutFor(), "5 health intervals")
	sc.Services[0].Health.Interval = Duration(100 * time.Millisecond)
	assert.Equal(t, MinReadyTimeout, sc.ReadyTimeoutFor(), "never under the floor")
	sc.Runtime = "docker"
	assert.Equal(t, MinReadyTimeoutDocker, sc.ReadyTimeoutFor(), "containers take longer to start")
	sc.Rollout.ReadyTimeout = Duration(time.Second)
	assert.Equal(t, time.Second, sc.ReadyTimeoutFor(), "the file's value")
}

func TestRequestErrorsValidated(t *testing.T) {
	text := strings.Replace(base, "  b:\n    fixture: httpsvc\n", "  b:\n    fixture: httpsvc\n    requests: {errors: [5xx, 4x4]}\n", 1)
	requireErrorAt(t, text, "4x4", "is not a status class, a status or connection")
	ok := strings.Replace(base, "  b:\n    fixture: httpsvc\n", "  b:\n    fixture: httpsvc\n    requests: {errors: [5xx, 404, connection]}\n", 1)
	_, err := Parse("ok.yaml", []byte(ok))
	require.NoError(t, err)
}

// A command service on the docker runtime is refused at its line, whether
// the file or --runtime says docker.
func TestCommandRefusedOnDocker(t *testing.T) {
	text := strings.Replace(base, "  b:\n    fixture: httpsvc\n", "  b:\n    command: [sleep, \"60\"]\n", 1)
	_, err := Parse("local.yaml", []byte(text))
	require.NoError(t, err, "fine on the local runtime")
	requireErrorAt(t, "runtime: docker\n"+text, "[sleep", "the docker runtime runs fixtures and images, not host commands")
	_, err = parseFor("case.yaml", []byte(text), "docker")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "case.yaml:"+lineCol(t, text, "[sleep")+": services.b.command: the docker runtime runs fixtures and images")
}

// The canary: 3 s + 3 x 8 s in 28 s fits only if the new version
// is ready at once; on docker, where a container takes seconds to start,
// it does not (locally the half second it gets fits).
func TestRolloutMustFitWithReadiness(t *testing.T) {
	rollout := `rollout:
  service: a
  to: v2
  start_at: 3s
  steps:
    - {weight: 10, pause: 8s}
    - {weight: 50, pause: 8s}
    - {weight: 100, pause: 8s}
`
	tight := strings.Replace(base, "duration: 30s", "duration: 28s", 1) + rollout
	_, err := Parse("local.yaml", []byte(tight))
	require.NoError(t, err, "27.5 s in 28 s fits locally")
	requireErrorAt(t, "runtime: docker\n"+tight, "rollout:", "the rollout needs 29s (start_at 3s + the new version's readiness 2s: 1 deploy(s) x (2s to start on the docker runtime + healthy_after-1 health intervals) + the strategy's waits 24s) but traffic.duration is 28s")
	slow := strings.Replace(tight, "    fixture: httpsvc\n    depends_on: [b]\n", "    fixture: httpsvc\n    depends_on: [b]\n    health: {healthy_after: 3}\n", 1)
	requireErrorAt(t, slow, "rollout:", "the rollout needs 29.5s (start_at 3s + the new version's readiness 2.5s")
}
