package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// source is what Parse remembers of the file for Validate.
type source struct {
	pos    *positions
	failed map[string]bool // paths the decoder already reported
}

// Validate checks the scenario and returns every problem as *Errors, or nil.
// A loaded scenario's errors point at file:line:col; one built in code gets
// "<scenario>: path: message" (or File: ...). Call ApplyDefaults first:
// Validate checks values as they are and does not fill them in.
func (s *Scenario) Validate() error { return s.validate().bounded() }

// validate is Validate without the bound on the number of problems, for
// Parse to merge with the decoder's.
func (s *Scenario) validate() Errors {
	c := &checker{s: s, file: s.File, src: s.src, said: map[string]bool{}, byName: s.serviceIndex()}
	c.scenario()
	return c.errs
}

// checker collects problems; every check reports by path ("faults[1].edge")
// and the path finds the position.
type checker struct {
	s    *Scenario
	file string
	src  *source
	errs Errors
	said map[string]bool
	// byName finds services in constant time (Scenario.Service scans,
	// which made validation quadratic in the number of services).
	byName   map[string]*Service
	names    []string                 // serviceNames, once
	fieldsOf map[reflect.Type][]field // yamlFields per type
}

func (c *checker) fields(t reflect.Type) []field {
	if fs, ok := c.fieldsOf[t]; ok {
		return fs
	}
	if c.fieldsOf == nil {
		c.fieldsOf = map[reflect.Type][]field{}
	}
	fs := yamlFields(t)
	c.fieldsOf[t] = fs
	return fs
}

// written says whether the file gives a value at path.
func (c *checker) written(path string) bool {
	if c.src == nil {
		return false
	}
	_, ok := c.src.pos.val[path]
	return ok
}

// lookup is Scenario.Service through the checker's index.
func (c *checker) lookup(name string) *Service { return c.byName[name] }

// at reports a problem with the value at path.
func (c *checker) at(path, format string, args ...any) { c.report(path, false, format, args...) }

// atKey reports a problem with the thing a key names (a whole service).
func (c *checker) atKey(path, format string, args ...any) { c.report(path, true, format, args...) }

func (c *checker) report(path string, preferKey bool, format string, args ...any) {
	if c.src != nil {
		// The decoder already said what is wrong with this value; a second
		// message about the zero value it left behind would only confuse.
		for p := path; ; p = parentPath(p) {
			if c.src.failed[p] {
				return
			}
			if p == "" {
				break
			}
		}
	}
	if c.said[path] {
		return
	}
	c.said[path] = true
	msg := fmt.Sprintf(format, clipArgs(args)...)
	if path != "" {
		msg = path + ": " + msg
	}
	e := &Error{File: c.file, Msg: boundMsg(msg)}
	if c.src != nil {
		if at, ok := c.src.pos.lookup(path, preferKey); ok {
			e.Line, e.Col = at.line, at.col
		}
	}
	c.errs = append(c.errs, e)
}

var (
	scenarioName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
	serviceName  = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	versionLabel = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	envName      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Runtimes are the valid values of runtime.
var Runtimes = []string{"local", "docker"}

func (c *checker) scenario() {
	s := c.s
	switch {
	case s.Name == "":
		c.at("name", "is missing; write e.g. name: checkout-canary")
	case !scenarioName.MatchString(s.Name):
		c.at("name", "%q names the output folder; use letters, digits, '.', '-' and '_' (at most 100)", s.Name)
	}
	if !slices.Contains(Runtimes, s.Runtime) {
		c.at("runtime", "unknown runtime %q; write runtime: local or runtime: docker", s.Runtime)
	}
	c.negativeDurations(reflect.ValueOf(s).Elem(), "")
	c.services()
	c.release()   // validate_release.go
	c.databases() // validate_db.go
	c.cycles()
	c.traffic()
	c.rollout()
	c.lagGates() // validate_db.go
	c.faults()
	c.expectations()
	c.history()      // validate_history.go
	c.alerts()       // validate_alerts.go
	c.journeys()     // validate_journeys.go
	c.gameday()      // validate_gameday.go
	c.journeyGates() // journey_gate.go
	c.limits()       // validate_limits.go
	c.abortIf()      // abort.go
}

// negativeDurations reports every negative duration, wherever it is; only
// restart_after may be "never".
func (c *checker) negativeDurations(v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			c.negativeDurations(v.Elem(), path)
		}
	case reflect.Slice:
		for i := range v.Len() {
			c.negativeDurations(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Struct:
		t := v.Type()
		if t == scenarioType {
			for _, svc := range c.s.Services {
				if svc != nil {
					c.negativeDurations(reflect.ValueOf(svc).Elem(), child("services", svc.Name))
				}
			}
		}
		for _, f := range c.fields(t) {
			fv := v.Field(f.index)
			p := child(path, f.key)
			if fv.Type() == durationType {
				d := Duration(fv.Int())
				if d < 0 && !(f.key == "restart_after" && d == Never) {
					c.at(p, "%s is negative; durations count forward from their start, write e.g. %s", d, -d)
				}
				continue
			}
			if !(t == scenarioType && f.key == "services") {
				c.negativeDurations(fv, p)
			}
		}
	}
}

// serviceRef checks that name is a service and says which ones exist if
// not; example is what to write, e.g. "entry: gateway".
func (c *checker) serviceRef(path, name, example string) bool {
	if name == "" {
		c.at(path, "is missing; write e.g. %s (%s)", example, c.listServices())
		return false
	}
	if c.lookup(name) != nil {
		return true
	}
	if len(c.s.Services) == 0 {
		return false // "no services" says it all
	}
	c.at(path, "no service named %q; %s", name, c.didYouMean(name, c.serviceNames(), "services are"))
	return false
}

func (c *checker) listServices() string {
	names := c.serviceNames()
	if len(names) == 0 {
		return "there are no services yet"
	}
	return "services are " + listSome(names)
}

// serviceNames are the services' names in file order, listed once.
func (c *checker) serviceNames() []string {
	if c.names == nil {
		c.names = make([]string, 0, len(c.s.Services))
		for _, svc := range c.s.Services {
			if svc != nil {
				c.names = append(c.names, svc.Name)
			}
		}
	}
	return c.names
}

// didYouMean suggests the nearest valid word, or lists them under label.
// Past maxSuggested problems it no longer searches (each search is linear
// in the valid words, and only the first maxErrors problems are shown).
func (c *checker) didYouMean(got string, valid []string, label string) string {
	if len(c.errs) < maxSuggested {
		if best, ok := closest(got, valid); ok {
			return fmt.Sprintf("did you mean %q?", best)
		}
	}
	if len(valid) == 0 {
		return label + ": (none)"
	}
	return label + ": " + listSome(valid)
}

// oneOf checks an enumerated value.
func (c *checker) oneOf(path, got string, valid []string, what string) bool {
	if slices.Contains(valid, got) {
		return true
	}
	if got == "" {
		c.at(path, "is missing; write one of: %s", strings.Join(valid, ", "))
		return false
	}
	c.at(path, "unknown %s %q; %s", what, got, c.didYouMean(got, valid, "valid ones are"))
	return false
}

// within01 says whether x is a number in [0, 1], or (0, 1] when openLow.
func within01(x float64, openLow bool) bool {
	if math.IsNaN(x) || x > 1 {
		return false
	}
	if openLow {
		return x > 0
	}
	return x >= 0
}
