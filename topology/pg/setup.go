package pg

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// initdb creates the first primary's data directory and appends the
// cluster's settings to its postgresql.conf (replicas copy it).
func (c *Cluster) initdb(ctx context.Context, n *Node) error {
	// --no-sync: see settings(); --auth=trust: only loopback connects.
	err := c.run(ctx, n.log, "initdb", "-D", n.dir, "-U", Superuser, "--auth=trust", "--no-sync",
		"--encoding=UTF8", "--locale=C", "--no-instructions")
	if err != nil {
		return fmt.Errorf("initdb for %s: %w", n.name, err)
	}
	conf := filepath.Join(n.dir, "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", conf, err)
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "\n# firedrill\n%s\n", strings.Join(c.settings(), "\n"))
	return err
}

// addReplica creates replica i: a replication proxy to the primary, a base
// backup through it (-R writes primary_conninfo pointing at the proxy), and
// the server, started and answering.
func (c *Cluster) addReplica(ctx context.Context, i int) (*Node, error) {
	primary := c.Primary()
	n, err := c.newNode(i, RoleReplica, "")
	if err != nil {
		return nil, err
	}
	name := c.cfg.Name + "__repl_" + n.name
	n.repl, err = c.toxi.CreateProxy(name, "127.0.0.1:0", primary.Addr())
	if err != nil {
		return nil, fmt.Errorf("create replication proxy %s: %w", name, err)
	}
	_, port, _ := cutAddr(n.repl.Listen)
	err = c.run(ctx, n.log, "pg_basebackup", "-D", n.dir, "-h", "127.0.0.1", "-p", port, "-U", Superuser,
		"-R", "-X", "stream", "-c", "fast", "--no-sync")
	if err != nil {
		return nil, fmt.Errorf("base backup for replica %s: %w", n.name, err)
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
