package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const alertScenario = `name: alerting
services:
  api: {fixture: httpsvc}
traffic: {entry: api, rate: 10, duration: 5s}
alerts: {rules: RULES}
expectations:
  - kind: alert_fires
    alert: ALERT
    within: 10s
`

func loadWithRules(t *testing.T, rules, alert string) error {
	t.Helper()
	dir := t.TempDir()
	if rules != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yaml"), []byte(rules), 0o644))
	}
	sc := strings.NewReplacer("RULES", "rules.yaml", "ALERT", alert).Replace(alertScenario)
	file := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(file, []byte(sc), 0o644))
	_, err := Load(file)
	return err
}

func TestAlertRulesValidated(t *testing.T) {
	good := "groups:\n  - name: g\n    rules:\n      - alert: HighErrors\n        expr: sum(rate(firedrill_requests_total{outcome=\"error\"}[10s])) > 1\n        for: 2s\n"
	assert.NoError(t, loadWithRules(t, good, "HighErrors"))

	err := loadWithRules(t, "", "HighErrors")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot read the alert rules")

	badExpr := "groups:\n  - name: g\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[10s]) > \n"
	err = loadWithRules(t, badExpr, "Broken")
	require.Error(t, err)
	assert.Regexp(t, `rules\.yaml:5:\d+: `, err.Error(), "a PromQL error points at its rule's line in the rule file")

	badYAML := "groups:\n  - name: g\n    rules: [\n"
	err = loadWithRules(t, badYAML, "X")
	require.Error(t, err)
	assert.Regexp(t, `rules\.yaml:\d+:1: `, err.Error())

	err = loadWithRules(t, good, "HighError")
	require.Error(t, err)
	assert.Regexp(t, `s\.yaml:8:12: expectations\[0\]\.alert: "HighError" is not an alerting rule of rules\.yaml; did you mean "HighErrors"\?`, err.Error())
}
