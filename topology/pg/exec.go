package pg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/firedrill/firedrill/topology/proc"
)

// BinDirEnv overrides where the PostgreSQL programs are looked up.
const BinDirEnv = "FIREDRILL_PG_BIN"

// FindBinDir returns the directory holding initdb, postgres, pg_basebackup
// and pg_verifybackup: $FIREDRILL_PG_BIN, the newest
// /usr/lib/postgresql/<major>/bin (Debian), or the directory of postgres on
// PATH.
func FindBinDir() (string, error) {
	ok := func(dir string) bool {
		st, err := os.Stat(filepath.Join(dir, "postgres"))
		return err == nil && !st.IsDir()
	}
	if d := os.Getenv(BinDirEnv); d != "" {
		if ok(d) {
			return d, nil
		}
		return "", fmt.Errorf("%s=%s holds no postgres program; point it at PostgreSQL's bin directory", BinDirEnv, d)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return major(dirs[i]) > major(dirs[j]) })
	for _, d := range dirs {
		if ok(d) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL server programs not found; install them (apt-get install postgresql-15) or set " + BinDirEnv)
}

func major(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// account is the OS user the servers run as. PostgreSQL refuses to run as
// root, so a root harness runs them as an unprivileged user (Debian's
// "postgres") and hands their directories to it.
type account struct {
	cred *syscall.Credential // nil: run as the harness's own user
	name string
}

// DefaultOSUser is who the servers run as when the harness is root.
const DefaultOSUser = "postgres"

func lookupAccount(name string) (account, error) {
	if os.Geteuid() != 0 {
		return account{}, nil
	}
	if name == "" {
		name = DefaultOSUser
	}
	u, err := user.Lookup(name)
	if err != nil {
		return account{}, fmt.Errorf("PostgreSQL refuses to run as root and there is no %q user to run it as (%w); "+
			"create it (the postgresql package does) or run firedrill as a regular user", name, err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	// Empty Groups drops root's supplementary groups in the child.
	return account{cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, name: name}, nil
}

// own gives path to the account (a no-op without one).
func (a account) own(path string) error {
	if a.cred == nil {
		return nil
	}
	if err := os.Chown(path, int(a.cred.Uid), int(a.cred.Gid)); err != nil {
		return fmt.Errorf("hand %s to user %s: %w", path, a.name, err)
	}
	return nil
}

// command prepares a PostgreSQL program run as the account, with its output
// appended to log and the run id in its environment (how `firedrill clean`
// and the tests recognise it).
func (c *Cluster) command(log io.Writer, prog string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, prog), args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Dir = c.base // the harness's cwd may not be readable by the account
	cmd.Env = append(os.Environ(), "FIREDRILL_RUN_ID="+c.cfg.RunID, "PGTZ=UTC", "LC_ALL=C")
	if c.acct.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.acct.cred}
		cmd.Env = append(cmd.Env, "HOME="+c.base, "USER="+c.acct.name)
	}
	return cmd
}

// run runs a short-lived program to its end; it dies with the harness, and
// with ctx.
func (c *Cluster) run(ctx context.Context, log io.Writer, prog string, args ...string) error {
	out := &tailWriter{max: 600}
	cmd := c.command(io.MultiWriter(log, out), prog, args...)
	fmt.Fprintf(log, "=== firedrill: %s %v\n", prog, args)
	if err := proc.Spawn(cmd); err != nil {
		return fmt.Errorf("start %s: %w", prog, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s %v: %w: %s (see %s)", prog, args, err, strings.TrimSpace(out.String()), c.logHint())
		}
		return nil
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return fmt.Errorf("%s: %w", prog, ctx.Err())
	}
}

func (c *Cluster) logHint() string {
	if c.cfg.LogDir != "" {
		return "the logs in " + c.cfg.LogDir
	}
	return "the node logs"
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if len(w.b) > w.max {
		w.b = w.b[len(w.b)-w.max:]
	}
	return len(p), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}
