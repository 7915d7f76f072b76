package proc

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// state is the state letter of a /proc/.../stat file ('R', 'S', 'T', 'Z',
// ...), 0 when unreadable. It follows the command name, which is in
// parentheses and may itself hold spaces and parentheses.
func state(statPath string) byte {
	b, err := os.ReadFile(statPath)
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	return b[i+2]
}

// AllThreadsStopped reports whether every thread of pid is in a stopped
// state ('T' or 't' in /proc/PID/task/TID/stat): after SIGSTOP, a thread
// that was running may still answer a request until then.
func AllThreadsStopped(pid int) bool {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, task := range tasks {
		if s := state(filepath.Join(dir, task.Name(), "stat")); s != 'T' && s != 't' {
			return false
		}
	}
	return true
}

// Alive reports whether pid exists and is not a zombie.
func Alive(pid int) bool {
	s := state("/proc/" + strconv.Itoa(pid) + "/stat")
	return s != 0 && s != 'Z'
}

// ParentPID reads a process's parent pid from its /proc directory (0 when gone).
func ParentPID(procDir string) int {
	stat, err := os.ReadFile(filepath.Join(procDir, "stat"))
	if err != nil {
		return 0
	}
	// The command name may hold spaces and parentheses: fields start after the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 2 {
		return 0
	}
	p, _ := strconv.Atoi(f[1])
	return p
}

// Children lists the pids whose parent is pid.
func Children(pid int) []int {
	var out []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		if ParentPID(d) == pid {
			if n, err := strconv.Atoi(filepath.Base(d)); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}
