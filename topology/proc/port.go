package proc

import (
	"fmt"
	"net"
	"strconv"
	"sync"
)

// Ports handed out by FreePort in this process, so that two instances never
// get the same one even if the kernel offers it twice (per process by
// nature, like the ports themselves).
var (
	portsMu sync.Mutex
	ports   = map[int]bool{}
)

// FreePort returns a port on 127.0.0.1 that was free a moment ago and that
// this process has not handed out before. Another program may still take it
// before the instance binds it; the instance then fails its start with a
// clear error.
func FreePort() (int, error) {
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
