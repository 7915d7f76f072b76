package router

import (
	"context"
	"net"
	"sync"
	"time"
)

// Directory knows the routers serving in this process by address, so that
// the edge proxies of the same process (the embedded Toxiproxy) reach them
// in memory instead of over loopback TCP. The zero value is empty and ready.
type Directory struct {
	mu      sync.RWMutex
	routers map[string]*Router
}

// Add makes r reachable at its address (r must be started). A router
// listening on all addresses (0.0.0.0:P, [::]:P) is found at the loopback
// address with its port, which is how a proxy of the same host names it.
func (d *Directory) Add(r *Router) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.routers == nil {
		d.routers = map[string]*Router{}
	}
	addr := r.Addr()
	d.routers[addr] = r
	if host, port, err := net.SplitHostPort(addr); err == nil && net.ParseIP(host).IsUnspecified() {
		d.routers[net.JoinHostPort("127.0.0.1", port)] = r
		d.routers[net.JoinHostPort("localhost", port)] = r
	}
}

// dialTimeout bounds a dial to an address no router of the directory has,
// as the TCP dial it falls back to.
const dialTimeout = 10 * time.Second

// DialUpstream opens a connection to upstream (host:port) for the proxied
// client: in memory when a router of the directory serves there, over TCP
// otherwise. Its signature is toxiproxy's ApiServer.DialUpstream (the
// patched copy in third_party/toxiproxy).
func (d *Directory) DialUpstream(client net.Conn, upstream string) (net.Conn, error) {
	d.mu.RLock()
	r := d.routers[upstream]
	d.mu.RUnlock()
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	if r == nil {
		var nd net.Dialer
		return nd.DialContext(ctx, "tcp", upstream)
	}
	return r.DialMemory(ctx, client.RemoteAddr())
}
