package pg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/firedrill/firedrill/topology/local"
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
	port    int
	dir     string
	logPath string
	log     *os.File
	// repl is the proxy this node replicates through (nil for the first primary).
	repl *toxiclient.Proxy

	// op serialises lifecycle operations.
	op sync.Mutex

	mu     sync.Mutex
	p      *proc
	role   Role
	paused bool
	gone   bool // destroyed: never started again
}

type proc struct {
	cmd  *exec.Cmd
	pid  int
	done chan struct{}
	// stopping is set when the harness stops it (no "exited on its own" event).
	stopping bool
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Name is the node's name, e.g. "db-1".
func (n *Node) Name() string { return n.name }

// Addr is host:port where the server listens (direct, not through a proxy).
func (n *Node) Addr() string { return "127.0.0.1:" + strconv.Itoa(n.port) }

// DataDir is the node's data directory.
func (n *Node) DataDir() string { return n.dir }

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

// Running reports whether the server's process is up (paused counts as up).
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.p != nil && !n.p.exited()
}

// Paused reports whether the node is SIGSTOPped.
func (n *Node) Paused() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.paused
}

// Pid is the postmaster's pid, 0 when it is not running.
func (n *Node) Pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.p == nil || n.p.exited() {
		return 0
	}
	return n.p.pid
}

// ReplicationProxy is the Toxiproxy proxy this node replicates through ("" for
// the first primary).
func (n *Node) ReplicationProxy() string {
	if n.repl == nil {
		return ""
	}
	return n.repl.Name
}

// newNode reserves a port, a data directory path and a log for node i
// (named Name-i unless name is given).
func (c *Cluster) newNode(i int, role Role, name string) (*Node, error) {
	port, err := local.FreePort()
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = fmt.Sprintf("%s-%d", c.cfg.Name, i)
	}
	n := &Node{c: c, index: i, name: name, port: port, role: role}
	n.dir = filepath.Join(c.base, n.name)
	logDir := c.cfg.LogDir
	if logDir == "" {
		logDir = c.base
	}
	n.logPath = filepath.Join(logDir, "postgres-"+n.name+".log")
	if n.log, err = os.OpenFile(n.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
		return nil, fmt.Errorf("open the log of %s: %w; check that %s is writable", n.name, err, logDir)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		_ = n.log.Close()
		return nil, fmt.Errorf("cluster %s is closed: %w", c.cfg.Name, context.Canceled)
	}
	c.nodes = append(c.nodes, n)
	return n, nil
}

// spawnLocked starts the postmaster; n.op must be held.
func (n *Node) spawnLocked() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.gone {
		return fmt.Errorf("node %s was destroyed; it cannot start again", n.name)
	}
	if n.p != nil && !n.p.exited() {
		return nil
	}
	cmd := n.c.command(n.log, "postgres", "-D", n.dir, "-p", strconv.Itoa(n.port), "-c", "cluster_name="+n.name)
	fmt.Fprintf(n.log, "=== firedrill %s: starting %s on %s\n", time.Now().UTC().Format(time.RFC3339Nano), n.name, n.Addr())
	if err := local.Spawn(cmd); err != nil {
		return fmt.Errorf("start postgres for %s: %w", n.name, err)
	}
	p := &proc{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	n.p, n.paused = p, false
	go n.reap(p)
	return nil
}

func (n *Node) reap(p *proc) {
	err := p.cmd.Wait()
	n.mu.Lock()
	stopping := p.stopping
	n.mu.Unlock()
	close(p.done)
	if !stopping {
		n.c.event(EvNodeExited, n, fmt.Sprintf("postgres %s exited on its own: %v", n.name, err), map[string]any{"pid": p.pid})
	}
}

// launch starts the server and waits until it accepts connections.
func (n *Node) launch(ctx context.Context) error {
	n.op.Lock()
	defer n.op.Unlock()
	if err := n.spawnLocked(); err != nil {
		return err
	}
	if err := n.waitReady(ctx); err != nil {
		return err
	}
	fields := map[string]any{"pid": n.Pid(), "role": string(n.Role()), "data_dir": n.dir}
	if id, ok := segmentID(filepath.Join(n.dir, "postmaster.pid")); ok {
		fields["shmid"] = id // System V segment: must not outlive the run
	}
	n.c.event(EvNodeStarted, n, fmt.Sprintf("%s %s up (pid %d)", n.Role(), n.name, n.Pid()), fields)
	return nil
}

// waitReady polls until the server answers a query, failing fast when its
// process exits.
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
		case <-p.done:
			return fmt.Errorf("postgres %s exited while starting (%s); see %s", n.name, p.cmd.ProcessState, n.logPath)
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
	kids := children(p.pid)
	signalTree(p.pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-ctx.Done():
		return fmt.Errorf("postgres %s (pid %d) not reaped after SIGKILL: %w", n.name, p.pid, ctx.Err())
	}
	// Orphaned children would hold the shared memory and block a restart.
	deadline := time.Now().Add(5 * time.Second)
	for _, k := range kids {
		for alive(k) && time.Now().Before(deadline) {
			_ = syscall.Kill(k, syscall.SIGKILL)
			time.Sleep(5 * time.Millisecond)
		}
	}
	n.c.event(EvNodeStopped, n, fmt.Sprintf("%s %s %s (SIGKILL)", n.Role(), n.name, why), map[string]any{"pid": p.pid, "reason": why})
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
		signalTree(p.pid, syscall.SIGCONT)
	}
	_ = syscall.Kill(p.pid, syscall.SIGINT)
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-p.done:
		n.c.event(EvNodeStopped, n, fmt.Sprintf("%s %s stopped (fast shutdown)", n.Role(), n.name), map[string]any{"pid": p.pid, "reason": "stopped"})
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	return n.killLocked(context.WithoutCancel(ctx), "stopped")
}

// Start starts a stopped or killed server again (crash recovery on its own
// data) and waits until it answers. Its role is what it was.
func (n *Node) Start(ctx context.Context) error { return n.launch(ctx) }

// Pause freezes the server and all its processes (SIGSTOP) and returns once
// the postmaster has stopped.
func (n *Node) Pause(ctx context.Context) error {
	n.op.Lock()
	defer n.op.Unlock()
	pid := n.Pid()
	if pid == 0 {
		return fmt.Errorf("postgres %s is not running; nothing to pause", n.name)
	}
	signalTree(pid, syscall.SIGSTOP)
	n.mu.Lock()
	n.paused = true
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for !allStopped(pid) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("postgres %s: SIGSTOP sent, but pid %d did not stop: %w", n.name, pid, ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}

// Resume thaws a paused server (SIGCONT).
func (n *Node) Resume(context.Context) error {
	n.op.Lock()
	defer n.op.Unlock()
	n.mu.Lock()
	p, paused := n.p, n.paused
	n.paused = false
	n.mu.Unlock()
	if p == nil || p.exited() || !paused {
		return nil
	}
	signalTree(p.pid, syscall.SIGCONT)
	return nil
}

// destroy kills the server for good and closes its log.
func (n *Node) destroy(ctx context.Context) error {
	n.op.Lock()
	defer n.op.Unlock()
	n.mu.Lock()
	n.gone = true
	n.mu.Unlock()
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := n.killLocked(kctx, "removed")
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
