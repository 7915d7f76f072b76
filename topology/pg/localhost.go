package pg

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/firedrill/firedrill/topology/proc"
)

// localHost runs the servers as local processes of the harness's machine,
// each on its own 127.0.0.1 port with its data directory in the cluster's
// private directory. It is the host of a Config without one.
type localHost struct{ c *Cluster }

func (localHost) ProxyIP() string { return "127.0.0.1" }

func (localHost) Settings() map[string]string { return nil }

func (h localHost) NewServer(_ context.Context, spec ServerSpec) (Server, error) {
	return h.c.newLocalServer(spec, filepath.Join(h.c.base, spec.Name))
}

// localServer is a postmaster run by the harness (as the account).
type localServer struct {
	c    *Cluster
	spec ServerSpec
	port int
	dir  string
	// args are extra postgres arguments.
	args []string
}

func (c *Cluster) newLocalServer(spec ServerSpec, dir string) (*localServer, error) {
	port, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	return &localServer{c: c, spec: spec, port: port, dir: dir}, nil
}

func (s *localServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *localServer) Create(ctx context.Context) error {
	if s.spec.Upstream != "" {
		host, port, _ := cutAddr(s.spec.Upstream)
		args := append([]string{"-D", s.dir, "-h", host, "-p", port}, BaseBackupFlags...)
		if err := s.c.run(ctx, s.spec.Log, "pg_basebackup", args...); err != nil {
			return fmt.Errorf("base backup for replica %s: %w", s.spec.Name, err)
		}
		return nil
	}
	if err := s.c.run(ctx, s.spec.Log, "initdb", append([]string{"-D", s.dir}, InitdbFlags...)...); err != nil {
		return fmt.Errorf("initdb for %s: %w", s.spec.Name, err)
	}
	conf := filepath.Join(s.dir, "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", conf, err)
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "\n# firedrill\n%s\n", strings.Join(s.spec.Conf, "\n"))
	return err
}

func (s *localServer) Start(context.Context) (*Proc, error) {
	args := append([]string{"-D", s.dir, "-p", strconv.Itoa(s.port), "-c", "cluster_name=" + s.spec.Name}, s.args...)
	cmd := s.c.command(s.spec.Log, "postgres", args...)
	if err := proc.Spawn(cmd); err != nil {
		return nil, fmt.Errorf("start postgres for %s: %w", s.spec.Name, err)
	}
	p := NewProc(cmd.Process.Pid)
	go func() {
		_ = cmd.Wait()
		p.Exit(cmd.ProcessState.String())
	}()
	return p, nil
}

func (s *localServer) Kill(ctx context.Context, p *Proc) error {
	kids := proc.Children(p.Pid)
	signalTree(p.Pid, syscall.SIGKILL)
	select {
	case <-p.Done():
	case <-ctx.Done():
		return fmt.Errorf("postgres %s (pid %d) not reaped after SIGKILL: %w", s.spec.Name, p.Pid, ctx.Err())
	}
	// Orphaned children would hold the shared memory and block a restart.
	deadline := time.Now().Add(5 * time.Second)
	for _, k := range kids {
		for proc.Alive(k) && time.Now().Before(deadline) {
			_ = syscall.Kill(k, syscall.SIGKILL)
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}

func (s *localServer) Interrupt(_ context.Context, p *Proc) error {
	return syscall.Kill(p.Pid, syscall.SIGINT)
}

func (s *localServer) Pause(ctx context.Context, p *Proc) error {
	signalTree(p.Pid, syscall.SIGSTOP)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for !proc.AllThreadsStopped(p.Pid) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("postgres %s: SIGSTOP sent, but pid %d did not stop: %w", s.spec.Name, p.Pid, ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}

func (s *localServer) Resume(_ context.Context, p *Proc) error {
	signalTree(p.Pid, syscall.SIGCONT)
	return nil
}

func (s *localServer) Destroy(context.Context) error { return nil }
