package scenarios

import (
	"slices"
	"strconv"
)

// Version skew (issue 4): while the rollout's old and new versions serve
// together, requests that cross versions must keep working. Fixtures send
// their service@version on every call; the callee's router keeps it in the
// hop sample.

// ExpectVersionSkew: requests crossing versions succeed >= Min.
const ExpectVersionSkew = "version_skew"

// Directions of a version_skew expectation.
const (
	SkewBoth     = "both"
	SkewOldToNew = "old_to_new" // a caller not on the new version calls the new version
	SkewNewToOld = "new_to_old" // the new version calls a callee not on the new version
)

// DefaultSkewMin is a version_skew expectation's default success ratio.
const DefaultSkewMin = 0.99

// SkewDirections are the valid values of direction.
var SkewDirections = []string{SkewBoth, SkewOldToNew, SkewNewToOld}

// SkewDirectionsOf expands direction ("" or both: the two).
func SkewDirectionsOf(direction string) []string {
	if direction == "" || direction == SkewBoth {
		return []string{SkewOldToNew, SkewNewToOld}
	}
	return []string{direction}
}

func (e *Expectation) applySkewDefaults() {
	if e.Kind != ExpectVersionSkew {
		return
	}
	if e.Min == 0 {
		e.Min = DefaultSkewMin
	}
	setStr(&e.Direction, SkewBoth)
}

func (e *Expectation) skewName() string {
	what := "requests crossing versions"
	switch e.Direction {
	case SkewOldToNew:
		what = "old callers -> new version"
	case SkewNewToOld:
		what = "new version -> old callees"
	}
	return "version skew: " + what + " succeed >= " + strconv.FormatFloat(e.Min, 'g', -1, 64)
}

// skewExpectation checks a version_skew expectation against the topology:
// each direction it asks for must be possible.
func (c *checker) skewExpectation(e *Expectation, p string) {
	if e.Direction != "" && e.Kind != ExpectVersionSkew {
		c.at(p+".direction", "applies to version_skew expectations, not %s; remove it", e.Kind)
		return
	}
	if e.Kind != ExpectVersionSkew {
		return
	}
	if !within01(e.Min, true) {
		c.at(p+".min", "version_skew needs min, the lowest success ratio of crossing requests, above 0 and at most 1; write e.g. min: 0.99")
	}
	if !c.oneOf(p+".direction", e.Direction, SkewDirections, "direction") {
		return
	}
	ro := c.s.Rollout
	if ro == nil || ro.Service == "" {
		c.at(p+".kind", "version_skew needs a rollout (two versions serving together), and the scenario has none; add rollout: or remove this expectation")
		return
	}
	svc := c.lookup(ro.Service)
	if svc == nil {
		return // the rollout's own check says so
	}
	var callers []string
	for _, s := range c.s.Services {
		if s != nil && slices.Contains(s.DependsOn, ro.Service) {
			callers = append(callers, s.Name)
		}
	}
	for _, d := range SkewDirectionsOf(e.Direction) {
		switch {
		case d == SkewOldToNew && len(callers) == 0:
			c.at(p+".direction", "no service calls %s, so no old caller can reach its new version (clients carry no version); add a caller with depends_on: [%s], or write direction: %s",
				ro.Service, ro.Service, SkewNewToOld)
		case d == SkewNewToOld && len(svc.DependsOn) == 0:
			c.at(p+".direction", "%s calls no other service, so its new version has no old callee; add depends_on to %s, or write direction: %s",
				ro.Service, ro.Service, SkewOldToNew)
		}
	}
}
