package scenarios

// Checks of issue 19 (real programs as services, rollouts that finish),
// called from Validate in one line.

func (c *checker) release() {
	c.requests() // validate_requests.go
	c.dockerServices()
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
	}
}
