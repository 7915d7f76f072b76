package pg

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// addReplica creates replica i: a replication proxy to the primary, a base
// backup through it (-R writes primary_conninfo pointing at the proxy), and
// the server, started and answering.
func (c *Cluster) addReplica(ctx context.Context, i int) (*Node, error) {
	primary := c.Primary()
	name := fmt.Sprintf("%s__repl_%s-%d", c.cfg.Name, c.cfg.Name, i)
	repl, err := c.toxi.CreateProxy(name, c.host.ProxyIP()+":0", primary.Addr())
	if err != nil {
		return nil, fmt.Errorf("create replication proxy %s: %w", name, err)
	}
	n, err := c.newNode(ctx, i, RoleReplica, "", c.host, ServerSpec{Upstream: repl.Listen})
	if err != nil {
		_ = repl.Delete()
		return nil, err
	}
	n.repl = repl
	if err := n.srv.Create(ctx); err != nil {
		return nil, err
	}
	if err := n.launch(ctx); err != nil {
		return nil, err
	}
	return n, nil
}

// waitStreaming waits until want replicas stream from the primary.
func (c *Cluster) waitStreaming(ctx context.Context, want int) error {
	if want == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.StartTimeout)
	defer cancel()
	primary := c.Primary()
	for {
		var got int
		err := primary.query(ctx, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'", &got)
		if err == nil && got >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d replicas streaming from %s after %s (last error: %v); see the logs in %s",
				got, want, primary.name, c.cfg.StartTimeout, err, filepath.Dir(primary.logPath))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// setSync turns synchronous replication on the primary n on (any one
// replica must confirm each commit) or off, and waits until it holds.
func (c *Cluster) setSync(ctx context.Context, n *Node, on bool) error {
	value := "''"
	if on {
		value = "'*'"
	}
	if err := n.Exec(ctx, "ALTER SYSTEM SET synchronous_standby_names = "+value); err != nil {
		return fmt.Errorf("set synchronous_standby_names on %s: %w", n.name, err)
	}
	if err := n.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		return fmt.Errorf("reload %s: %w", n.name, err)
	}
	c.mu.Lock()
	c.sync = on
	c.mu.Unlock()
	state := "off: commits wait for no replica"
	if on {
		state = "on: commits wait for one replica"
	}
	c.event(EvSyncChanged, n, "synchronous replication "+state, map[string]any{"sync": on})
	if !on {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, c.cfg.StartTimeout)
	defer cancel()
	for {
		var syncs int
		err := n.query(wctx, "SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')", &syncs)
		if err == nil && syncs > 0 {
			return nil
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("no replica became synchronous on %s (last error: %v): %w", n.name, err, wctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Sync reports whether commits on the primary wait for a replica now.
func (c *Cluster) Sync() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sync
}
