package docker

import (
	"context"
	"net/http"

	"github.com/firedrill/firedrill/topology/router"
)

// HTTP faults over the data plane's control API: PUT and DELETE
// /v1/routers/{svc}/faults/{id}.

func (d *dataplane) putFault(w http.ResponseWriter, req *http.Request, r *router.Router) {
	var f router.HTTPFault
	if !decode(w, req, &f) {
		return
	}
	f.ID = req.PathValue("id")
	if err := r.AddFault(f); err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (d *dataplane) deleteFault(w http.ResponseWriter, req *http.Request, r *router.Router) {
	r.RemoveFault(req.PathValue("id")) // gone already is fine: a revert may repeat
	w.WriteHeader(http.StatusNoContent)
}

func (c *dpClient) AddHTTPFault(ctx context.Context, service string, f router.HTTPFault) error {
	return c.do(ctx, http.MethodPut, svcPath(service, "faults", f.ID), f, nil)
}

func (c *dpClient) RemoveHTTPFault(ctx context.Context, service, id string) error {
	return c.do(ctx, http.MethodDelete, svcPath(service, "faults", id), nil, nil)
}
