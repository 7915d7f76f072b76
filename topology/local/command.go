package local

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/cluster"
	"github.com/firedrill/firedrill/topology/proc"
)

// Instance makes (does not start) one instance: a free port, its command
// line and environment, its log file.
func (l *launcher) Instance(s *cluster.Service, d topology.Deployment, index int) (cluster.Instance, error) {
	port, err := proc.FreePort()
	if err != nil {
		return nil, &InfraError{Service: s.Name(), Err: err}
	}
	in := &instance{
		l:       l,
		service: s.Name(),
		version: d.Version,
		index:   index,
		name:    fmt.Sprintf("%s-%s-%d", s.Name(), d.Version, index),
		port:    port,
		addr:    fmt.Sprintf("127.0.0.1:%d", port),
		op:      cluster.NewOpLock(),
		died:    make(chan struct{}),
	}
	in.logPath = filepath.Join(l.logDir, in.name+".log")
	in.argv, in.env, err = l.command(s, d, in)
	if err != nil {
		return nil, fmt.Errorf("service %s: instance %s: %w", s.Name(), in.name, err)
	}
	return in, nil
}

// command builds an instance's argv and environment.
func (l *launcher) command(s *cluster.Service, d topology.Deployment, in *instance) (argv, env []string, err error) {
	spec := s.Spec
	r := &renderer{
		data: scenarios.TemplateData{Port: in.port, Host: "127.0.0.1", Service: spec.Name, Version: d.Version, Instance: in.name, Index: in.index},
		deps: s.Deps,
	}
	if spec.Config != "" {
		if err := l.writeConfig(r, spec.Config, in.name); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case spec.Fixture != "":
		bin := l.opts.Binary
		if bin == "" {
			if bin, err = os.Executable(); err != nil {
				return nil, nil, &InfraError{Service: spec.Name, Err: fmt.Errorf("find the firedrill binary for fixture %s: %w; set Options.Binary", spec.Fixture, err)}
			}
		}
		argv = []string{bin, "fixture", spec.Fixture, "--port", portString(in.port), "--service", spec.Name,
			"--version", d.Version, "--instance", in.name}
		for _, dep := range spec.DependsOn {
			if l.sc.Database(dep) != nil { // the fixture's schema-aware mode (fixtures/httpsvc/store.go)
				argv = append(argv, "--db", s.Deps[dep])
				continue
			}
			argv = append(argv, "--dep", dep+"="+s.Deps[dep])
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
	if spec.Fixture != "" && l.sc != nil { // the run's seed, unless the service's env or --seed says otherwise
		env = append(env, fmt.Sprintf("%s=%d", cluster.SeedEnv, cluster.InstanceSeed(l.sc.Seed, in.name)))
	}
	for _, e := range []map[string]string{spec.Env, d.Env} {
		kv, err := r.renderEnv(e)
		if err != nil {
			return nil, nil, err
		}
		env = append(env, kv...)
	}
	env = append(env,
		proc.RunIDEnv+"="+l.opts.RunID,
		"FIREDRILL_SERVICE="+spec.Name,
		"FIREDRILL_VERSION="+d.Version,
		"FIREDRILL_INSTANCE="+in.name,
		"PORT="+portString(in.port),
	)
	return argv, env, nil
}

// event adds an instance's lifecycle event.
func (l *launcher) event(kind string, in *instance, msg string, fields map[string]any) {
	if l.opts.Events == nil {
		return
	}
	if fields == nil {
		fields = map[string]any{}
	}
	fields["version"] = in.version
	fields["addr"] = in.addr
	l.opts.Events.Add(record.Event{Kind: kind, Service: in.service, Target: in.name, Message: msg, Fields: fields})
}

// writeConfig renders a service's config: template into the instance's own
// directory (beside its log), so that {{.Config}} and {{.Dir}} can name it
// in the command.
func (l *launcher) writeConfig(r *renderer, text, name string) error {
	dir := filepath.Join(l.logDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &InfraError{Service: r.data.Service, Err: fmt.Errorf("create the instance directory %s: %w", dir, err)}
	}
	r.data.Dir, r.data.Config = dir, filepath.Join(dir, "config")
	body, err := r.render(text)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := os.WriteFile(r.data.Config, []byte(body), 0o644); err != nil {
		return &InfraError{Service: r.data.Service, Err: fmt.Errorf("write %s: %w", r.data.Config, err)}
	}
	return nil
}
