package pg

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
)

// Role is what a node is to the harness.
type Role string

const (
	RolePrimary Role = "primary"
	RoleReplica Role = "replica"
	// RoleFormer is a primary that was replaced by a promotion. If it runs
	// (it was paused, or restarted) it still accepts writes: split brain.
	RoleFormer Role = "former_primary"
)

// stopGrace is how long a fast shutdown may take before SIGKILL.
const stopGrace = 10 * time.Second

// Node is one PostgreSQL server of the cluster.
type Node struct {
	c       *Cluster
	index   int
	name    string
	srv     Server
	logPath string
	log     *os.File
	// repl is the proxy this node replicates through (nil for the first primary).
	repl *toxiclient.Proxy

	// op serialises lifecycle operations.
	op sync.Mutex

	mu     sync.Mutex
	p      *Proc
	role   Role
	paused bool
	gone   bool // destroyed: never started again
}

// Name is the node's name, e.g. "db-1".
func (n *Node) Name() string { return n.name }

// Addr is host:port where the harness reaches the server (direct, not
// through a proxy).
func (n *Node) Addr() string { return n.srv.Addr() }

// DataDir is the node's data directory on this machine ("" when it lives
// elsewhere, as in a container).
func (n *Node) DataDir() string {
	if s, ok := n.srv.(*localServer); ok {
		return s.dir
	}
	return ""
}

// LogPath is the node's log file.
func (n *Node) LogPath() string { return n.logPath }

// Role is the node's current role.
func (n *Node) Role() Role {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.role
}

func (n *Node) setRole(r Role) {
	n.mu.Lock()
	n.role = r
	n.mu.Unlock()
}

// Running reports whether the server is up (paused counts as up).
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.p != nil && !n.p.exited()
}

// Paused reports whether the node is frozen.
func (n *Node) Paused() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.paused
}

// Pid is the postmaster's pid, 0 when it is not running (or unknown).
func (n *Node) Pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.p == nil || n.p.exited() {
		return 0
	}
	return n.p.Pid
}

// ReplicationProxy is the Toxiproxy proxy this node replicates through ("" for
// the first primary).
func (n *Node) ReplicationProxy() string {
	if n.repl == nil {
		return ""
	}
	return n.repl.Name
}

// newNode opens the log of node i (named Name-i unless name is given) and
// prepares its server on host with spec (Name and Log are filled in).
func (c *Cluster) newNode(ctx context.Context, i int, role Role, name string, host Host, spec ServerSpec) (*Node, error) {
	if name == "" {
		name = fmt.Sprintf("%s-%d", c.cfg.Name, i)
	}
	n := &Node{c: c, index: i, name: name, role: role}
	logDir := c.cfg.LogDir
	if logDir == "" {
		logDir = c.base
	}
	n.logPath = filepath.Join(logDir, "postgres-"+n.name+".log")
	var err error
	if n.log, err = os.OpenFile(n.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
		return nil, fmt.Errorf("open the log of %s: %w; check that %s is writable", n.name, err, logDir)
	}
	spec.Cluster, spec.Name, spec.Log = c.cfg.Name, n.name, n.log
	if n.srv, err = host.NewServer(ctx, spec); err != nil {
		_ = n.log.Close()
		return nil, fmt.Errorf("prepare the server of %s: %w", n.name, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		_ = n.srv.Destroy(context.WithoutCancel(ctx))
		_ = n.log.Close()
		return nil, fmt.Errorf("cluster %s is closed: %w", c.cfg.Name, context.Canceled)
	}
	c.nodes = append(c.nodes, n)
	return n, nil
}

// spawnLocked starts the server; n.op must be held.
func (n *Node) spawnLocked(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.gone {
		return fmt.Errorf("node %s was destroyed; it cannot start again", n.name)
	}
	if n.p != nil && !n.p.exited() {
		return nil
	}
	fmt.Fprintf(n.log, "=== firedrill %s: starting %s on %s\n", time.Now().UTC().Format(time.RFC3339Nano), n.name, n.Addr())
	p, err := n.srv.Start(ctx)
	if err != nil {
		return err
	}
	n.p, n.paused = p, false
	go n.reap(p)
	return nil
}

func (n *Node) reap(p *Proc) {
	<-p.Done()
	n.mu.Lock()
	stopping := p.stopping
	n.mu.Unlock()
	if !stopping {
		n.c.event(EvNodeExited, n, fmt.Sprintf("postgres %s exited on its own: %s", n.name, p.State()), map[string]any{"pid": p.Pid})
	}
}

// launch starts the server and waits until it accepts connections.
func (n *Node) launch(ctx context.Context) error {
	n.op.Lock()
	defer n.op.Unlock()
	if err := n.spawnLocked(ctx); err != nil {
		return err
	}
	if err := n.waitReady(ctx); err != nil {
		return err
	}
	fields := map[string]any{"pid": n.Pid(), "role": string(n.Role())}
	if dir := n.DataDir(); dir != "" {
		fields["data_dir"] = dir
		if id, ok := segmentID(filepath.Join(dir, "postmaster.pid")); ok {
			fields["shmid"] = id // System V segment: must not outlive the run
		}
	}
	if d, ok := n.srv.(interface{ Fields() map[string]any }); ok {
		maps.Copy(fields, d.Fields())
	}
	n.c.event(EvNodeStarted, n, fmt.Sprintf("%s %s up (pid %d)", n.Role(), n.name, n.Pid()), fields)
	return nil
}

// waitReady polls until the server answers a query, failing fast when it
// exits.
func (n *Node) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, n.c.cfg.StartTimeout)
	defer cancel()
	n.mu.Lock()
	p := n.p
	n.mu.Unlock()
	for {
		qctx, qcancel := context.WithTimeout(ctx, time.Second)
		_, err := n.InRecovery(qctx)
		qcancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("postgres %s exited while starting (%s); the end of %s:%s", n.name, p.State(), n.logPath, LogTail(n.logPath, 8))
		case <-ctx.Done():
			return fmt.Errorf("postgres %s not ready within %s (%v): %w; see %s", n.name, n.c.cfg.StartTimeout, err, ctx.Err(), n.logPath)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Kill SIGKILLs the server and all its processes, like a crashed machine,
// and returns once they are gone. It stays down until Start.
func (n *Node) Kill(ctx context.Context) error {
	n.op.Lock()
	defer n.op.Unlock()
	return n.killLocked(ctx, "killed")
}

func (n *Node) killLocked(ctx context.Context, why string) error {
	n.mu.Lock()
	p := n.p
	if p != nil {
		p.stopping = true
	}
	n.paused = false
	n.mu.Unlock()
	if p == nil || p.exited() {
		return nil
	}
	if err := n.srv.Kill(ctx, p); err != nil {
		return err
	}
	n.c.event(EvNodeStopped, n, fmt.Sprintf("%s %s %s (SIGKILL)", n.Role(), n.name, why), map[string]any{"pid": p.Pid, "reason": why})
	return nil
}

// Stop shuts the server down cleanly (fast shutdown: a primary first sends
// its replicas all the WAL it has), SIGKILL after 10s.
func (n *Node) Stop(ctx context.Context) error {
	n.op.Lock()
	defer n.op.Unlock()
	n.mu.Lock()
	p := n.p
	if p != nil {
		p.stopping = true
	}
	paused := n.paused
	n.paused = false
	n.mu.Unlock()
	if p == nil || p.exited() {
		return nil
	}
	if paused {
		_ = n.srv.Resume(ctx, p)
	}
	_ = n.srv.Interrupt(ctx, p)
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-p.Done():
		n.c.event(EvNodeStopped, n, fmt.Sprintf("%s %s stopped (fast shutdown)", n.Role(), n.name), map[string]any{"pid": p.Pid, "reason": "stopped"})
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	return n.killLocked(context.WithoutCancel(ctx), "stopped")
}

// Start starts a stopped or killed server again (crash recovery on its own
// data) and waits until it answers. Its role is what it was.
func (n *Node) Start(ctx context.Context) error { return n.launch(ctx) }

// Pause freezes the server and all its processes and returns once they
// are frozen.
func (n *Node) Pause(ctx context.Context) error {
	n.op.Lock()
	defer n.op.Unlock()
	n.mu.Lock()
	p := n.p
	n.mu.Unlock()
	if p == nil || p.exited() {
		return fmt.Errorf("postgres %s is not running; nothing to pause", n.name)
	}
	n.mu.Lock()
	n.paused = true
	n.mu.Unlock()
	return n.srv.Pause(ctx, p)
}

// Resume thaws a paused server.
func (n *Node) Resume(ctx context.Context) error {
	n.op.Lock()
	defer n.op.Unlock()
	n.mu.Lock()
	p, paused := n.p, n.paused
	n.paused = false
	n.mu.Unlock()
	if p == nil || p.exited() || !paused {
		return nil
	}
	return n.srv.Resume(ctx, p)
}

// destroy kills the server for good, releases what its host holds for it
// and closes its log.
func (n *Node) destroy(ctx context.Context) error {
	n.op.Lock()
	defer n.op.Unlock()
	n.mu.Lock()
	n.gone = true
	n.mu.Unlock()
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := n.killLocked(kctx, "removed")
	if derr := n.srv.Destroy(kctx); derr != nil {
		err = errors.Join(err, derr)
	}
	if n.repl != nil {
		_ = n.repl.Delete()
	}
	if n.log != nil {
		_ = n.log.Close()
	}
	if err != nil {
		return errors.Join(err, fmt.Errorf("node %s", n.name))
	}
	return nil
}
