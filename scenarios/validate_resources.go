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
	case FaultMemoryLimit:
		if f.MemoryMB < 6 {
			c.at(p+".memory_mb", "a memory_limit fault needs memory_mb of at least 6 (Docker's floor); write e.g. memory_mb: 64")
		}
	}
}
