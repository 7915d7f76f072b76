package topology

import "context"

// Optional capabilities of a running Topology, found by type assertion:
// the rollout strategies that need them (rolling, phased, blue-green
// previews, feature-flag mitigation) fail before they start, saying which
// capability the runtime lacks, instead of every runtime having to
// implement everything.

// InstanceScaling retires some instances of a version: oldest first, each
// taken out of its router and drained before it stops. Rolling updates
// need it.
type InstanceScaling interface {
	RetireInstances(ctx context.Context, service, version string, n int) error
}

// Cohorts routes a service's requests by the hash of a header's (or a
// cookie's) value, so that a user stays with one version; Order lists the
// versions from the first bucket to the last (see router.Cohorts).
type Cohorts struct {
	Header string
	Cookie string
	Order  []string
}

// CohortRouting sets a service's cohorts (zero Cohorts: off). Phased
// rollouts need it.
type CohortRouting interface {
	SetCohorts(ctx context.Context, service string, c Cohorts) error
}

// Mirroring copies percent (0: stop) of a service's live requests to a
// version; the copies' answers are measured as record.Shadow samples and
// discarded. Blue-green previews on mirrored traffic need it.
type Mirroring interface {
	SetMirror(ctx context.Context, service, version string, percent int) error
}

// SyntheticTraffic sends rate requests per second of its own to a version
// of a service (record.Shadow samples) until stop. Blue-green previews on
// synthetic traffic need it.
type SyntheticTraffic interface {
	StartSynthetic(ctx context.Context, service, version string, rate float64, paths []string) (stop func(), err error)
}

// FeatureFlags turns a feature flag on or off on every instance of a
// version (the fixture's POST /flags/{name}?on=). Mitigation needs it.
type FeatureFlags interface {
	SetFlag(ctx context.Context, service, version, flag string, on bool) error
}
