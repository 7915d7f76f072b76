package scenarios

// resourceFault checks the limits of cpu_throttle and memory_limit (the
// engine's floors: a 1 ms CFS quota per 100 ms, 6 MB of memory). That they
// need the docker runtime is checked with the other container faults.
func (c *checker) resourceFault(f *Fault, p string) {
	switch f.Kind {
	case FaultCPUThrottle:
		if f.CPUs < 0.01 {
			c.at(p+".cpus", "a cpu_throttle fault needs cpus of at least 0.01 (the CPUs the instance may use); write e.g. cpus: 0.1")
		}
	case FaultNetem:
		c.netem(f, p)
	case FaultMemoryLimit:
		if f.MemoryMB < 6 {
			c.at(p+".memory_mb", "a memory_limit fault needs memory_mb of at least 6 (Docker's floor); write e.g. memory_mb: 64")
		}
	}
}

func (c *checker) netem(f *Fault, p string) {
	if f.Latency <= 0 && f.LossPercent == 0 && f.CorruptPercent == 0 {
		c.at(p+".kind", "a netem fault needs latency, loss_percent or corrupt_percent; write e.g. loss_percent: 10")
	}
	if f.Latency < 0 || f.Jitter < 0 {
		c.at(p+".latency", "latency and jitter must not be negative")
	}
	for key, v := range map[string]float64{"loss_percent": f.LossPercent, "corrupt_percent": f.CorruptPercent} {
		if v < 0 || v > 100 {
			c.at(p+"."+key, "%v is not a percentage of packets; write a value from 0 to 100", v)
		}
	}
}
