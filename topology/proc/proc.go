// Package proc holds what every runtime that starts local processes needs
// (the local runtime's instances, topology/pg's PostgreSQL servers): spawning
// children that die with the harness, free ports on 127.0.0.1, reading a
// process's state from /proc, and finding what a killed harness left.
package proc

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// Linux sends a child's Pdeathsig when the *thread* that forked it exits, and
// the Go runtime may retire threads at any time. So every child is started
// from one goroutine locked to its thread for the life of the process: the
// children die with the harness (even on SIGKILL), not with a random thread.
// The spawner is per process by nature, hence package state.
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

// Spawn starts cmd in its own process group, from the locked spawner thread,
// with SIGKILL as its parent-death signal, so it dies with the harness even
// when the harness is SIGKILLed.
func Spawn(cmd *exec.Cmd) error {
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

// SignalGroup sends sig to the process group led by pid. A group that is
// already gone is not an error.
func SignalGroup(pid int, sig syscall.Signal) error {
	if pid <= 0 {
		return nil
	}
	err := syscall.Kill(-pid, sig)
	if err == syscall.ESRCH {
		return nil
	}
	return err
}
