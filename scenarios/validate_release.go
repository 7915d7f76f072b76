package scenarios

import "time"

// Checks of issue 19 (real programs as services, rollouts that finish),
// called from Validate in one line.

func (c *checker) release() {
	c.requests() // validate_requests.go
	c.configs()
	c.dockerServices()
	c.rolloutFits()
}

// configs checks each service's config: template (command services only).
func (c *checker) configs() {
	for _, svc := range c.s.Services {
		if svc == nil || svc.Config == "" {
			continue
		}
		p := child("services", svc.Name) + ".config"
		if len(svc.Command) == 0 {
			c.at(p, "only a command service has a config file; fixtures and images configure themselves (remove config)")
			continue
		}
		c.template(p, svc.Config, svc, svc.Version)
	}
}

// ReadyStart is what the fit check counts for a new instance to start and
// pass its first health check (checked at once, then after a short
// backoff): a process, or a container, which takes seconds.
func ReadyStart(runtime string) time.Duration {
	if runtime == "docker" {
		return 2 * time.Second
	}
	return 500 * time.Millisecond
}

// ReadinessTime is what the rollout spends waiting for its new version to
// be ready when all goes well: per deploy (rolling: per batch) ReadyStart
// plus healthy_after-1 health intervals (the passes after the first come
// an interval apart); deploys is how many it counts.
func (s *Scenario) ReadinessTime() (total time.Duration, deploys int) {
	ro := s.Rollout
	if ro == nil || s.Service(ro.Service) == nil {
		return 0, 0
	}
	svc := s.Service(ro.Service)
	deploys = 1
	if ro.Strategy == StrategyRolling {
		deploys = max(ro.Batches(), 1)
	}
	per := ReadyStart(s.Runtime) + time.Duration(max(svc.Health.HealthyAfter-1, 0))*max(svc.Health.Interval.D(), 0)
	return time.Duration(deploys) * per, deploys
}

// rolloutFits refuses a rollout that cannot finish inside the traffic:
// its start, its waits and the readiness of its new version must all fit,
// or its last step is cut and the run ends without a verdict on it.
func (c *checker) rolloutFits() {
	ro := c.s.Rollout
	have := c.s.Traffic.Duration.D()
	if ro == nil || have <= 0 || c.s.Service(ro.Service) == nil {
		return
	}
	planned := c.s.RolloutDuration()
	ready, deploys := c.s.ReadinessTime()
	// A rollout whose waits alone do not fit is refused with those figures
	// by rollout(); this one adds the readiness the waits do not count.
	if need := planned + ready; planned <= have && need > have {
		c.atKey("rollout", "the rollout needs %s (start_at %s + the new version's readiness %s: %d deploy(s) x (%s to start on the %s runtime + healthy_after-1 health intervals) + the strategy's waits %s) but traffic.duration is %s; make traffic.duration at least %s or shorten the waits",
			need, ro.StartAt, ready, deploys, ReadyStart(c.s.Runtime), orLocal(c.s.Runtime), planned-ro.StartAt.D(), have, need)
	}
}

// dockerServices refuses what the docker runtime cannot do with a service,
// before anything starts (it would fail at start-up with exit 3).
func (c *checker) dockerServices() {
	if c.s.Runtime != "docker" {
		return
	}
	for _, svc := range c.s.Services {
		if svc == nil {
			continue
		}
		p := child("services", svc.Name)
		if len(svc.Command) > 0 && svc.Image == "" {
			c.at(p+".command", "the docker runtime runs fixtures and images, not host commands; build an image of the program (image: name) or run with runtime: local")
		}
		if svc.Config != "" && len(svc.Command) == 0 {
			c.at(p+".config", "the docker runtime cannot write a config file into a container; bake it into the image or run with runtime: local")
		}
	}
}

func orLocal(runtime string) string {
	if runtime == "" {
		return "local"
	}
	return runtime
}
