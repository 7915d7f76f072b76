package local

import "os/exec"

// Spawn starts cmd like the runtime starts its instances: in its own process
// group, from the locked spawner thread, with SIGKILL as its parent-death
// signal, so it dies with the harness even when the harness is SIGKILLed.
// Other runtimes' children (topology/pg's PostgreSQL servers) use it too.
func Spawn(cmd *exec.Cmd) error { return spawn(cmd) }

// FreePort returns a port on 127.0.0.1 that was free a moment ago and that
// this process has not handed out before.
func FreePort() (int, error) { return freePort() }

// databaseAddr is where service reaches database dependency d, when the
// harness runs databases (topology.Options.DatabaseAddr).
func (t *topo) databaseAddr(service, d string) (string, bool) {
	if t.opts.DatabaseAddr == nil || t.sc.Database(d) == nil {
		return "", false
	}
	return t.opts.DatabaseAddr(service, d)
}
