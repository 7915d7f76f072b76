package local

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/cluster"
)

func TestRenderer(t *testing.T) {
	r := &renderer{
		data: scenarios.TemplateData{Port: 8080, Host: "127.0.0.1", Service: "web", Version: "v2", Instance: "web-v2-0"},
		deps: map[string]string{"db": "127.0.0.1:5432"},
	}
	cases := []struct{ in, want, err string }{
		{"--port={{.Port}}", "--port=8080", ""},
		{"{{.Host}}:{{.Port}}/{{.Service}}/{{.Version}}/{{.Instance}}", "127.0.0.1:8080/web/v2/web-v2-0", ""},
		{`{{dep "db"}}`, "127.0.0.1:5432", ""},
		{`{{depurl "db"}}/x`, "http://127.0.0.1:5432/x", ""},
		{"no template {here}", "no template {here}", ""},
		{`{{dep "cache"}}`, "", `"cache" is not a dependency`},
		{"{{.Nope}}", "", "Nope"},
		{"{{.Port", "", "template"},
	}
	for _, tc := range cases {
		got, err := r.render(tc.in)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got)
	}
	// An unknown dep does not poison the next render.
	got, err := r.render(`{{dep "db"}}`)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:5432", got)
}

// lastEnv is the value a child sees: os/exec keeps the last of duplicates.
func lastEnv(env []string, key string) (string, bool) {
	v, ok := "", false
	for _, kv := range env {
		if k, val, _ := strings.Cut(kv, "="); k == key {
			v, ok = val, true
		}
	}
	return v, ok
}

func TestCommandForFixtureAndCommand(t *testing.T) {
	l := &launcher{opts: topology.Options{RunID: "run-1", Binary: "/opt/firedrill"}}
	s := &cluster.Service{
		Spec: &scenarios.Service{Name: "web", Fixture: "httpsvc", DependsOn: []string{"db"},
			Args: []string{"--note={{.Port}}"}, Env: map[string]string{"UP": `{{depurl "db"}}`, "MODE": "old"}},
		Deps: map[string]string{"db": "127.0.0.1:1111"},
	}
	in := &instance{name: "web-v2-0", port: 4242}
	d := topology.Deployment{Version: "v2", Env: map[string]string{"MODE": "new-{{.Version}}"}, Args: []string{"--extra"}}
	argv, env, err := l.command(s, d, in)
	require.NoError(t, err)
	assert.Equal(t, []string{"/opt/firedrill", "fixture", "httpsvc", "--port", "4242", "--service", "web",
		"--version", "v2", "--instance", "web-v2-0", "--dep", "db=127.0.0.1:1111", "--note=4242", "--extra"}, argv)
	for k, want := range map[string]string{
		"UP": "http://127.0.0.1:1111", "MODE": "new-v2", "PORT": "4242",
		"FIREDRILL_RUN_ID": "run-1", "FIREDRILL_SERVICE": "web", "FIREDRILL_VERSION": "v2", "FIREDRILL_INSTANCE": "web-v2-0",
	} {
		got, ok := lastEnv(env, k)
		assert.True(t, ok, k)
		assert.Equal(t, want, got, k)
	}
	_, hasPath := lastEnv(env, "PATH")
	assert.Equal(t, os.Getenv("PATH") != "", hasPath, "the harness's environment is inherited")

	s.Spec = &scenarios.Service{Name: "web", Command: []string{"srv", "-listen", "{{.Host}}:{{.Port}}", `-db={{dep "db"}}`}, DependsOn: []string{"db"}}
	argv, _, err = l.command(s, topology.Deployment{Version: "v1"}, in)
	require.NoError(t, err)
	assert.Equal(t, []string{"srv", "-listen", "127.0.0.1:4242", "-db=127.0.0.1:1111"}, argv)

	s.Spec = &scenarios.Service{Name: "web", Image: "web:1"}
	_, _, err = l.command(s, topology.Deployment{Version: "v1"}, in)
	assert.ErrorContains(t, err, "cannot run an image")
}

func TestInfraErrorFormat(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "x.log")
	var b strings.Builder
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	require.NoError(t, os.WriteFile(log, []byte(b.String()), 0o644))
	tail := tailLines(log, 20)
	assert.True(t, strings.HasPrefix(tail, "line 11\n"), tail)
	assert.True(t, strings.HasSuffix(tail, "line 30"), tail)
	assert.Equal(t, "", tailLines(filepath.Join(dir, "missing"), 20))

	cause := errors.New("exited (exit status 2)")
	e := &InfraError{Service: "s", Instance: "s-v1-0", Command: []string{"sh", "-c", "echo 'hi'; exit 2"}, Log: log, LogTail: "a\nb", Err: cause}
	assert.ErrorIs(t, e, ErrInfra)
	assert.ErrorIs(t, fmt.Errorf("up: %w", e), cause)
	assert.Equal(t, "service s: instance s-v1-0: exited (exit status 2)\n"+
		`  command: sh -c 'echo '\''hi'\''; exit 2'`+"\n"+
		"  last lines of "+log+":\n    a\n    b", e.Error())
}

// A command service's config: is rendered into the instance's own
// directory before it starts; the command names it with {{.Config}}, and
// {{.Instance}} is the name, {{.Index}} the number.
func TestConfigFileAndInstanceTemplates(t *testing.T) {
	l := &launcher{opts: topology.Options{RunID: "run-1"}, logDir: t.TempDir()}
	s := &cluster.Service{
		Spec: &scenarios.Service{Name: "web", DependsOn: []string{"app"},
			Command: []string{"nginx", "-c", "{{.Config}}", "-g", "# {{.Instance}} {{.Index}}"},
			Config:  "listen {{.Host}}:{{.Port}};\nproxy_pass {{depurl \"app\"}};\npid {{.Dir}}/nginx.pid;\n"},
		Deps: map[string]string{"app": "127.0.0.1:1111"},
	}
	in := &instance{name: "web-v1-2", index: 2, port: 4242}
	argv, _, err := l.command(s, topology.Deployment{Version: "v1"}, in)
	require.NoError(t, err)
	dir := filepath.Join(l.logDir, "web-v1-2")
	assert.Equal(t, []string{"nginx", "-c", filepath.Join(dir, "config"), "-g", "# web-v1-2 2"}, argv)
	body, err := os.ReadFile(filepath.Join(dir, "config"))
	require.NoError(t, err)
	assert.Equal(t, "listen 127.0.0.1:4242;\nproxy_pass http://127.0.0.1:1111;\npid "+dir+"/nginx.pid;\n", string(body))
}
