package scenarios

import (
	"slices"
	"strings"
)

// Risks are the values of risk: (firedrill gate's risk classes).
var Risks = []string{"low", "medium", "high"}

// history checks the keys that the run history and the gate read.
func (c *checker) history() {
	if r := c.s.Risk; r != "" && !slices.Contains(Risks, r) {
		c.at("risk", "unknown risk %q; write risk: %s", r, strings.Join(Risks, ", risk: "))
	}
	c.compare()
}

// compare checks compare: (types_history.go).
func (c *checker) compare() {
	cmp := c.s.Compare
	if cmp == nil {
		return
	}
	if cmp.Last < 0 || cmp.Last > 100 {
		c.at("compare.last", "must be 1 to 100 GO runs, not %d", cmp.Last)
	}
	if cmp.P99Margin == nil && cmp.RestoreMargin == nil {
		c.at("compare", "compares nothing; write e.g. compare: {last: 5, p99_margin: 0.2, restore_margin: 0.25}")
	}
	for _, f := range []struct {
		key string
		m   *float64
	}{{"compare.p99_margin", cmp.P99Margin}, {"compare.restore_margin", cmp.RestoreMargin}} {
		if key, m := f.key, f.m; m != nil && (*m < 0 || *m > 10) {
			c.at(key, "is a fraction of the baseline median (0.2 = 20%% worse allowed), not %g", *m)
		}
	}
}
