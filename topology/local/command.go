package local

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
)

// newInstance prepares (does not start) one instance; t.mu must be held.
func (t *topo) newInstance(s *service, d topology.Deployment, index int) (*instance, error) {
	port, err := freePort()
	if err != nil {
		return nil, &InfraError{Service: s.spec.Name, Err: err}
	}
	in := &instance{
		t:       t,
		service: s.spec.Name,
		version: d.Version,
		index:   index,
		name:    fmt.Sprintf("%s-%s-%d", s.spec.Name, d.Version, index),
		port:    port,
		addr:    fmt.Sprintf("127.0.0.1:%d", port),
		op:      topology.NewOpLock(),
	}
	in.logPath = filepath.Join(t.logDir, in.name+".log")
	in.argv, in.env, err = t.command(s, d, in)
	if err != nil {
		return nil, fmt.Errorf("service %s: instance %s: %w", s.spec.Name, in.name, err)
	}
	return in, nil
}

// command builds an instance's argv and environment.
func (t *topo) command(s *service, d topology.Deployment, in *instance) (argv, env []string, err error) {
	spec := s.spec
	r := &renderer{
		data: scenarios.TemplateData{Port: in.port, Host: "127.0.0.1", Service: spec.Name, Version: d.Version, Instance: in.name},
		deps: s.deps,
	}
	switch {
	case spec.Fixture != "":
		bin := t.opts.Binary
		if bin == "" {
			if bin, err = os.Executable(); err != nil {
				return nil, nil, &InfraError{Service: spec.Name, Err: fmt.Errorf("find the firedrill binary for fixture %s: %w; set Options.Binary", spec.Fixture, err)}
			}
		}
		argv = []string{bin, "fixture", spec.Fixture, "--port", portString(in.port), "--service", spec.Name,
			"--version", d.Version, "--instance", in.name}
		for _, dep := range spec.DependsOn {
			if t.sc.Database(dep) != nil { // the fixture's schema-aware mode (fixtures/httpsvc/store.go)
				argv = append(argv, "--db", s.deps[dep])
				continue
			}
			argv = append(argv, "--dep", dep+"="+s.deps[dep])
		}
	case len(spec.Command) > 0:
		if argv, err = r.renderAll(spec.Command); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("service %s has neither fixture nor command; the local runtime cannot run an image", spec.Name)
	}
	for _, args := range [][]string{spec.Args, d.Args} {
		extra, err := r.renderAll(args)
		if err != nil {
			return nil, nil, err
		}
		argv = append(argv, extra...)
	}
	// Later entries win (os/exec keeps the last value of a key).
	env = os.Environ()
	for _, e := range []map[string]string{spec.Env, d.Env} {
		kv, err := r.renderEnv(e)
		if err != nil {
			return nil, nil, err
		}
		env = append(env, kv...)
	}
	env = append(env,
		"FIREDRILL_RUN_ID="+t.opts.RunID,
		"FIREDRILL_SERVICE="+spec.Name,
		"FIREDRILL_VERSION="+d.Version,
		"FIREDRILL_INSTANCE="+in.name,
		"PORT="+portString(in.port),
	)
	return argv, env, nil
}

func replicas(n int) int { return max(n, 1) }

// proxyName names an edge's Toxiproxy proxy: "a__b", with anything but
// letters, digits, '-' and '.' turned into '_' (the name goes into URLs).
func proxyName(e scenarios.Edge) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
				return r
			}
			return '_'
		}, s)
	}
	return clean(e.From) + "__" + clean(e.To)
}

// dependencyOrder returns the services with every dependency before its
// dependents, otherwise in file order.
func dependencyOrder(sc *scenarios.Scenario) ([]*scenarios.Service, error) {
	byName := map[string]*scenarios.Service{}
	for _, s := range sc.Services {
		byName[s.Name] = s
	}
	const (
		unseen = iota
		visiting
		done
	)
	state := map[string]int{}
	var out []*scenarios.Service
	var visit func(s *scenarios.Service, path []string) error
	visit = func(s *scenarios.Service, path []string) error {
		switch state[s.Name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("dependency cycle: %s; break it in depends_on", strings.Join(append(path, s.Name), " -> "))
		}
		state[s.Name] = visiting
		for _, d := range s.DependsOn {
			ds := byName[d]
			if ds == nil && sc.Database(d) != nil {
				continue // databases are up before the topology
			}
			if ds == nil {
				return fmt.Errorf("service %s depends on %s, which is not in the scenario; add it or fix depends_on", s.Name, d)
			}
			if err := visit(ds, append(path, s.Name)); err != nil {
				return err
			}
		}
		state[s.Name] = done
		out = append(out, s)
		return nil
	}
	for _, s := range sc.Services {
		if err := visit(s, nil); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the scenario has no services; add at least one")
	}
	return out, nil
}
