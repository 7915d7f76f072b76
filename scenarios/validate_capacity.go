package scenarios

// PeakInstances is how many service instances a live run of s has at
// most: every service's replicas, plus the new version's instances the
// rollout adds at once (a canary's or a blue-green stack's replicas, a
// rolling update's surge). `firedrill validate` compares it with what the
// machine holds; `firedrill simulate` runs fleets of any size.
func (s *Scenario) PeakInstances() int {
	n := 0
	for _, svc := range s.Services {
		if svc != nil {
			n += max(svc.Replicas, 1)
		}
	}
	ro := s.Rollout
	if ro == nil {
		return n
	}
	switch {
	case ro.Strategy == StrategyRolling && ro.Rolling != nil:
		n += max(ro.Rolling.MaxSurge, 0)
	default:
		n += max(ro.Replicas, 1)
	}
	return n
}
