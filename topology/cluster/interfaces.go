package cluster

import (
	"context"
	"net"
	"time"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/router"
)

// The two interfaces a runtime implements.

// NewLauncher makes a runtime's Launcher for one run. life lasts as long as
// the topology: background work the launcher starts ends with it.
type NewLauncher func(life context.Context, sc *scenarios.Scenario, opts topology.Options) Launcher

// Launcher starts and stops the instances of one run, and prepares and
// releases what they need around them.
type Launcher interface {
	// Prepare readies the run before any router or instance exists (log
	// directory, images, network, the data plane) and returns its data
	// plane. services are in dependency order; their Deps are not known yet.
	Prepare(ctx context.Context, services []*Service) (DataPlane, error)
	// Instance makes (does not start) instance number index of deployment
	// d of s. It is called with the cluster's lock held: it must not call
	// back into the cluster.
	Instance(s *Service, d topology.Deployment, index int) (Instance, error)
	// Close releases what Prepare made, once every instance is removed. It
	// is called once, also after a failed or interrupted Prepare.
	Close(ctx context.Context) error
}

// Instance is one instance as its runtime runs it: topology.Instance (kill,
// start, pause, resume, restart: signals to a process, calls to the Docker
// API) and what the control plane needs to bring it up and take it away.
type Instance interface {
	topology.Instance
	// Index is the instance's number within its version (its name's suffix).
	Index() int
	// Launch starts it for the first time and returns once it runs and the
	// runtime's own start-up checks passed; the router's health check
	// decides the rest.
	Launch(ctx context.Context) error
	// Exited is closed when the instance exits on its own; taken before
	// Launch, it also covers an exit during Launch.
	Exited() <-chan struct{}
	// Failed describes an instance that did not become ready with what a
	// user needs to fix it (its command, the end of its log); cause nil
	// means it exited on its own first.
	Failed(ctx context.Context, cause error) error
	// HostAddr is where the harness reaches the instance directly (feature
	// flags); "" when it never started.
	HostAddr() string
	// Remove stops the instance for good; reason goes into its
	// instance_stopped event.
	Remove(ctx context.Context, reason string) error
}

// MemoryDialer is a DataPlane whose routers run in this process: DialRouter
// connects to a service's router in memory (router.Router.DialMemory).
type MemoryDialer interface {
	DialRouter(ctx context.Context, service string) (net.Conn, error)
}

// DataPlane holds a run's routers (one per service) and edge proxies (one
// per dependency edge, in a Toxiproxy server).
type DataPlane interface {
	// AddRouter starts s's router and returns its base URL as the harness
	// reaches it.
	AddRouter(ctx context.Context, s *Service) (url string, err error)
	// AddEdge creates the Toxiproxy proxy named name that forwards to the
	// router of e.To, and returns the address e.From's instances dial.
	AddEdge(ctx context.Context, e scenarios.Edge, name string) (addr string, err error)
	// ToxiproxyURL is the API endpoint of the Toxiproxy server.
	ToxiproxyURL() string

	// AddBackend puts an instance behind its service's router.
	AddBackend(ctx context.Context, service string, b router.Backend) error
	// RemoveBackend takes an instance out of its router and drains it for
	// up to drain (less when ctx ends); a drain cut short is no error.
	RemoveBackend(ctx context.Context, service, instance string, drain time.Duration) error
	// WaitHealthy returns once the router finds the instance healthy.
	WaitHealthy(ctx context.Context, service, instance string) error

	SetWeights(ctx context.Context, service string, w map[string]int) error
	Weights(ctx context.Context, service string) (map[string]int, error)
	SetCohorts(ctx context.Context, service string, c router.Cohorts) error
	SetMirror(ctx context.Context, service, version string, percent int) error
	StartSynthetic(ctx context.Context, service, version string, rate float64, paths []string) (stop func(), err error)
	// AddHTTPFault applies an HTTP fault in the service's router (replacing
	// one with the same ID); RemoveHTTPFault takes it out.
	AddHTTPFault(ctx context.Context, service string, f router.HTTPFault) error
	RemoveHTTPFault(ctx context.Context, service, id string) error

	// Close stops routing (no new request reaches an instance being
	// stopped), after the routers' last samples and events are in.
	Close(ctx context.Context) error
}
