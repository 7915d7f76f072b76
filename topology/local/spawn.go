package local

import (
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
)

// Linux sends a child's Pdeathsig when the *thread* that forked it exits, and
// the Go runtime may retire threads at any time. So every child is started
// from one goroutine locked to its thread for the life of the process: the
// children die with the harness (even on SIGKILL), not with a random thread.
var (
	spawnOnce sync.Once
	spawnCh   chan spawnReq
)

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

func spawnLoop() {
	runtime.LockOSThread() // never unlocked, and the goroutine never returns
	for req := range spawnCh {
		req.done <- req.cmd.Start()
	}
}

// spawn starts cmd in its own process group, to be SIGKILLed when the harness
// dies.
func spawn(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnCh = make(chan spawnReq)
		go spawnLoop()
	})
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.SysProcAttr.Setpgid = true
	req := spawnReq{cmd: cmd, done: make(chan error, 1)}
	spawnCh <- req
	return <-req.done
}

// signalGroup sends sig to the process group led by pid. A group that is
// already gone is not an error.
func signalGroup(pid int, sig syscall.Signal) error {
	if pid <= 0 {
		return nil
	}
	err := syscall.Kill(-pid, sig)
	if err == syscall.ESRCH {
		return nil
	}
	return err
}

// Ports handed out by freePort in this process, so that two instances never
// get the same one even if the kernel offers it twice.
var (
	portsMu sync.Mutex
	ports   = map[int]bool{}
)

// freePort returns a port on 127.0.0.1 that was free a moment ago. Another
// program may still take it before the instance binds it; the instance then
// fails its start with a clear error.
func freePort() (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
		}
		_, ps, _ := net.SplitHostPort(ln.Addr().String())
		_ = ln.Close()
		p, err := strconv.Atoi(ps)
		if err != nil {
			return 0, fmt.Errorf("find a free port: bad address %s: %w", ln.Addr(), err)
		}
		if !ports[p] {
			ports[p] = true
			return p, nil
		}
	}
	return 0, fmt.Errorf("find a free port on 127.0.0.1: the kernel keeps offering ports already in use; free some ports")
}
