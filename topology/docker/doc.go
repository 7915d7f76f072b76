// Package docker runs a scenario's topology as containers, through
// testcontainers-go (and the Docker client where it has no call), on a
// daemon that cannot pull anything. The control plane (services, deploy,
// retire, routing, order of start and stop) is topology/cluster's; this
// package implements its Launcher (run.go: network, reaper, data plane
// container, instances' containers in instance.go) and its DataPlane
// (dpclient.go: the data plane container's control API).
//
// # Shape of a run
//
// Each run gets a private bridge network firedrill-<run id>. On it:
//
//   - one container per instance, network alias <service>-<version>-<n>;
//     fixtures run the firedrill image, `image:` services their own image;
//   - one data plane container (alias "dataplane") running `firedrill
//     dataplane`: every service's router (topology/router) and the
//     Toxiproxy server (topology/toxi) in one process. The harness drives it
//     over a small JSON control API (see api.go) and polls the routers' hop
//     samples and events every 100 ms into its own recorder and event log;
//     a sample's time travels as Unix nanoseconds (the container shares the
//     host's clock). Edge proxies listen in the data plane and forward to
//     the routers over its loopback; an instance reaches a dependency at
//     dataplane:<edge proxy port>. The Toxiproxy API is published, so
//     faults drive toxics through the stock client, as on the local runtime;
//   - a reaper container running `firedrill reaper` with the Docker socket
//     mounted (see reaper.go), which removes the run when its harness dies
//     without cleaning up.
//
// Every port is published on 127.0.0.1 only; nothing is privileged; every
// container and the network carry firedrill.run=<run id>,
// firedrill.scenario, firedrill.role and the harness's pid and boot id, so
// that Down, the reaper and `firedrill clean` find them by label.
//
// # Images
//
// The fixtures, the data plane and the reaper all run from
// firedrill-local:<hash of the binary>, built FROM scratch from a static
// firedrill binary and cached by content (image.go). A missing `image:`
// fails Up before anything is created, with a *MissingImageError.
package docker
