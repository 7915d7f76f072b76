package scenarios

// Warnings are what is valid but probably not meant; they do not stop a run.
func (s *Scenario) Warnings() []string {
	var out []string
	if len(s.Expectations) == 0 {
		out = append(out, "no expectations: nothing is checked, so the run can only be GO; add e.g. expectations: [{kind: availability, min: 0.99}]")
	}
	return out
}
