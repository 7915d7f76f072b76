package docker

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
)

// DefaultPort is the port an instance listens on inside its container when
// nothing says otherwise (fixtures always use it).
const DefaultPort = 8080

// DefaultStartTimeout bounds an instance's start when its service sets none;
// longer than the local runtime's since a container has more to do.
const DefaultStartTimeout = 60 * time.Second

// ContainerSpec is what the docker runtime needs to know about a service
// beyond scenarios.Service. Config.Spec maps scenario fields onto it; the
// zero value means: defaults.
type ContainerSpec struct {
	// Port the service listens on inside its container. Default: fixtures
	// 8080; images their only EXPOSEd TCP port, else 8080.
	Port int
	// Entrypoint replaces the image's entrypoint (image services).
	Entrypoint []string
	// StartupExec is a command run inside the container until it exits 0,
	// before the router's health check decides (image services).
	StartupExec []string
	// StartupLog is a line (a regular expression) the container logs once it
	// is ready, waited for before the router's health check decides.
	StartupLog string
}

// startTimeout of a service's instances.
func startTimeout(spec *scenarios.Service) time.Duration {
	if d := spec.StartTimeout.D(); d > 0 {
		return d
	}
	return DefaultStartTimeout
}

// launchSpec is everything needed to create one instance's container.
type launchSpec struct {
	Image      string
	Entrypoint []string
	Cmd        []string
	Env        map[string]string
	Port       int
}

// launch builds an instance's container command and environment: the same
// template data as the local runtime, with Host 0.0.0.0, the container port,
// and dependencies at dataplane:<edge proxy port>.
func launch(spec *scenarios.Service, cs ContainerSpec, d topology.Deployment, runID, instance, fdImage string, deps map[string]string, dbs map[string]bool) (launchSpec, error) {
	ls := launchSpec{Port: cs.Port, Env: map[string]string{}}
	data := scenarios.TemplateData{Port: ls.Port, Host: "0.0.0.0", Service: spec.Name, Version: d.Version, Instance: instance, Index: index(instance)}
	dep := func(name string) string { return deps[name] }
	render := func(list []string) ([]string, error) {
		if len(list) == 0 {
			return nil, nil // nil, not empty: an empty entrypoint would clear the image's
		}
		out := make([]string, 0, len(list))
		for _, a := range list {
			s, err := scenarios.RenderTemplate(a, data, dep)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	var err error
	switch {
	case spec.Fixture != "":
		ls.Image = fdImage
		ls.Cmd = []string{"fixture", spec.Fixture, "--host", "0.0.0.0", "--port", strconv.Itoa(ls.Port),
			"--service", spec.Name, "--version", d.Version, "--instance", instance}
		for _, name := range spec.DependsOn {
			if dbs[name] { // the fixture's schema-aware mode (fixtures/httpsvc/store.go)
				ls.Cmd = append(ls.Cmd, "--db", deps[name])
				continue
			}
			ls.Cmd = append(ls.Cmd, "--dep", name+"="+deps[name])
		}
	case spec.Image != "":
		ls.Image = spec.Image
		if ls.Entrypoint, err = render(cs.Entrypoint); err != nil {
			return ls, err
		}
		if ls.Cmd, err = render(spec.Command); err != nil {
			return ls, err
		}
	default:
		return ls, fmt.Errorf("service %s has no fixture and no image; the docker runtime runs only those (a command runs on the local runtime)", spec.Name)
	}
	for _, args := range [][]string{spec.Args, d.Args} {
		extra, err := render(args)
		if err != nil {
			return ls, err
		}
		ls.Cmd = append(ls.Cmd, extra...)
	}
	if len(ls.Cmd) == 0 {
		ls.Cmd = nil // the image's own CMD
	}
	for _, env := range []map[string]string{spec.Env, d.Env} {
		for _, k := range slices.Sorted(maps.Keys(env)) {
			v, err := scenarios.RenderTemplate(env[k], data, dep)
			if err != nil {
				return ls, fmt.Errorf("env %s: %w", k, err)
			}
			ls.Env[k] = v
		}
	}
	ls.Env["FIREDRILL_RUN_ID"] = runID
	ls.Env["FIREDRILL_SERVICE"] = spec.Name
	ls.Env["FIREDRILL_VERSION"] = d.Version
	ls.Env["FIREDRILL_INSTANCE"] = instance
	ls.Env["PORT"] = strconv.Itoa(ls.Port)
	return ls, nil
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// dnsName turns an instance name into a network alias: lower case, letters,
// digits and '-' only.
func dnsName(s string) string {
	s = strings.Trim(notDNS.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 63 {
		s = s[:63]
	}
	return s
}

// index is an instance's number, the suffix of its name (service-version-N).
func index(instance string) int {
	n, _ := strconv.Atoi(instance[strings.LastIndex(instance, "-")+1:])
	return n
}
