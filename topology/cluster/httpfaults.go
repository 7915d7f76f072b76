package cluster

import (
	"context"
	"fmt"

	"github.com/firedrill/firedrill/topology/router"
)

// AddHTTPFault applies an HTTP fault (abort, delay) in a service's router;
// a fault on the edge A -> B is one on B's router with Caller A.
func (c *Cluster) AddHTTPFault(ctx context.Context, service string, f router.HTTPFault) error {
	if c.service(service) == nil {
		return fmt.Errorf("http fault %s: no service %q in the topology", f.ID, service)
	}
	if err := c.dp.AddHTTPFault(ctx, service, f); err != nil {
		return fmt.Errorf("http fault %s on %s: %w", f.ID, service, err)
	}
	return nil
}

// RemoveHTTPFault takes the fault with this ID out of a service's router.
func (c *Cluster) RemoveHTTPFault(ctx context.Context, service, id string) error {
	if c.service(service) == nil {
		return fmt.Errorf("http fault %s: no service %q in the topology", id, service)
	}
	if err := c.dp.RemoveHTTPFault(ctx, service, id); err != nil {
		return fmt.Errorf("remove http fault %s from %s: %w", id, service, err)
	}
	return nil
}
