package pg

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// RoleRestored is a server started on a restored backup, outside the
// cluster: it takes no part in replication, failover or sampling.
const RoleRestored Role = "restored"

// Backup is one base backup of the primary.
type Backup struct {
	Name string
	Dir  string
	From string // the node it was taken from
	// StartedAt and EndedAt bound the pg_basebackup run; EndPointAt is
	// when the server fixed the backup's end point (its WAL end LSN, also
	// in EndLSN): every commit acknowledged before it is in the backup.
	StartedAt, EndPointAt, EndedAt time.Time
	EndLSN                         string
}

// Backup takes a base backup of the primary (pg_basebackup, WAL streamed
// along, with a manifest), directly from the primary's own address.
func (c *Cluster) Backup(ctx context.Context, name string) (*Backup, error) {
	p := c.Primary()
	if p == nil || !p.Running() {
		return nil, fmt.Errorf("backup %s: the primary is not running", name)
	}
	b := &Backup{Name: name, Dir: filepath.Join(c.base, "backup-"+safe(name)), From: p.name}
	host, port, _ := cutAddr(p.Addr())
	pr, pw := io.Pipe()
	var wg sync.WaitGroup
	wg.Go(func() { b.watch(pr, p.log) })
	b.StartedAt = time.Now()
	err := c.run(ctx, pw, "pg_basebackup", "-D", b.Dir, "-h", host, "-p", port, "-U", Superuser,
		"-X", "stream", "-c", "fast", "--no-sync", "--verbose")
	b.EndedAt = time.Now()
	_ = pw.Close()
	wg.Wait()
	if err != nil {
		return b, fmt.Errorf("backup %s of %s: %w", name, p.name, err)
	}
	if b.EndPointAt.IsZero() {
		return b, fmt.Errorf("backup %s: pg_basebackup ended without reporting its end point; see %s", name, p.logPath)
	}
	return b, nil
}

// watch copies pg_basebackup's output to log, stamping the instant it
// reports the write-ahead log end point.
func (b *Backup) watch(r io.Reader, log io.Writer) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if lsn, ok := strings.CutPrefix(strings.TrimPrefix(line, "pg_basebackup: "), "write-ahead log end point: "); ok {
			b.EndPointAt, b.EndLSN = time.Now(), strings.TrimSpace(lsn)
		}
		fmt.Fprintln(log, line)
	}
	_, _ = io.Copy(io.Discard, r)
}

// VerifyBackup checks the backup against its manifest (pg_verifybackup:
// every file's checksum, and the WAL needed to restore it).
func (c *Cluster) VerifyBackup(ctx context.Context, b *Backup) error {
	n := c.Primary()
	var log io.Writer = io.Discard
	if n != nil {
		log = n.log
	}
	if err := c.run(ctx, log, "pg_verifybackup", b.Dir); err != nil {
		return fmt.Errorf("verify backup %s: %w", b.Name, err)
	}
	return nil
}

// Restore starts a fresh server on the backup (crash recovery to the
// backup's consistent point, then it accepts connections on a port of its
// own). Remove it with Discard.
func (c *Cluster) Restore(ctx context.Context, b *Backup) (*Node, error) {
	c.mu.Lock()
	idx := len(c.nodes)
	c.mu.Unlock()
	// A restore runs as a local process on every host: the backup is a
	// directory of this machine. It listens on loopback whatever the
	// backup's configuration says (it may come from a container).
	host := restoreHost{c: c, dir: b.Dir}
	n, err := c.newNode(ctx, idx, RoleRestored, c.cfg.Name+"-restore-"+safe(b.Name), host, ServerSpec{})
	if err != nil {
		return nil, err
	}
	// The backup came from a server with synchronous_standby_names maybe
	// set: a restored server waiting for replicas would hang every commit.
	auto := filepath.Join(b.Dir, "postgresql.auto.conf")
	if f, err := os.OpenFile(auto, os.O_WRONLY|os.O_APPEND, 0); err == nil {
		_, _ = fmt.Fprintln(f, "synchronous_standby_names = ''")
		_ = f.Close()
	}
	if err := n.launch(ctx); err != nil {
		return n, fmt.Errorf("restore backup %s: %w", b.Name, err)
	}
	return n, nil
}

// Discard stops a restored server for good and removes its data.
func (c *Cluster) Discard(ctx context.Context, n *Node) error {
	if n.Role() != RoleRestored {
		return fmt.Errorf("discard %s: only restored servers can be discarded", n.name)
	}
	err := n.destroy(ctx)
	c.mu.Lock()
	for i, x := range c.nodes {
		if x == n {
			c.nodes = append(c.nodes[:i], c.nodes[i+1:]...)
			break
		}
	}
	c.mu.Unlock()
	dir := n.DataDir()
	removeSegments(filepath.Dir(dir))
	if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// restoreHost runs one local server on a backup's directory.
type restoreHost struct {
	c   *Cluster
	dir string
}

func (h restoreHost) ProxyIP() string { return "127.0.0.1" }

func (h restoreHost) Settings() map[string]string { return nil }

func (h restoreHost) NewServer(_ context.Context, spec ServerSpec) (Server, error) {
	s, err := h.c.newLocalServer(spec, h.dir)
	if err != nil {
		return nil, err
	}
	s.args = []string{"-c", "listen_addresses=127.0.0.1"}
	return s, nil
}
