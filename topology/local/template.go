package local

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/firedrill/firedrill/scenarios"
)

// renderer renders one instance's arguments and env values, resolving dep to
// the addresses of its service's edge proxies.
type renderer struct {
	data scenarios.TemplateData
	deps map[string]string // dependency -> its edge proxy's host:port
}

// dep returns "" for a name that is not a dependency, which
// scenarios.RenderTemplate turns into an error.
func (r *renderer) dep(name string) string { return r.deps[name] }

func (r *renderer) render(text string) (string, error) {
	return scenarios.RenderTemplate(text, r.data, r.dep)
}

func (r *renderer) renderAll(args []string) ([]string, error) {
	out := make([]string, 0, len(args))
	for _, a := range args {
		s, err := r.render(a)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// renderEnv returns KEY=value lines sorted by key, values rendered.
func (r *renderer) renderEnv(env map[string]string) ([]string, error) {
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		v, err := r.render(env[k])
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", k, err)
		}
		out = append(out, k+"="+v)
	}
	return out, nil
}

// portString is a port for a command line.
func portString(p int) string { return strconv.Itoa(p) }
