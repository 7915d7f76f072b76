// Package pgdocker runs the servers of a pg.Cluster as Docker containers,
// for scenarios on the docker runtime.
//
// # Image
//
// EnsureImage builds firedrill-postgres:<major>-<hash> on the daemon without
// pulling anything: a root filesystem imported FROM scratch, assembled from
// the PostgreSQL installed on this machine (pg_config's bin, pkglib and
// share directories; Debian's postgresql-15 and postgresql-client-15), the
// shared libraries they load (ldd, with the dynamic loader and the symbolic
// links on the way), the time zone database, dash as /bin/sh and a postgres
// user. The hash covers every byte of it, so the image is built once per
// machine and again only when the packages change. Its entry creates the
// data directory on the first start (initdb, or pg_basebackup -R through
// the replica's replication proxy) and runs postgres on it.
//
// # Containers
//
// A Host has a bridge network of its own, firedrill-<run>-pg. Each server
// is one container on it, run as postgres, with its data directory inside
// (removed with it) and its port published on 127.0.0.1 at a fixed port
// (the same after docker kill and start). The cluster's Toxiproxy proxies
// listen on the network's gateway address: the servers reach it for
// replication, and the docker runtime's instances on their own network
// reach it too (an address of this machine). Kill is docker kill (SIGKILL:
// a crashed machine; a paused container dies without thawing), Start is
// docker start (crash recovery on its own data), Pause/Resume are docker
// pause/unpause, a fast shutdown is SIGINT. Every container and the
// network carry the docker runtime's labels (firedrill.run, .scenario,
// .role=database, .pid, .boot), so the run's reaper and `firedrill clean`
// remove them when the harness dies; Close removes them otherwise.
package pgdocker
