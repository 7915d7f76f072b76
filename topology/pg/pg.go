// Package pg runs a PostgreSQL cluster for a stateful rehearsal: a primary
// and N streaming replicas, created with initdb and pg_basebackup -R. Where
// the servers run is a Host: by default (Config.Host nil) each is a local
// postgres process on its own 127.0.0.1 port with its data directory in a
// private directory that Close removes; pgdocker runs each in a container
// instead. Replication runs through one Toxiproxy proxy per replica (so it
// can be delayed, throttled or cut), and clients reach the primary through
// client proxies whose upstream follows the primary on promotion
// (repointing); the proxies listen on the host's ProxyIP. Local servers die
// with the harness (parent-death signal); a directory left by a harness
// that was SIGKILLed is swept by the next Start or by CleanStale. Backups
// are taken by the harness into the private directory, and restored into a
// local process, whatever the host.
package pg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/firedrill/firedrill/record"
)

// Event kinds of the cluster.
const (
	EvNodeStarted     = "db_node_started"
	EvNodeStopped     = "db_node_stopped"
	EvNodeExited      = "db_node_exited"
	EvPromoted        = "db_promoted"
	EvRepointed       = "db_repointed"
	EvFenced          = "db_fenced"
	EvFailureDetected = "db_failure_detected"
	EvSyncChanged     = "db_sync_changed"
)

// Superuser is the database role the harness connects as.
const Superuser = "postgres"

// DefaultStartTimeout bounds each server's start.
const DefaultStartTimeout = 30 * time.Second

// Config describes a cluster.
type Config struct {
	// Name is the database's name in the scenario ("db"); node names are
	// Name-0 (the first primary), Name-1, ...
	Name string
	// Replicas is the number of streaming replicas (0 or more).
	Replicas int
	// Sync makes commits wait for one replica (synchronous_standby_names = '*').
	Sync bool
	// Settings are extra postgresql.conf settings, applied last.
	Settings map[string]string
	// RunID labels the processes (FIREDRILL_RUN_ID) and the directory.
	RunID string
	// TempDir is where the private directory is created (default
	// os.TempDir()); it must be reachable by the servers' OS user.
	TempDir string
	// LogDir receives one log per node (default: inside the private directory).
	LogDir string
	// Toxiproxy creates the replication and client proxies; required.
	Toxiproxy *toxiclient.Client
	// Events receives the cluster's events (may be nil).
	Events *record.Log
	// StartTimeout bounds each server's start (default 30s).
	StartTimeout time.Duration
	// OSUser runs the servers when the harness is root (default "postgres").
	OSUser string
	// BinDir holds the PostgreSQL programs (default FindBinDir()). With a
	// Host they serve only backups, verification and restores.
	BinDir string
	// Host runs the servers (nil: local processes of this machine).
	Host Host
}

// Cluster is a running primary with its replicas.
type Cluster struct {
	cfg  Config
	bin  string
	acct account
	base string // private directory: data directories, backups
	toxi *toxiclient.Client
	host Host

	mu       sync.Mutex
	nodes    []*Node
	primary  *Node
	sync     bool // synchronous_standby_names is set on the primary
	clients  []*toxiclient.Proxy
	closed   bool
	closeErr error
	once     sync.Once
}

// Start creates and starts the cluster and returns once every replica
// streams from the primary (and, with Sync, one is synchronous). On error
// everything started is removed again.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Toxiproxy == nil {
		return nil, errors.New("pg: Config.Toxiproxy is required: replication and clients go through proxies")
	}
	if cfg.Name == "" {
		cfg.Name = "db"
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	c := &Cluster{cfg: cfg, toxi: cfg.Toxiproxy, host: cfg.Host}
	if c.host == nil {
		c.host = localHost{c}
	}
	var err error
	if c.bin = cfg.BinDir; c.bin == "" {
		// Another host runs its own programs: these only serve backups,
		// which fail with this error when they are missing.
		if c.bin, err = FindBinDir(); err != nil && cfg.Host == nil {
			return nil, err
		}
	}
	if c.acct, err = lookupAccount(cfg.OSUser); err != nil && cfg.Host == nil {
		return nil, err
	}
	_, _ = CleanStale() // a previous harness that was SIGKILLed left its directory
	if err := c.makeBase(); err != nil {
		return nil, err
	}
	if err := c.up(ctx); err != nil {
		if cerr := c.Close(context.WithoutCancel(ctx)); cerr != nil {
			err = errors.Join(err, fmt.Errorf("and cleaning up: %w", cerr))
		}
		return nil, fmt.Errorf("start PostgreSQL cluster %s: %w", cfg.Name, err)
	}
	return c, nil
}

// makeBase creates the private directory, marked with the harness's pid so
// that CleanStale can tell a live run's directory from a dead one's.
func (c *Cluster) makeBase() error {
	tmp := c.cfg.TempDir
	if tmp == "" {
		tmp = os.TempDir()
	}
	dir, err := os.MkdirTemp(tmp, dirPrefix+safe(c.cfg.RunID)+"-")
	if err != nil {
		return fmt.Errorf("create the cluster directory in %s: %w", tmp, err)
	}
	c.base = dir
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(ownerMark(os.Getpid())), 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return fmt.Errorf("mark the cluster directory: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	if err := c.acct.own(dir); err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	return nil
}

func (c *Cluster) up(ctx context.Context) error {
	primary, err := c.newNode(ctx, 0, RolePrimary, "", c.host, ServerSpec{Conf: c.settings()})
	if err != nil {
		return err
	}
	if err := primary.srv.Create(ctx); err != nil {
		return err
	}
	if err := primary.launch(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	c.primary = primary
	c.mu.Unlock()
	for i := 1; i <= c.cfg.Replicas; i++ {
		if _, err := c.addReplica(ctx, i); err != nil {
			return err
		}
	}
	if err := c.waitStreaming(ctx, c.cfg.Replicas); err != nil {
		return err
	}
	if c.cfg.Sync && c.cfg.Replicas > 0 {
		return c.setSync(ctx, primary, true)
	}
	return nil
}

// Name is the database's name in the scenario.
func (c *Cluster) Name() string { return c.cfg.Name }

// Dir is the private directory holding the data directories.
func (c *Cluster) Dir() string { return c.base }

// Primary is the node the harness considers the primary (the one clients
// are pointed at).
func (c *Cluster) Primary() *Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.primary
}

// Nodes lists every node, the first primary first.
func (c *Cluster) Nodes() []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Node(nil), c.nodes...)
}

// Node returns the node of that name, or nil.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.Nodes() {
		if n.name == name {
			return n
		}
	}
	return nil
}

// Replicas lists the nodes that are replicas now, in index order.
func (c *Cluster) Replicas() []*Node {
	var out []*Node
	for _, n := range c.Nodes() {
		if n.Role() == RoleReplica {
			out = append(out, n)
		}
	}
	return out
}

// ConnString is a libpq connection string to addr (host:port) as the
// superuser.
func ConnString(addr string) string {
	host, port, _ := cutAddr(addr)
	return fmt.Sprintf("host=%s port=%s user=%s dbname=postgres sslmode=disable connect_timeout=2", host, port, Superuser)
}

func cutAddr(addr string) (string, string, bool) {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i], addr[i+1:], true
		}
	}
	return addr, "", false
}

// Close stops every server (SIGKILL: nothing of the data is kept), deletes
// the cluster's proxies and removes its directory. It is idempotent.
func (c *Cluster) Close(ctx context.Context) error {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		nodes := append([]*Node(nil), c.nodes...)
		clients := c.clients
		c.mu.Unlock()
		var errs []error
		for _, n := range nodes {
			if err := n.destroy(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		for _, p := range clients {
			_ = p.Delete() // the Toxiproxy server may be gone already
		}
		if c.base != "" {
			reapDir(c.base) // every server of the cluster is gone: nothing of it may stay attached
			if err := os.RemoveAll(c.base); err != nil {
				errs = append(errs, fmt.Errorf("remove %s: %w", c.base, err))
			}
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

func (c *Cluster) event(kind string, n *Node, msg string, fields map[string]any) {
	if c.cfg.Events == nil {
		return
	}
	if fields == nil {
		fields = map[string]any{}
	}
	fields["database"] = c.cfg.Name
	target := ""
	if n != nil {
		target = n.name
		fields["addr"] = n.Addr()
	}
	c.cfg.Events.Add(record.Event{Kind: kind, Service: c.cfg.Name, Target: target, Message: msg, Fields: fields})
}

// settings are the postgresql.conf lines every node gets. fsync is off:
// the rehearsal kills processes, not machines, so written WAL survives in
// the page cache and a kill loses exactly what the replication protocol
// loses; it makes initdb and checkpoints fast on a shared machine.
func (c *Cluster) settings() []string {
	base := map[string]string{
		"listen_addresses":             "'127.0.0.1'",
		"unix_socket_directories":      "''",
		"fsync":                        "off",
		"synchronous_commit":           "on",
		"wal_level":                    "replica",
		"max_wal_senders":              "10",
		"wal_keep_size":                "'256MB'",
		"shared_buffers":               "'32MB'",
		"max_connections":              "60",
		"dynamic_shared_memory_type":   "mmap", // no /dev/shm files left by a killed server
		"wal_sender_timeout":           "'5s'",
		"wal_receiver_timeout":         "'5s'",
		"wal_receiver_status_interval": "'1s'",
		"wal_retrieve_retry_interval":  "'500ms'",
		"hot_standby":                  "on",
		"logging_collector":            "off",
		"log_line_prefix":              "'%m [%p] %q%a '",
		"timezone":                     "'UTC'",
	}
	for k, v := range c.host.Settings() {
		base[k] = quoteSetting(v)
	}
	for k, v := range c.cfg.Settings {
		base[k] = quoteSetting(v)
	}
	keys := make([]string, 0, len(base))
	for k := range base {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, 0, len(keys))
	for _, k := range keys {
		lines = append(lines, k+" = "+base[k])
	}
	return lines
}

// quoteSetting quotes a value unless it is a plain number or already quoted.
func quoteSetting(v string) string {
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return v
	}
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v
	}
	out := []byte{'\''}
	for i := 0; i < len(v); i++ {
		if v[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, v[i])
	}
	return string(append(out, '\''))
}

func safe(s string) string {
	out := []byte(s)
	for i, b := range out {
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-') {
			out[i] = '_'
		}
	}
	return string(out)
}
