package verdict

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// skewCount is one direction's crossing requests, also by pair of
// caller and callee ("gateway@v1 -> checkout@v2").
type skewCount struct {
	requests, failed int
	pairs            map[string]*[2]int // pair -> requests, failed
}

func (c *skewCount) add(pair string, ok bool) {
	p := c.pairs[pair]
	if p == nil {
		p = new([2]int)
		c.pairs[pair] = p
	}
	c.requests++
	p[0]++
	if !ok {
		c.failed++
		p[1]++
	}
}

// worstPairs names the pairs with failures, most failed first.
func (c *skewCount) worstPairs() string {
	keys := make([]string, 0, len(c.pairs))
	for k, p := range c.pairs {
		if p[1] > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := c.pairs[keys[i]], c.pairs[keys[j]]
		return a[1] > b[1] || a[1] == b[1] && keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d of %d", k, c.pairs[k][1], c.pairs[k][0])
	}
	return strings.Join(parts, ", ")
}

// countSkew sorts the hop samples in [from, to) into the two crossings of
// the rollout's versions. A hop's caller is the service@version its
// fixture named; "new" is the rollout's service at its new version.
func countSkew(rec *record.Recorder, ro *scenarios.Rollout, from, to time.Duration) map[string]*skewCount {
	out := map[string]*skewCount{scenarios.SkewOldToNew: {pairs: map[string]*[2]int{}}, scenarios.SkewNewToOld: {pairs: map[string]*[2]int{}}}
	newCaller := ro.Service + "@" + ro.To
	callers := map[uint16]string{} // interned caller -> its role, looked up once
	service, version := rec.Intern(ro.Service), rec.Intern(ro.To)
	for _, s := range rec.Select(record.Filter{Source: record.Hop, From: from, To: to}) {
		if s.Caller == 0 {
			continue // from the traffic generator: no version
		}
		role, ok := callers[s.Caller]
		if !ok {
			role = "old"
			if rec.Name(s.Caller) == newCaller {
				role = "new"
			}
			callers[s.Caller] = role
		}
		calleeNew := s.Service == service && s.Version == version
		var c *skewCount
		switch {
		case role == "old" && calleeNew:
			c = out[scenarios.SkewOldToNew]
		case role == "new" && !calleeNew:
			c = out[scenarios.SkewNewToOld]
		default:
			continue
		}
		c.add(rec.Name(s.Caller)+" -> "+rec.Name(s.Service)+"@"+rec.Name(s.Version), s.OK())
	}
	return out
}

// versionSkew judges each direction the expectation asks for (old callers
// -> new version, new version -> old callees): some requests must have
// crossed, and at least Min of them succeeded.
func versionSkew(ev *Evidence, e *scenarios.Expectation, x *reports.Expectation, _ *Findings) {
	ro := ev.Scenario.Rollout
	x.Threshold = fmt.Sprintf(">= %.4g%% each", 100*e.Min)
	counts := countSkew(ev.Samples, ro, e.From.D(), e.To.D())
	names := map[string]string{
		scenarios.SkewOldToNew: "old callers -> " + ro.Service + "@" + ro.To,
		scenarios.SkewNewToOld: ro.Service + "@" + ro.To + " -> old callees",
	}
	x.Passed = true
	var observed, details []string
	worst, crossed := 1.0, true
	for _, d := range scenarios.SkewDirectionsOf(e.Direction) {
		c := counts[d]
		if c.requests == 0 {
			x.Passed, crossed = false, false
			observed = append(observed, d+" none")
			details = append(details, names[d]+": no request crossed, so nothing shows that it works")
			continue
		}
		ok := 1 - float64(c.failed)/float64(c.requests)
		worst = min(worst, ok)
		if ok < e.Min {
			x.Passed = false
		}
		observed = append(observed, fmt.Sprintf("%s %.2f%%", d, 100*ok))
		detail := fmt.Sprintf("%s: %d of %d failed", names[d], c.failed, c.requests)
		if c.failed > 0 {
			detail += " (" + c.worstPairs() + ")"
		}
		details = append(details, detail)
	}
	x.Observed = strings.Join(observed, ", ")
	x.Detail = strings.Join(details, "; ")
	if counts[scenarios.SkewNewToOld].failed > 0 {
		// The fixture answers 502 when a dependency fails, so a refused
		// new -> old call fails the old caller's request to the new version too.
		x.Detail += "; a failed call of the new version fails its own caller's request as well: look at new_to_old first"
	}
	if crossed { // a direction with no request has no ratio to compare
		setNum(x, 100*worst, ">=", 100*e.Min, "%")
	}
}
