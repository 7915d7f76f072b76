package scenarios

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// Alerts is the scenario's alerts: block: a Prometheus rule file (rule
// groups, as Prometheus loads them) whose alerting rules are evaluated every
// Interval over the run's own series, and scored against the run's fault
// and regression windows. A firing that starts more than Grace after every
// window ended is a false alarm.
type Alerts struct {
	Rules    string   `yaml:"rules" json:"rules"`
	Interval Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
	Grace    Duration `yaml:"grace,omitempty" json:"grace,omitempty"`
}

// Defaults of alerts:. Runs last minutes, not hours: evaluate every second.
const (
	DefaultAlertInterval = Duration(time.Second)
	DefaultAlertGrace    = Duration(30 * time.Second)
)

// EvalInterval is Interval or its default.
func (a *Alerts) EvalInterval() time.Duration {
	if a.Interval > 0 {
		return a.Interval.D()
	}
	return DefaultAlertInterval.D()
}

// GraceAfter is Grace or its default.
func (a *Alerts) GraceAfter() time.Duration {
	if a.Grace > 0 {
		return a.Grace.D()
	}
	return DefaultAlertGrace.D()
}

// AlertRulesPath is the rules file, relative paths taken from the
// scenario file's folder ("" without alerts:).
func (s *Scenario) AlertRulesPath() string {
	if s.Alerts == nil || s.Alerts.Rules == "" {
		return ""
	}
	if filepath.IsAbs(s.Alerts.Rules) || s.File == "" {
		return s.Alerts.Rules
	}
	return filepath.Join(filepath.Dir(s.File), s.Alerts.Rules)
}

// LoadAlertRules reads and checks a Prometheus rule file; its problems
// are Errors at the rule file's lines.
func LoadAlertRules(path string) (*rulefmt.RuleGroups, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: "cannot read the alert rules: " + err.Error() + "; check alerts.rules", Err: err}}
	}
	p := parser.NewParser(parser.Options{})
	groups, errs := rulefmt.Parse(b, false, model.UTF8Validation, p, slog.New(slog.DiscardHandler))
	if len(errs) == 0 {
		return groups, nil
	}
	var out Errors
	for _, e := range errs {
		out = append(out, ruleError(path, e))
	}
	return nil, out
}

var (
	rulePos = regexp.MustCompile(`^(\d+):(\d+): (.*)$`)
	yamlPos = regexp.MustCompile(`line (\d+)`)
)

// ruleError places a rulefmt error ("12:7: msg" for a rule, "yaml: line
// 3: ..." for syntax) at its line.
func ruleError(path string, err error) *Error {
	msg := err.Error()
	e := &Error{File: path, Msg: msg, Err: err}
	var we *rulefmt.WrappedError
	if m := rulePos.FindStringSubmatch(msg); m != nil && errors.As(err, &we) {
		e.Line, _ = strconv.Atoi(m[1])
		e.Col, _ = strconv.Atoi(m[2])
		e.Msg = m[3]
	} else if m := yamlPos.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Col = 1
	}
	return e
}

// alerts checks the alerts: block: the rule file exists and parses, with
// at least one alerting rule.
func (c *checker) alerts() {
	a := c.s.Alerts
	if a == nil {
		return
	}
	if a.Rules == "" {
		c.at("alerts.rules", "is missing; write the path of a Prometheus rule file, e.g. rules: alerts.yaml")
		return
	}
	groups, err := LoadAlertRules(c.s.AlertRulesPath())
	if err != nil {
		var es Errors
		if errors.As(err, &es) {
			for _, e := range es {
				if e.Line == 0 {
					c.at("alerts.rules", "%s", e.Msg)
					continue
				}
				c.errs = append(c.errs, e)
			}
		}
		return
	}
	if len(alertNames(groups)) == 0 {
		c.at("alerts.rules", "%s has no alerting rule (alert: NAME, expr: ...); nothing to rehearse", a.Rules)
	}
}

func alertNames(groups *rulefmt.RuleGroups) map[string]bool {
	out := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out[r.Alert] = true
			}
		}
	}
	return out
}

// alertExpectation checks alert_fires and alert_silent: their alert is
// one of the rule file's alerting rules.
func (c *checker) alertExpectation(e *Expectation, p string) {
	if e.Kind != ExpectAlertFires && e.Kind != ExpectAlertSilent {
		if e.Alert != "" {
			c.at(p+".alert", "applies to alert_fires and alert_silent expectations, not %s; remove it", e.Kind)
		}
		return
	}
	if e.Alert == "" {
		c.at(p+".alert", "%s needs alert, the name of an alerting rule in alerts.rules; write e.g. alert: HighErrorRate", e.Kind)
		return
	}
	if c.s.Alerts == nil || c.s.Alerts.Rules == "" {
		c.at(p+".kind", "%s needs the scenario's alert rules; add alerts: {rules: FILE}", e.Kind)
		return
	}
	groups, err := LoadAlertRules(c.s.AlertRulesPath())
	if err != nil {
		return // alerts() says what is wrong with the file
	}
	if names := alertNames(groups); !names[e.Alert] {
		c.at(p+".alert", "%q is not an alerting rule of %s%s", e.Alert, c.s.Alerts.Rules, suggestFrom(e.Alert, names))
	}
}

func suggestFrom(got string, names map[string]bool) string {
	var list []string
	for n := range names {
		list = append(list, n)
	}
	sort.Strings(list)
	return "; " + suggest(got, list)
}

// observeName is the default name of alert and journey expectations.
func (e *Expectation) observeName() string {
	switch e.Kind {
	case ExpectAlertFires:
		if e.Within > 0 {
			return "alert " + e.Alert + " fires within " + e.Within.String()
		}
		return "alert " + e.Alert + " fires"
	case ExpectAlertSilent:
		return "alert " + e.Alert + " stays silent"
	}
	return "journey " + e.Journey + " succeeds >= " + strconv.FormatFloat(e.Min, 'g', -1, 64)
}
