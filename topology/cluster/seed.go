package cluster

import "hash/fnv"

// SeedEnv is the environment variable a fixture instance takes its seed
// from (httpsvc's --seed fallback); a service's own env or --seed wins.
const SeedEnv = "SEED"

// InstanceSeed derives an instance's seed from the run's seed and its
// name: the same run seed gives every instance the same draws again, and
// another run seed gives independent ones (SplitMix64 of the mix, so
// neighbouring seeds do not give neighbouring streams).
func InstanceSeed(runSeed int64, instance string) int64 {
	h := fnv.New64a()
	h.Write([]byte(instance))
	z := uint64(runSeed)*0x9E3779B97F4A7C15 ^ h.Sum64()
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return int64(z ^ (z >> 31))
}

// RouterSeed is the seed of a service's router (its weighted draws of a
// version), distinct per service and fixed by the run's seed.
func RouterSeed(runSeed int64, serviceIndex int) int64 {
	return runSeed*1_000_003 + int64(serviceIndex)
}
