package pg

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/firedrill/firedrill/topology/proc"
)

// PostgreSQL's postmaster makes every child (backend, walsender,
// checkpointer, ...) a session leader of its own (setsid in
// InitPostmasterChild), so signalling the postmaster's process group does
// not reach them: pausing or killing a server means signalling the
// postmaster and each of its children.

// signalTree sends sig to the postmaster pid and to each of its children.
// For SIGSTOP the postmaster goes first (a stopped postmaster forks no new
// child behind our back); for SIGCONT it goes last.
func signalTree(pid int, sig syscall.Signal) {
	if pid <= 0 {
		return
	}
	kids := proc.Children(pid)
	if sig != syscall.SIGCONT {
		_ = syscall.Kill(pid, sig)
		kids = proc.Children(pid) // whatever it forked before the signal landed
	}
	for _, k := range kids {
		_ = syscall.Kill(k, sig)
	}
	if sig == syscall.SIGCONT {
		_ = syscall.Kill(pid, sig)
	}
}

// Processes lists the processes working in dir or below it (their current
// directory; a postmaster and every child of it work in the data
// directory), also when dir has been deleted. PostgreSQL overwrites its
// children's environment with their process titles, so the run id is not
// visible in them; this is how tests and CleanStale find them.
func Processes(dir string) []int {
	dir = filepath.Clean(dir)
	var out []int
	links, _ := filepath.Glob("/proc/[0-9]*/cwd")
	for _, l := range links {
		target, err := os.Readlink(l)
		if err != nil {
			continue
		}
		target = strings.TrimSuffix(target, " (deleted)")
		if target == dir || strings.HasPrefix(target, dir+"/") {
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(l))); err == nil {
				out = append(out, pid)
			}
		}
	}
	return out
}

// LogTail is the last n lines of the log at path, indented, for an error
// message that should not send the reader to a file first ("" when the
// log cannot be read or is empty).
func LogTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	lines = lines[max(0, len(lines)-n):]
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	return "\n    " + strings.Join(lines, "\n    ")
}
