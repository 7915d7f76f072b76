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
}
