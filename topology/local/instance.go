package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/topology/cluster"
	"github.com/firedrill/firedrill/topology/proc"
)

// instance is one child process of a service; it keeps its port, command and
// log across restarts.
type instance struct {
	l       *launcher
	service string
	version string
	index   int
	name    string
	port    int
	addr    string
	argv    []string
	env     []string
	logPath string

	// op serialises lifecycle operations (Kill, Start, Restart, stop) so a
	// Start never races the exit of the process it replaces.
	op cluster.OpLock

	mu   sync.Mutex
	p    *process
	gone bool          // retired or down: never started again
	died chan struct{} // closed when the process exits on its own, then replaced
}

var _ cluster.Instance = (*instance)(nil)

// process is one run of an instance's process.
type process struct {
	cmd  *exec.Cmd
	pid  int
	done chan struct{} // closed once reaped
	// reason is why the harness stopped it; nil means it exited on its own.
	reason atomic.Pointer[string]
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// status describes how the process ended; call after done.
func (p *process) status() string {
	if p.cmd.ProcessState == nil {
		return "unknown status"
	}
	return p.cmd.ProcessState.String()
}

func (in *instance) Name() string    { return in.name }
func (in *instance) Service() string { return in.service }
func (in *instance) Version() string { return in.version }
func (in *instance) Addr() string    { return in.addr }

// HostAddr is Addr: the harness and the routers share 127.0.0.1.
func (in *instance) HostAddr() string { return in.addr }

// Pid is the process id of the running process, 0 when it is not running.
func (in *instance) Pid() int {
	p := in.current()
	if p == nil || p.exited() {
		return 0
	}
	return p.pid
}

// LogPath is the file the instance's stdout and stderr go to.
func (in *instance) LogPath() string { return in.logPath }

func (in *instance) current() *process {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.p
}

// Index is the instance's number within its version.
func (in *instance) Index() int { return in.index }

// Kill sends SIGKILL to the instance's process group and waits until it is
// reaped. The instance stays down until Start.
func (in *instance) Kill(ctx context.Context) error {
	if err := in.op.Lock(ctx, in.name); err != nil {
		return err
	}
	defer in.op.Unlock()
	return in.stopLocked(ctx, cluster.ReasonKilled, 0, false)
}

// Launch starts the instance's process the first time (as Start).
func (in *instance) Launch(ctx context.Context) error { return in.Start(ctx) }

// Exited is closed when the instance's process exits on its own.
func (in *instance) Exited() <-chan struct{} {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.died
}

// Remove stops the instance for good (SIGTERM, SIGKILL after StopGrace).
func (in *instance) Remove(ctx context.Context, reason string) error {
	return in.stop(ctx, reason, true)
}

// Start starts the instance again on the same port if it is not running, and
// returns once its process runs (not necessarily healthy).
func (in *instance) Start(ctx context.Context) error {
	if err := in.op.Lock(ctx, in.name); err != nil {
		return err
	}
	defer in.op.Unlock()
	return in.startLocked()
}

// Restart stops the instance gracefully (SIGTERM, SIGKILL after 3s) and
// starts it again.
func (in *instance) Restart(ctx context.Context) error {
	if err := in.op.Lock(ctx, in.name); err != nil {
		return err
	}
	defer in.op.Unlock()
	if err := in.stopLocked(ctx, cluster.ReasonRestart, cluster.StopGrace, false); err != nil {
		return err
	}
	return in.startLocked()
}

// Pause freezes the instance's process group (SIGSTOP) and returns once
// every thread of its process has stopped: until then a thread that was
// running may still answer a request.
func (in *instance) Pause(ctx context.Context) error {
	if err := in.signal(syscall.SIGSTOP); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	p := in.current()
	for !proc.AllThreadsStopped(p.pid) {
		if p.exited() {
			return fmt.Errorf("instance %s: exited while being paused", in.name)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("instance %s: SIGSTOP sent, but pid %d did not stop: %w", in.name, p.pid, ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}

// Resume thaws a paused instance (SIGCONT).
func (in *instance) Resume(ctx context.Context) error { return in.signal(syscall.SIGCONT) }

func (in *instance) signal(sig syscall.Signal) error {
	p := in.current()
	if p == nil || p.exited() {
		return fmt.Errorf("instance %s: %v: not running; Start it first", in.name, sig)
	}
	if err := proc.SignalGroup(p.pid, sig); err != nil {
		return fmt.Errorf("instance %s: send %v to process group %d: %w", in.name, sig, p.pid, err)
	}
	return nil
}

// startLocked spawns the process unless it runs already. in.op must be held.
func (in *instance) startLocked() error {
	in.mu.Lock()
	if in.gone {
		in.mu.Unlock()
		return fmt.Errorf("instance %s was retired or the topology is down; it cannot start again", in.name)
	}
	if in.p != nil && !in.p.exited() {
		in.mu.Unlock()
		return nil
	}
	p, err := in.spawnLocked()
	in.mu.Unlock()
	if err != nil {
		return err
	}
	in.l.event(record.EvInstanceStarted, in, fmt.Sprintf("pid %d", p.pid), map[string]any{"pid": p.pid})
	go in.reap(p)
	return nil
}

// spawnLocked starts one process; in.mu must be held.
func (in *instance) spawnLocked() (*process, error) {
	f, err := os.OpenFile(in.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, &InfraError{Service: in.service, Instance: in.name, Command: in.argv,
			Err: fmt.Errorf("open its log: %w; check that the run directory is writable", err)}
	}
	defer f.Close() // the child has its own copy
	fmt.Fprintf(f, "=== firedrill %s: starting %s: %s\n", time.Now().UTC().Format(time.RFC3339Nano), in.name, quoteArgs(in.argv))
	cmd := exec.Command(in.argv[0], in.argv[1:]...)
	cmd.Env = in.env
	cmd.Stdout, cmd.Stderr = f, f
	if err := proc.Spawn(cmd); err != nil {
		fmt.Fprintf(f, "=== firedrill: start failed: %v\n", err)
		return nil, &InfraError{Service: in.service, Instance: in.name, Command: in.argv,
			Err: fmt.Errorf("start: %w; check the command exists and is executable", err)}
	}
	p := &process{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	in.p = p
	return p, nil
}

// reap waits for p and records how it ended.
func (in *instance) reap(p *process) {
	_ = p.cmd.Wait()
	close(p.done)
	fields := map[string]any{"pid": p.pid, "status": p.status()}
	if ps := p.cmd.ProcessState; ps != nil {
		fields["exit_code"] = ps.ExitCode()
	}
	if r := p.reason.Load(); r != nil {
		fields["reason"] = *r
		in.l.event(record.EvInstanceStopped, in, *r+": "+p.status(), fields)
		return
	}
	in.mu.Lock()
	close(in.died)
	in.died = make(chan struct{})
	in.mu.Unlock()
	in.l.event(cluster.EvInstanceExited, in, "exited on its own: "+p.status(), fields)
}

// stopLocked stops the running process: SIGTERM and, after grace (0: at
// once), SIGKILL, always to the whole process group; it returns once the
// process is reaped. final marks the instance as never to start again.
// in.op must be held.
func (in *instance) stopLocked(ctx context.Context, reason string, grace time.Duration, final bool) error {
	in.mu.Lock()
	if final {
		in.gone = true
	}
	p := in.p
	in.mu.Unlock()
	if p == nil {
		return nil
	}
	if p.exited() {
		// The leader is gone; its children may not be.
		_ = proc.SignalGroup(p.pid, syscall.SIGKILL)
		return nil
	}
	p.reason.CompareAndSwap(nil, &reason)
	if grace > 0 {
		_ = proc.SignalGroup(p.pid, syscall.SIGTERM)
		_ = proc.SignalGroup(p.pid, syscall.SIGCONT) // a paused process would hold SIGTERM pending
		t := time.NewTimer(grace)
		select {
		case <-p.done:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	if err := proc.SignalGroup(p.pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("instance %s: kill process group %d: %w", in.name, p.pid, err)
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("instance %s: pid %d not reaped after SIGKILL: %w", in.name, p.pid, ctx.Err())
	}
}

// stop takes the op lock and stops the instance for good or for now.
func (in *instance) stop(ctx context.Context, reason string, final bool) error {
	if err := in.op.Lock(ctx, in.name); err != nil {
		return err
	}
	defer in.op.Unlock()
	return in.stopLocked(ctx, reason, cluster.StopGrace, final)
}

// Failed describes an instance that did not become healthy, with its
// command and the end of its log; cause nil: its process exited first.
func (in *instance) Failed(_ context.Context, cause error) error {
	e := &InfraError{Service: in.service, Instance: in.name, Command: in.argv, Log: in.logPath, Err: cause}
	if p := in.current(); cause == nil && p != nil {
		e.Err = fmt.Errorf("exited (%s) before it became healthy; fix the command or see its log: %w", p.status(), errExited)
	} else if cause == nil {
		e.Err = errors.New("was never started")
	}
	e.LogTail = tailLines(in.logPath, 20)
	return e
}

var errExited = errors.New("process exited")
