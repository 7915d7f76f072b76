package history

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/firedrill/firedrill/scenarios"
)

// Policy is a release policy: what evidence each risk class needs, and
// when nothing may be released.
type Policy struct {
	RiskClasses map[string]*RiskClass `yaml:"risk_classes"`
	// DefaultRisk is the class of a scenario without risk: ("" refuses it).
	DefaultRisk string   `yaml:"default_risk"`
	Freezes     []Freeze `yaml:"freezes"`

	file string
}

// RiskClass is what a release of one risk needs.
type RiskClass struct {
	// Require lists expectation kinds a GO rehearsal of the release must
	// have passed.
	Require []string `yaml:"require"`
	// MaxAge is how old that rehearsal may be (max_age: "7d", "36h";
	// none: any age).
	MaxAge     Age    `yaml:"-"`
	MaxAgeText string `yaml:"max_age"`
	// Approvals is how many different people must have approved the
	// scenario's version (firedrill history approve).
	Approvals int `yaml:"approvals"`
	// SameFile requires the rehearsal (and the approvals) to be of the
	// scenario file as it is now, byte for byte.
	SameFile bool `yaml:"same_file"`
}

// Freeze is a window in which releases of its risks (all when empty) stop.
type Freeze struct {
	Name  string    `yaml:"name"`
	From  time.Time `yaml:"from"`
	To    time.Time `yaml:"to"`
	Risks []string  `yaml:"risks"`
}

// Age is a duration that also takes days and weeks ("7d", "2w").
type Age time.Duration

var ageRe = regexp.MustCompile(`^(\d+)([dw])$`)

// UnmarshalText reads "7d", "2w" or any Go duration ("36h").
func (a *Age) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if m := ageRe.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		unit := 24 * time.Hour
		if m[2] == "w" {
			unit *= 7
		}
		*a = Age(time.Duration(n) * unit)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("%q is not an age; write e.g. 7d, 2w or 36h", s)
	}
	*a = Age(d)
	return nil
}

func (a Age) String() string {
	d := time.Duration(a)
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// PolicyError is a problem in a policy file, at file:line:col.
type PolicyError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *PolicyError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// LoadPolicy reads and checks a policy file; problems are *PolicyError.
func LoadPolicy(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &PolicyError{File: path, Msg: fmt.Sprintf("cannot read the policy: %v", err)}
	}
	return ParsePolicy(path, b)
}

// ParsePolicy parses a policy file's bytes (path names it in errors).
func ParsePolicy(path string, b []byte) (*Policy, error) {
	var p Policy
	if err := yaml.UnmarshalWithOptions(b, &p, yaml.Strict()); err != nil {
		pe := &PolicyError{File: path, Msg: err.Error()}
		var ye interface {
			GetToken() *token.Token
			GetMessage() string
		}
		if errors.As(err, &ye) && ye.GetToken() != nil {
			pe.Line, pe.Col = ye.GetToken().Position.Line, ye.GetToken().Position.Column
			pe.Msg = ye.GetMessage()
		}
		return nil, pe
	}
	p.file = path
	f, err := parser.ParseBytes(b, 0)
	if err != nil {
		return nil, &PolicyError{File: path, Msg: err.Error()}
	}
	if err := p.check(f); err != nil {
		return nil, err
	}
	return &p, nil
}

// check validates what the YAML decoder cannot; at finds a key's position.
func (p *Policy) check(f *ast.File) error {
	at := func(yamlPath, format string, args ...any) error {
		e := &PolicyError{File: p.file, Msg: fmt.Sprintf(format, args...)}
		if ph, err := yaml.PathString(yamlPath); err == nil {
			if n, err := ph.FilterFile(f); err == nil && n != nil && n.GetToken() != nil {
				e.Line, e.Col = n.GetToken().Position.Line, n.GetToken().Position.Column
			}
		}
		return e
	}
	if len(p.RiskClasses) == 0 {
		return at("$", "no risk_classes; write e.g. risk_classes: {high: {require: [rollout_outcome], max_age: 7d}}")
	}
	names := make([]string, 0, len(p.RiskClasses))
	for n := range p.RiskClasses {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !slices.Contains(scenarios.Risks, n) {
			return at("$.risk_classes", "unknown risk class %q; use %s", n, strings.Join(scenarios.Risks, ", "))
		}
		if p.RiskClasses[n] == nil {
			p.RiskClasses[n] = &RiskClass{}
		}
		for i, k := range p.RiskClasses[n].Require {
			if !slices.Contains(scenarios.ExpectationKinds, k) {
				return at(fmt.Sprintf("$.risk_classes.%s.require[%d]", n, i), "unknown expectation kind %q; use one of %s", k, strings.Join(scenarios.ExpectationKinds, ", "))
			}
		}
		if txt := p.RiskClasses[n].MaxAgeText; txt != "" {
			if err := p.RiskClasses[n].MaxAge.UnmarshalText([]byte(txt)); err != nil {
				return at("$.risk_classes."+n+".max_age", "max_age: %v", err)
			}
		}
		if p.RiskClasses[n].Approvals < 0 {
			return at("$.risk_classes."+n+".approvals", "approvals must be 0 or more")
		}
	}
	if p.DefaultRisk != "" && p.RiskClasses[p.DefaultRisk] == nil {
		return at("$.default_risk", "default_risk %q has no entry in risk_classes", p.DefaultRisk)
	}
	for i, fz := range p.Freezes {
		fp := fmt.Sprintf("$.freezes[%d]", i)
		switch {
		case fz.Name == "":
			return at(fp, "a freeze needs a name; write e.g. name: year-end")
		case fz.From.IsZero() || fz.To.IsZero():
			return at(fp, "freeze %q needs from and to (UTC times, e.g. 2026-12-20T00:00:00Z)", fz.Name)
		case !fz.To.After(fz.From):
			return at(fp+".to", "freeze %q ends (%s) before it starts (%s)", fz.Name, fz.To.Format(time.RFC3339), fz.From.Format(time.RFC3339))
		}
		for _, r := range fz.Risks {
			if !slices.Contains(scenarios.Risks, r) {
				return at(fp+".risks", "unknown risk %q; use %s", r, strings.Join(scenarios.Risks, ", "))
			}
		}
	}
	return nil
}
