package scenarios

import (
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
)

// Fixtures are the built-in sample services a service may name.
var Fixtures = []string{"httpsvc"}

func (c *checker) services() {
	if len(c.s.Services) == 0 {
		c.atKey("services", "no services; add at least one, e.g. services: {web: {fixture: httpsvc}}")
		return
	}
	seen := map[string]bool{}
	for i, svc := range c.s.Services {
		if svc == nil {
			c.at(fmt.Sprintf("services[%d]", i), "is nil; remove it or give it a spec")
			continue
		}
		p := child("services", svc.Name)
		if seen[svc.Name] {
			c.atKey(p, "service %q is defined twice; give each service a unique name", svc.Name)
			continue
		}
		seen[svc.Name] = true
		c.service(svc, p)
	}
}

func (c *checker) service(svc *Service, p string) {
	if !serviceName.MatchString(svc.Name) {
		c.atKey(p, "service name %q: use lower-case letters, digits, '-' and '_', starting with a letter, at most 63 (it becomes a process, container and host name)", svc.Name)
	}
	var kinds []string
	if svc.Fixture != "" {
		kinds = append(kinds, "fixture")
	}
	if len(svc.Command) > 0 {
		kinds = append(kinds, "command")
	}
	if svc.Image != "" {
		kinds = append(kinds, "image")
	}
	switch len(kinds) {
	case 0:
		c.atKey(p, "says nothing to run; give exactly one of fixture: httpsvc, command: [program, args...] or image: name")
	case 1:
	default:
		c.atKey(p, "has %s; give exactly one of fixture, command or image", strings.Join(kinds, " and "))
	}
	if svc.Fixture != "" && !slices.Contains(Fixtures, svc.Fixture) {
		c.at(p+".fixture", "unknown fixture %q; %s", svc.Fixture, c.didYouMean(svc.Fixture, Fixtures, "fixtures are"))
	}
	if len(svc.Command) > 0 {
		c.program(p+".command[0]", svc.Command[0])
		for i, arg := range svc.Command {
			c.template(fmt.Sprintf("%s.command[%d]", p, i), arg, svc, svc.Version)
		}
	}
	if svc.Image != "" && c.s.Runtime == "local" {
		c.at(p+".image", "images run only on the docker runtime; add runtime: docker at the top, or use fixture or command")
	}
	if svc.Replicas < 1 {
		c.at(p+".replicas", "must be at least 1, not %d", svc.Replicas)
	}
	switch {
	case svc.Version == "":
		c.at(p+".version", "is missing; write e.g. version: v1")
	case !versionLabel.MatchString(svc.Version):
		c.at(p+".version", "%q: use letters, digits, '.', '-' and '_' (it becomes part of instance names)", svc.Version)
	}
	for i, arg := range svc.Args {
		c.template(fmt.Sprintf("%s.args[%d]", p, i), arg, svc, svc.Version)
	}
	c.env(p+".env", svc.Env, svc, svc.Version)
	c.dependsOn(svc, p)
	c.health(&svc.Health, p+".health")
	if svc.StartTimeout <= 0 {
		c.at(p+".start_timeout", "must be greater than 0; write e.g. start_timeout: 30s")
	}
}

// program checks that a command's program can be found, unless it is a
// template that only the runtime can expand.
func (c *checker) program(path, prog string) {
	if prog == "" {
		c.at(path, "the program is empty; write command: [program, arg, ...]")
		return
	}
	if strings.Contains(prog, "{{") {
		return
	}
	if _, err := exec.LookPath(prog); err != nil {
		if strings.Contains(prog, "/") {
			c.at(path, "program %q does not exist or is not executable; fix the path (relative paths start from the working directory)", prog)
			return
		}
		c.at(path, "program %q is not on PATH; install it, or give its full path", prog)
	}
}

func (c *checker) env(path string, env map[string]string, svc *Service, version string) {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys) // maps have no order; messages should
	for _, k := range keys {
		if !envName.MatchString(k) {
			c.at(child(path, k), "%q is not an environment variable name; use letters, digits and '_', not starting with a digit", k)
			continue
		}
		c.template(child(path, k), env[k], svc, version)
	}
}

// template checks that text parses and renders for svc, and that every
// {{dep "x"}} names one of svc's dependencies.
func (c *checker) template(path, text string, svc *Service, version string) {
	if !strings.Contains(text, "{{") {
		return
	}
	var notDeps []string
	dep := func(name string) string {
		if slices.Contains(svc.DependsOn, name) {
			return "127.0.0.1:1"
		}
		notDeps = append(notDeps, name)
		return ""
	}
	data := TemplateData{Port: 1, Host: "127.0.0.1", Service: svc.Name, Version: version, Instance: svc.Name + "-" + version + "-0",
		Dir: "/instance", Config: "/instance/config"}
	_, err := RenderTemplate(text, data, dep)
	switch {
	case err == nil:
	case len(notDeps) > 0:
		deps := "it has none"
		if len(svc.DependsOn) > 0 {
			deps = "its dependencies are " + strings.Join(svc.DependsOn, ", ")
		}
		c.at(path, "%q is not a dependency of %s (%s); add it to depends_on", notDeps[0], svc.Name, deps)
	default:
		c.at(path, "template %s; templates may use %s", templateProblem(err), TemplateVars)
	}
}

var (
	templatePrefix = regexp.MustCompile(`^template: [^:]*:\d+(:\d+)?: `)
	templateExec   = regexp.MustCompile(`^executing "[^"]*" at `)
)

// templateProblem is text/template's message without its own wrapping:
// "fails at <.Prot>: can't evaluate field Prot ..." or "does not parse:
// unclosed action".
func templateProblem(err error) string {
	for inner := errors.Unwrap(err); inner != nil; inner = errors.Unwrap(err) {
		err = inner
	}
	msg := templatePrefix.ReplaceAllString(err.Error(), "")
	if templateExec.MatchString(msg) {
		return "fails at " + templateExec.ReplaceAllString(msg, "")
	}
	return "does not parse: " + msg
}

func (c *checker) dependsOn(svc *Service, p string) {
	seen := map[string]bool{}
	for i, d := range svc.DependsOn {
		dp := fmt.Sprintf("%s.depends_on[%d]", p, i)
		switch {
		case d == svc.Name:
			c.at(dp, "%s depends on itself (cycle %s -> %s); remove it", d, d, d)
		case seen[d]:
			c.at(dp, "%q is listed twice; remove the second", d)
		case c.s.Database(d) != nil: // a database: {{dep "db"}} reaches its primary
		default:
			c.serviceRef(dp, d, "depends_on: [payments]")
		}
		seen[d] = true
	}
}

func (c *checker) health(h *Health, p string) {
	switch {
	case h.HTTP != "" && h.TCP:
		c.at(p+".tcp", "give either http: /path or tcp: true, not both")
	case h.HTTP != "" && !strings.HasPrefix(h.HTTP, "/"):
		c.at(p+".http", "%q is not a path; write e.g. http: /healthz", h.HTTP)
	}
	if h.Interval <= 0 {
		c.at(p+".interval", "must be greater than 0; write e.g. interval: 1s")
	}
	if h.Timeout <= 0 {
		c.at(p+".timeout", "must be greater than 0; write e.g. timeout: 1s")
	}
	if h.UnhealthyAfter < 1 {
		c.at(p+".unhealthy_after", "must be at least 1 (consecutive failures), not %d", h.UnhealthyAfter)
	}
	if h.HealthyAfter < 1 {
		c.at(p+".healthy_after", "must be at least 1 (consecutive successes), not %d", h.HealthyAfter)
	}
	c.ejection(h, p) // rollout.go
}

// cycles reports every dependency cycle once, as "a -> b -> a", at the
// depends_on entry that closes it. Self-dependencies are reported by
// dependsOn.
func (c *checker) cycles() {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(name string)
	visit = func(name string) {
		color[name] = grey
		stack = append(stack, name)
		svc := c.lookup(name)
		for i, d := range svc.DependsOn {
			if d == name || c.lookup(d) == nil {
				continue
			}
			switch color[d] {
			case white:
				visit(d)
			case grey:
				start := slices.Index(stack, d)
				cycle := append(slices.Clone(stack[start:]), d)
				c.at(fmt.Sprintf("services.%s.depends_on[%d]", name, i),
					"dependency cycle %s; a request would loop for ever, remove one of these dependencies",
					cycleText(cycle))
			}
		}
		stack = stack[:len(stack)-1]
		color[name] = black
	}
	for _, svc := range c.s.Services {
		if svc != nil && color[svc.Name] == white {
			visit(svc.Name)
		}
	}
}
