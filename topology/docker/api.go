package docker

import (
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// The data plane's control API (JSON over HTTP), served by `firedrill
// dataplane` inside the run network and published on 127.0.0.1:
//
//	GET    /healthz                                   "ok"
//	POST   /v1/routers                                routerSpec -> routerInfo
//	POST   /v1/routers/{svc}/backends                 router.Backend
//	DELETE /v1/routers/{svc}/backends/{name}?drain=5s drains, then removes
//	POST   /v1/routers/{svc}/backends/{name}/healthy  blocks until healthy (request context bounds it)
//	GET    /v1/routers/{svc}/backends                 []router.BackendStatus
//	PUT    /v1/routers/{svc}/weights                  map[version]percent
//	GET    /v1/routers/{svc}/weights                  map[version]percent
//	PUT    /v1/routers/{svc}/cohorts                  router.Cohorts (zero: off)
//	PUT    /v1/routers/{svc}/mirror                   mirrorSpec
//	POST   /v1/routers/{svc}/synthetic                syntheticSpec -> syntheticInfo
//	DELETE /v1/synthetic/{id}                         stops that synthetic traffic
//	GET    /v1/poll?samples=N&names=K&events=E        pollReply: what happened since
//
// Errors are answered 4xx/5xx with apiError.

// Data plane ports inside its container. Routers listen on routerBasePort+i
// (i: the service's index in start order), edge proxies on proxyBasePort+j.
const (
	controlPort    = 7000
	toxiproxyPort  = 8474
	reaperPort     = 7001
	routerBasePort = 10000
	proxyBasePort  = 20000
)

// dataplaneAlias is the data plane's name on the run network: instances
// reach their dependencies at dataplane:<proxy port>.
const dataplaneAlias = "dataplane"

type routerSpec struct {
	Service string           `json:"service"`
	Listen  string           `json:"listen"` // e.g. "0.0.0.0:10000"
	Health  scenarios.Health `json:"health"`
	Seed    int64            `json:"seed"`
}

type routerInfo struct {
	Addr string `json:"addr"`
}

type mirrorSpec struct {
	Version string `json:"version"`
	Percent int    `json:"percent"`
}

type syntheticSpec struct {
	Version string   `json:"version"`
	Rate    float64  `json:"rate"`
	Paths   []string `json:"paths"`
}

type syntheticInfo struct {
	ID string `json:"id"`
}

type apiError struct {
	Error string `json:"error"`
}

// pollReply carries the samples and events the routers recorded since the
// harness's last poll. A sample is [at, latency_us, status, err, service,
// version, instance, source, caller]: at is the router's receive time in Unix
// nanoseconds (the data plane's recorder counts from the epoch, and the
// container shares the host's clock); service, version and instance index
// Names; source is the record.Source (hop or shadow); caller indexes Names
// (the calling instance's service@version).
type pollReply struct {
	Samples    [][9]int64     `json:"samples"`
	NextSample int            `json:"next_sample"`
	Names      map[int]string `json:"names,omitempty"` // index -> name, for indexes >= the names asked for
	Events     []record.Event `json:"events,omitempty"`
	NextEvent  int            `json:"next_event"`
}
