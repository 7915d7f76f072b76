package scenarios

import "fmt"

// Defaults fill zero values, so for most keys zero means "unset". For the
// keys below zero is a value of its own (start the rollout at once, keep
// no margin, scale the old stack down at once, a database without replicas): when the file writes it,
// it is kept instead of being replaced by the default.

// zeroable is one such key: its path in the file, the path it inherits
// from when the file leaves it out ("" for none), and its value.
type zeroable struct {
	path, inherits string
	isZero         func() bool
	reset          func()
}

func durZero(path string, d *Duration) zeroable {
	return zeroable{path: path, isZero: func() bool { return *d == 0 }, reset: func() { *d = 0 }}
}

func intZero(path string, n *int) zeroable {
	return zeroable{path: path, isZero: func() bool { return *n == 0 }, reset: func() { *n = 0 }}
}

func floatZero(path, inherits string, f *float64) zeroable {
	return zeroable{path: path, inherits: inherits, isZero: func() bool { return *f == 0 }, reset: func() { *f = 0 }}
}

// zeroables lists the keys where zero is meaningful, for the scenario as
// it is now (before defaults, a step may have no analysis yet).
func (s *Scenario) zeroables() []zeroable {
	var out []zeroable
	for name, d := range s.Databases {
		if d != nil { // a primary alone
			out = append(out, intZero(child(child("databases", name), "replicas"), &d.Replicas))
		}
	}
	r := s.Rollout
	if r == nil {
		return out
	}
	out = append(out, durZero("rollout.start_at", &r.StartAt))
	margins := func(p, inherits string, a *Analysis) {
		out = append(out, floatZero(p+".error_margin", inherits+".error_margin", &a.ErrorMargin),
			floatZero(p+".latency_margin", inherits+".latency_margin", &a.LatencyMargin))
	}
	margins("rollout.analysis", "", &r.Analysis)
	for i, st := range r.Steps {
		if st != nil && st.Analysis != nil {
			margins(fmt.Sprintf("rollout.steps[%d].analysis", i), "rollout.analysis", st.Analysis)
		}
	}
	if ro := r.Rolling; ro != nil { // max_surge: 0 is kept so that 0 and 0 is refused, not made 1
		out = append(out, intZero("rollout.rolling.max_surge", &ro.MaxSurge))
	}
	if bg := r.BlueGreen; bg != nil {
		out = append(out, durZero("rollout.blue_green.scale_down_delay", &bg.ScaleDownDelay))
	}
	return out
}

// explicitZeros returns the paths the file sets to zero; call it before
// ApplyDefaults and give the result to keepZeros after.
func (s *Scenario) explicitZeros(pos *positions) map[string]bool {
	out := map[string]bool{}
	for _, z := range s.zeroables() {
		if _, written := pos.val[z.path]; written && z.isZero() {
			out[z.path] = true
		}
	}
	return out
}

// keepZeros puts back the zeros the file wrote, and those a key the file
// left out inherits (a step's margin from the rollout's).
func (s *Scenario) keepZeros(zeros map[string]bool, pos *positions) {
	for _, z := range s.zeroables() {
		_, written := pos.val[z.path]
		if zeros[z.path] || (!written && z.inherits != "" && zeros[z.inherits]) {
			z.reset()
		}
	}
}
