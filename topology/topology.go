// Package topology brings a scenario's services up and owns the data plane:
// a router in front of every service and one Toxiproxy proxy on every
// dependency edge. It knows nothing of rollouts or verdicts.
package topology

import (
	"context"
	"net"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// Options are what every runtime needs from the harness.
type Options struct {
	// RunID labels everything the run creates (processes' env, containers).
	RunID string
	// RunDir is the run's output directory; instance logs go to RunDir/logs.
	RunDir string
	// Binary is the firedrill executable that serves `firedrill fixture
	// httpsvc` (default: os.Executable()).
	Binary string
	// Events receives instance_started/stopped/healthy/unhealthy events.
	Events *record.Log
	// Recorder receives one Hop sample per request each router forwards.
	Recorder *record.Recorder
	// Progress, when set, is told about each instance as it becomes healthy.
	Progress func(service, instance string, done, total int)
	// DatabaseAddr, when set, is the host:port at which service reaches a
	// database it depends on (its proxy to the current primary, owned by
	// topology/pg); such a dependency gets no router or edge proxy here.
	DatabaseAddr func(service, database string) (string, bool)
}

// Runtime starts and stops a scenario's topology.
type Runtime interface {
	// Up starts every service's instances, routers and edge proxies and
	// returns once all instances are healthy. On error, everything already
	// started is stopped before it returns.
	Up(ctx context.Context, sc *scenarios.Scenario, opts Options) (Topology, error)
	// Down stops everything Up started. It is idempotent and safe to call
	// from a signal handler's goroutine and after a failed Up.
	Down(ctx context.Context) error
}

// Deployment is a set of instances of one version of a service.
type Deployment struct {
	Version  string
	Replicas int
	// Env and Args are merged over (appended to) the service's own.
	Env  map[string]string
	Args []string
}

// EntryDialer is a Topology that may run its entry router in this process
// (the local runtime): EntryDial then returns a dial reaching it in memory,
// so the traffic generator skips the loopback hop. nil: dial EntryURL.
type EntryDialer interface {
	EntryDial() func(ctx context.Context) (net.Conn, error)
}

// Topology is a running topology.
type Topology interface {
	// EntryURL is the base URL of the traffic entry service's router.
	EntryURL() string
	// RouterURL is the base URL of a service's router.
	RouterURL(service string) string
	// ToxiproxyURL is the Toxiproxy API endpoint driving the edge proxies.
	ToxiproxyURL() string
	// ProxyName is the Toxiproxy proxy name of a dependency edge.
	ProxyName(e scenarios.Edge) string

	// SetWeights routes traffic of a service by version (percent, summing to
	// 100). Versions not named get 0.
	SetWeights(ctx context.Context, service string, w map[string]int) error
	// Weights returns the current weights of a service.
	Weights(service string) map[string]int

	// Deploy starts the instances of a new version of a service (not yet
	// receiving traffic: weight 0) and returns once they are healthy.
	Deploy(ctx context.Context, service string, d Deployment) error
	// Retire takes every instance of a version out of its router, drains it
	// and stops it.
	Retire(ctx context.Context, service, version string) error
	// Instances returns the instances of a service's version ("" for all).
	Instances(service, version string) []Instance
}

// Instance is one process or container of a service.
type Instance interface {
	Name() string
	Service() string
	Version() string
	// Addr is host:port where the instance listens.
	Addr() string
	// Kill sends SIGKILL; the instance stays down until Start.
	Kill(ctx context.Context) error
	// Start starts a killed or stopped instance again with the same
	// address, and returns once it is running (not necessarily healthy).
	Start(ctx context.Context) error
	// Pause freezes the instance (SIGSTOP / docker pause); Resume thaws it.
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
	// Restart stops (gracefully) and starts the instance.
	Restart(ctx context.Context) error
}
