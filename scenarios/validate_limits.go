package scenarios

import (
	"fmt"
	"time"
)

// The limits the runtime enforces, mirrored here so that a file that could
// never run is refused by validate (exit 2) before anything starts, not by
// run after the topology is up (exit 3). Each names where it comes from.
const (
	// MaxRate is the traffic generator's ceiling (traffic.Config.validate).
	MaxRate = 1e9
	// MaxSyntheticRate is a router's synthetic preview ceiling
	// (topology/router shadow.go).
	MaxSyntheticRate = 10000
	// MaxReplicas bounds the instances of one service or version: each
	// is a process or a container of this machine.
	MaxReplicas = 100
	// MaxDockerServices and MaxDockerEdges: the docker data plane gives
	// router i port 10000+i and edge proxy j port 20000+j
	// (topology/docker api.go), so routers stop below 20000 and proxies
	// at 65535.
	MaxDockerServices = 10000
	MaxDockerEdges    = 65535 - 20000 + 1
	// MaxTrafficDuration bounds a drill; timings beyond it add up past
	// what a time.Duration holds long before anyone waits for them.
	MaxTrafficDuration = Duration(24 * time.Hour)
)

// limits checks the runtime limits; called from scenario().
func (c *checker) limits() {
	s := c.s
	if t := s.Traffic; t.Rate > MaxRate {
		c.at("traffic.rate", "%g requests per second is beyond the traffic generator; write a rate from above 0 to 1e9 (a billion) requests per second", t.Rate)
	}
	if s.Traffic.Duration > MaxTrafficDuration {
		c.at("traffic.duration", "%s is too long; write a duration from 1s to %s", s.Traffic.Duration, MaxTrafficDuration)
	}
	for _, svc := range s.Services {
		if svc == nil {
			continue
		}
		p := child("services", svc.Name)
		if svc.Replicas > MaxReplicas {
			c.at(p+".replicas", "%d instances is more than this machine runs for one service; write replicas from 1 to %d", svc.Replicas, MaxReplicas)
		}
		if svc.Port < 0 || svc.Port > 65535 {
			c.at(p+".port", "%d is not a TCP port; write a port from 1 to 65535", svc.Port)
		}
	}
	if r := s.Rollout; r != nil && r.Replicas > MaxReplicas {
		c.at("rollout.replicas", "%d instances of the new version is more than this machine runs for one service; write replicas from 1 to %d", r.Replicas, MaxReplicas)
	}
	if bg := c.bgOpts(); bg != nil && bg.SyntheticRate > MaxSyntheticRate {
		c.at("rollout.blue_green.synthetic_rate", "%g requests per second is beyond a router's synthetic preview; write a rate from above 0 to %d", bg.SyntheticRate, MaxSyntheticRate)
	}
	for i, f := range s.Faults {
		if f != nil && f.Kind == FaultSlicer && f.SizeVariation > f.AverageSize && f.AverageSize > 0 {
			c.at(fmt.Sprintf("faults[%d].size_variation", i), "%d bytes is more than average_size (%d bytes); a slice is average_size ± size_variation bytes and must stay above 0: write size_variation from 0 to %d",
				f.SizeVariation, f.AverageSize, f.AverageSize)
		}
	}
	c.dockerLimits()
}

func (c *checker) bgOpts() *BlueGreen {
	if c.s.Rollout == nil {
		return nil
	}
	return c.s.Rollout.BlueGreen
}

// dockerLimits are the docker data plane's port ranges.
func (c *checker) dockerLimits() {
	s := c.s
	if s.Runtime != "docker" {
		return
	}
	if n := len(s.Services); n > MaxDockerServices {
		c.atKey("services", "%d services is more than the docker data plane routes (its routers listen on ports 10000 to 19999); use at most %d services, or runtime: local", n, MaxDockerServices)
	}
	edges := 0
	for _, svc := range s.Services {
		if svc != nil {
			edges += len(svc.DependsOn)
		}
	}
	if edges > MaxDockerEdges {
		c.atKey("services", "%d dependencies is more than the docker data plane proxies (ports 20000 to 65535); use at most %d, or runtime: local", edges, MaxDockerEdges)
	}
}
