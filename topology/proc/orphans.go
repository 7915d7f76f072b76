package proc

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// RunIDEnv is set in every local instance's environment; it is how
// `firedrill clean` recognises what a killed run left.
const RunIDEnv = "FIREDRILL_RUN_ID"

// Orphan is a local instance process whose harness is gone.
type Orphan struct {
	PID   int
	RunID string
	Cmd   string
}

// FindOrphans lists processes carrying RunIDEnv whose parent is gone
// (re-parented to init or a subreaper that is not a firedrill harness). A
// live run's instances are children of its harness and are left alone.
func FindOrphans() ([]Orphan, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return nil, err
	}
	var out []Orphan
	for _, d := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(d))
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil {
			continue
		}
		runID := ""
		for _, kv := range bytes.Split(env, []byte{0}) {
			if v, ok := bytes.CutPrefix(kv, []byte(RunIDEnv+"=")); ok {
				runID = string(v)
			}
		}
		if runID == "" {
			continue
		}
		ppid := ParentPID(d)
		if ppid > 1 && parentIsHarness(ppid) {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		out = append(out, Orphan{PID: pid, RunID: runID, Cmd: strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))})
	}
	return out, nil
}

// KillOrphans SIGKILLs what FindOrphans finds.
func KillOrphans() ([]Orphan, error) {
	orphans, err := FindOrphans()
	for _, o := range orphans {
		_ = syscall.Kill(o.PID, syscall.SIGKILL)
	}
	return orphans, err
}

// parentIsHarness: the harness itself does not carry RunIDEnv, its instances
// do; a parent that carries it is another instance (a shell wrapper), so the
// question moves up to that parent's parent.
func parentIsHarness(ppid int) bool {
	for i := 0; i < 8 && ppid > 1; i++ {
		d := "/proc/" + strconv.Itoa(ppid)
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil {
			return false
		}
		if !bytes.Contains(env, []byte(RunIDEnv+"=")) {
			return true
		}
		ppid = ParentPID(d)
	}
	return false
}
