package pg

import (
	"context"
	"io"
	"sync"
)

// Host runs the servers of a cluster. The cluster's logic (roles, events,
// promotion, fencing, repointing, sampling) is the same on every host; what
// differs is how a server is created, started, killed and frozen. A nil
// Config.Host runs local processes; pgdocker runs containers.
type Host interface {
	// ProxyIP is the address the cluster's proxies listen on (at a port
	// Toxiproxy picks): the servers reach it for replication and the
	// runtime's services for their client proxies. Never 0.0.0.0.
	ProxyIP() string
	// Settings are postgresql.conf settings the host needs (for example
	// listen_addresses), applied over the cluster's own and under the
	// scenario's.
	Settings() map[string]string
	// NewServer prepares one node's server; nothing runs before Create.
	NewServer(ctx context.Context, spec ServerSpec) (Server, error)
}

// ServerSpec describes one node's server.
type ServerSpec struct {
	// Cluster is the database's name, Name the node's ("db-1"); the server
	// runs with cluster_name = Name (replicas appear under it in the
	// primary's pg_stat_replication).
	Cluster, Name string
	// Upstream is the host:port a replica's base backup is taken through
	// (its replication proxy; pg_basebackup -R writes it as
	// primary_conninfo). "" creates a fresh primary with initdb.
	Upstream string
	// Conf are postgresql.conf lines appended to a fresh primary's
	// configuration (replicas copy it).
	Conf []string
	// Log receives the server's output.
	Log io.Writer
}

// Server is one node's PostgreSQL server on a host.
type Server interface {
	// Addr is host:port where the harness reaches the server directly.
	Addr() string
	// Create makes the data directory (initdb and Conf, or a base backup
	// through Upstream). A host may leave that work to the first Start,
	// which then takes longer.
	Create(ctx context.Context) error
	// Start starts the server on its data directory (crash recovery when
	// it was killed) and returns without waiting for it to accept
	// connections. The Proc ends when the server exits, whoever ends it.
	Start(ctx context.Context) (*Proc, error)
	// Kill SIGKILLs every process of the server, like a crashed machine,
	// and returns once they are gone (also when it was paused).
	Kill(ctx context.Context, p *Proc) error
	// Interrupt asks for a fast shutdown (SIGINT to the postmaster).
	Interrupt(ctx context.Context, p *Proc) error
	// Pause freezes every process of the server and returns once they are
	// frozen; Resume thaws them.
	Pause(ctx context.Context, p *Proc) error
	Resume(ctx context.Context, p *Proc) error
	// Destroy releases what the server holds beyond its processes (its
	// container). It is called once, after the last Kill.
	Destroy(ctx context.Context) error
}

// Proc is one run of a server, from Start until it exits.
type Proc struct {
	// Pid is the postmaster's pid on this machine (0 when unknown).
	Pid int

	done  chan struct{}
	once  sync.Once
	state string
	// stopping is set when the harness ends the server (no "exited on its
	// own" event); guarded by the node's mu.
	stopping bool
}

// NewProc returns the Proc of a server that just started.
func NewProc(pid int) *Proc { return &Proc{Pid: pid, done: make(chan struct{})} }

// Exit records that the server has exited and how ("exit status 1",
// "signal: killed"); later calls are ignored.
func (p *Proc) Exit(state string) {
	p.once.Do(func() {
		p.state = state
		close(p.done)
	})
}

// Done is closed once the server has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// State is how the server ended ("" while it runs).
func (p *Proc) State() string {
	select {
	case <-p.done:
		return p.state
	default:
		return ""
	}
}

func (p *Proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// InitdbFlags are the initdb flags (after -D <dir>) of a fresh primary, on
// every host. --no-sync: see settings(); --auth=trust: only the harness and
// the cluster's own proxies connect.
var InitdbFlags = []string{"-U", Superuser, "--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C", "--no-instructions"}

// BaseBackupFlags are the pg_basebackup flags (after -D <dir> -h <host> -p
// <port>) of a new replica: -R writes primary_conninfo (the proxy).
var BaseBackupFlags = []string{"-U", Superuser, "-R", "-X", "stream", "-c", "fast", "--no-sync"}
