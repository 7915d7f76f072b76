package local

import (
	"context"

	"github.com/firedrill/firedrill/topology/router"
)

func (d *dataplane) AddHTTPFault(_ context.Context, service string, f router.HTTPFault) error {
	r, err := d.router(service)
	if err != nil {
		return err
	}
	return r.AddFault(f)
}

// RemoveHTTPFault is no error when the fault is already gone (a revert
// repeated after a failure half-way).
func (d *dataplane) RemoveHTTPFault(_ context.Context, service, id string) error {
	r, err := d.router(service)
	if err != nil {
		return err
	}
	r.RemoveFault(id)
	return nil
}
