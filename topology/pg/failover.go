package pg

import (
	"context"
	"errors"
	"fmt"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
)

// ClientProxy returns the address of client's proxy to the primary,
// creating the proxy (named "<client>__<database>") on first use. Every
// client proxy follows the primary on promotion.
func (c *Cluster) ClientProxy(client string) (string, error) {
	name := client + "__" + c.cfg.Name
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return "", fmt.Errorf("cluster %s is closed", c.cfg.Name)
	}
	for _, p := range c.clients {
		if p.Name == name {
			return p.Listen, nil
		}
	}
	p, err := c.toxi.CreateProxy(name, c.host.ProxyIP()+":0", c.primary.Addr())
	if err != nil {
		return "", fmt.Errorf("create client proxy %s: %w", name, err)
	}
	c.clients = append(c.clients, p)
	return p.Listen, nil
}

// ClientProxies lists the names of the client proxies.
func (c *Cluster) ClientProxies() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.clients))
	for i, p := range c.clients {
		out[i] = p.Name
	}
	return out
}

// Candidate is the running replica that received the most WAL: promoting it
// loses the least.
func (c *Cluster) Candidate(ctx context.Context) (*Node, error) {
	var best *Node
	var bestLSN int64 = -1
	var errs []error
	for _, n := range c.Replicas() {
		if !n.Running() || n.Paused() {
			continue
		}
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		var lsn int64
		// Received, else replayed: a replica that never streamed has no
		// receive position.
		err := n.query(qctx, `SELECT COALESCE(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0'),
			pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0'), 0)::bigint`, &lsn)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n.name, err))
			continue
		}
		if lsn > bestLSN {
			best, bestLSN = n, lsn
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no replica of %s can be promoted: %w", c.cfg.Name, errors.Join(append(errs, errors.New("none running"))...))
	}
	return best, nil
}

// Fence makes sure a node accepts no more writes: SIGKILL (STONITH). A node
// that is down already is left as it is.
func (c *Cluster) Fence(ctx context.Context, n *Node) error {
	if !n.Running() {
		return nil
	}
	if err := n.Kill(ctx); err != nil {
		return fmt.Errorf("fence %s: %w", n.name, err)
	}
	c.event(EvFenced, n, fmt.Sprintf("%s fenced (SIGKILL) so that it cannot accept writes", n.name), nil)
	return nil
}

// Promote turns replica n into the primary (pg_promote), then adopts it:
// clients and the other replicas are repointed to it. It does not fence the
// old primary; see Failover.
func (c *Cluster) Promote(ctx context.Context, n *Node) error {
	if n.Role() != RoleReplica {
		return fmt.Errorf("promote %s: it is %s, not a replica", n.name, n.Role())
	}
	var ok bool
	if err := n.query(ctx, "SELECT pg_promote(true, 30)", &ok); err != nil {
		return fmt.Errorf("promote %s: %w", n.name, err)
	}
	if !ok {
		return fmt.Errorf("promote %s: pg_promote did not finish within 30s; see %s", n.name, n.logPath)
	}
	return c.Adopt(ctx, n)
}

// Adopt makes n, which no longer is in recovery (promoted by the harness or
// by the scenario's own failover tool), the primary of the cluster: the old
// primary becomes a former primary, synchronous replication is kept when a
// replica is left to confirm commits (and dropped otherwise, or every commit
// would hang), and every client proxy and the other replicas' replication
// proxies are repointed to n.
func (c *Cluster) Adopt(ctx context.Context, n *Node) error {
	c.mu.Lock()
	old := c.primary
	wantSync := c.cfg.Sync
	c.primary = n
	c.mu.Unlock()
	if old != nil && old != n {
		old.setRole(RoleFormer)
	}
	n.setRole(RolePrimary)
	c.event(EvPromoted, n, fmt.Sprintf("%s is the primary now (was %s)", n.name, nameOf(old)), map[string]any{"former": nameOf(old)})

	others := c.Replicas()
	var errs []error
	if err := c.repoint(n, others); err != nil {
		errs = append(errs, err)
	}
	if wantSync {
		keep := false
		for _, r := range others {
			keep = keep || r.Running()
		}
		if err := c.setSync(ctx, n, keep); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// repoint points every client proxy and the replication proxies of the
// given replicas at the primary n. Toxiproxy restarts a proxy whose upstream
// changes, which cuts its open connections: as a moved virtual IP would.
func (c *Cluster) repoint(n *Node, replicas []*Node) error {
	c.mu.Lock()
	proxies := append([]*toxiclient.Proxy(nil), c.clients...)
	c.mu.Unlock()
	for _, r := range replicas {
		if r.repl != nil {
			proxies = append(proxies, r.repl)
		}
	}
	var errs []error
	var names []string
	for _, p := range proxies {
		p.Upstream = n.Addr()
		if err := p.Save(); err != nil {
			errs = append(errs, fmt.Errorf("repoint proxy %s to %s: %w", p.Name, n.Addr(), err))
			continue
		}
		names = append(names, p.Name)
	}
	c.event(EvRepointed, n, fmt.Sprintf("%d proxies now lead to %s", len(names), n.name), map[string]any{"proxies": names})
	return errors.Join(errs...)
}

func nameOf(n *Node) string {
	if n == nil {
		return "none"
	}
	return n.name
}

// Failover fences the primary, promotes the best replica and repoints the
// clients to it. It returns the new primary.
func (c *Cluster) Failover(ctx context.Context) (*Node, error) {
	old := c.Primary()
	cand, err := c.Candidate(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.Fence(ctx, old); err != nil {
		return nil, err
	}
	if err := c.Promote(ctx, cand); err != nil {
		return nil, err
	}
	return cand, nil
}

// PrimaryHealthy reports whether the primary answers, as a writable server,
// within timeout.
func (c *Cluster) PrimaryHealthy(ctx context.Context, timeout time.Duration) bool {
	p := c.Primary()
	if p == nil || !p.Running() {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rec, err := p.InRecovery(ctx)
	return err == nil && !rec
}
