package pg

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	dirPrefix = "firedrill-pg-"
	ownerFile = "firedrill-owner"
)

// ownerMark identifies the harness process: its pid and start time (pids
// are reused; the pair is not).
func ownerMark(pid int) string { return fmt.Sprintf("%d %s\n", pid, startTime(pid)) }

// startTime is field 22 of /proc/PID/stat ("" when the process is gone).
func startTime(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// ownerAlive reports whether the harness that created dir still runs.
func ownerAlive(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		// No mark yet: a harness is creating it this very moment, or it died
		// before writing it; an empty directory costs nothing to keep.
		return true
	}
	var pid int
	var start string
	if _, err := fmt.Sscan(string(b), &pid, &start); err != nil {
		return false
	}
	return startTime(pid) == start
}

// CleanStale removes the cluster directories (and their shared memory
// segments) of harnesses that are gone, in os.TempDir(). Their servers died
// with them (parent-death signal). It returns the directories removed.
func CleanStale() ([]string, error) {
	return cleanStaleIn(os.TempDir())
}

func cleanStaleIn(tmp string) ([]string, error) {
	dirs, err := filepath.Glob(filepath.Join(tmp, dirPrefix+"*"))
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []string
	for _, d := range dirs {
		if ownerAlive(d) {
			continue
		}
		// Servers die with their harness.
		reapDir(d)
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		removed = append(removed, d)
	}
	if len(errs) > 0 {
		return removed, fmt.Errorf("remove stale PostgreSQL directories: %s", strings.Join(errs, "; "))
	}
	return removed, nil
}

// reapDir kills whatever still works in a cluster directory whose servers
// are gone (a backend busy in a query takes a moment to notice its
// postmaster died; one forked as the postmaster died escapes the kill of
// its children), waits up to 5 s for it to exit, and removes the servers'
// System V segments, which go only once nothing is attached to them.
func reapDir(d string) {
	for _, pid := range Processes(d) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for deadline := time.Now().Add(5 * time.Second); len(Processes(d)) > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	removeSegments(d)
}

// removeSegments removes the System V shared memory segment that each
// postmaster of the cluster directory registered (line 7 of postmaster.pid:
// key and id). A SIGKILLed postmaster leaves it behind; the kernel keeps it
// until someone removes it. Segments still attached are left alone.
func removeSegments(base string) {
	pidFiles, _ := filepath.Glob(filepath.Join(base, "*", "postmaster.pid"))
	for _, pf := range pidFiles {
		id, ok := segmentID(pf)
		if !ok {
			continue
		}
		var ds unix.SysvShmDesc
		if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil || ds.Nattch > 0 {
			continue
		}
		_, _ = unix.SysvShmCtl(id, unix.IPC_RMID, nil)
	}
}

func segmentID(pidFile string) (int, bool) {
	f, err := os.Open(pidFile)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if line != 7 {
			continue
		}
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 {
			return 0, false
		}
		id, err := strconv.Atoi(fields[1])
		return id, err == nil && id >= 0
	}
	return 0, false
}
