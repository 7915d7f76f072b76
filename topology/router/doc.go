// Package router is the per-service HTTP reverse proxy of firedrill's data
// plane. Every service has one in front of its instances; callers know only
// its address. A canary is a weight change here, and every forwarded
// request becomes a record.Hop sample (service, the version and instance
// that served it, status or error kind, latency from when the router
// received it), which canary analysis reads.
//
// # Choosing a backend
//
// The hot path reads an immutable table through an atomic pointer; the
// table is rebuilt under a mutex whenever weights, membership, health or
// ejection change (rare events), never per request. Without weights, every
// eligible backend (healthy, not ejected, not draining) is used in turn, so
// versions share traffic by backend count. With weights, a version is drawn
// by weight from SplitMix64 of (seed, request counter) — lock-free, and the
// n-th draw depends only on the seed — then its eligible backends are used
// round-robin. A version that has backends but none eligible falls back to
// the other weighted versions that have one; a version with no backends at
// all (or no eligible backend anywhere) gets the router's own 503 with
// X-Firedrill-Router: no-healthy-backend, recorded with an empty version.
//
// # Health, ejection, draining
//
// Each backend has an active health check goroutine (HTTP GET expecting
// 2xx on a fresh connection, or a TCP connect), bounded by a timeout so a
// paused process fails it. UnhealthyAfter failures take a backend out,
// HealthyAfter passes bring it in; both emit events. Passive outlier
// ejection removes a backend after ConsecutiveErrors 5xx or transport
// errors for BaseTime times its ejection count, never more than MaxPercent
// of the backends at once. Remove publishes a table without the backend,
// then flags it draining: a request that picked it from an older table
// sees the flag after counting itself in flight and picks again, so once
// the in-flight count is zero no request can still reach it.
//
// # Proxying
//
// Each backend has its own httputil.ReverseProxy and pooled http.Transport
// (keep-alives, many idle connections, dropped on Remove). Plain GETs take a
// lean path instead (lean.go: its own keep-alive pool, in the handler's
// goroutine) that sends and answers what ReverseProxy would. Bodies stream;
// responses get X-Firedrill-Backend. A transport error is answered 502 and
// recorded with its record.ErrKind; the router never retries.
package router
