package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/router"
)

// The optional capabilities of topology (capabilities.go) the docker
// runtime has, as the local runtime: the routers' ones are calls to the
// data plane; feature flags go to each instance's published port.
var (
	_ topology.InstanceScaling  = (*topo)(nil)
	_ topology.CohortRouting    = (*topo)(nil)
	_ topology.Mirroring        = (*topo)(nil)
	_ topology.SyntheticTraffic = (*topo)(nil)
	_ topology.FeatureFlags     = (*topo)(nil)
)

// flagTimeout bounds one instance's flag flip.
const flagTimeout = 2 * time.Second

// RetireInstances takes the n oldest instances of a version out of the
// router, drains and removes them.
func (t *topo) RetireInstances(ctx context.Context, name, version string, n int) error {
	s := t.service(name)
	if s == nil {
		return fmt.Errorf("retire instances: no service %q in the topology", name)
	}
	if n <= 0 {
		return nil
	}
	ins := t.instances(s, version)
	if n > len(ins) {
		return fmt.Errorf("retire %d instance(s) of %s version %s: it has %d", n, name, version, len(ins))
	}
	if err := t.discard(s, ins[:n], reasonRetired); err != nil {
		return fmt.Errorf("retire %d instance(s) of %s version %s: %w", n, name, version, err)
	}
	return nil
}

// SetCohorts routes the service's requests by the hash of a header or cookie.
func (t *topo) SetCohorts(ctx context.Context, name string, c topology.Cohorts) error {
	if t.service(name) == nil {
		return fmt.Errorf("set cohorts: no service %q in the topology", name)
	}
	return t.dp.setCohorts(ctx, name, router.Cohorts{Header: c.Header, Cookie: c.Cookie, Order: c.Order})
}

// SetMirror copies percent of the service's live requests to version.
func (t *topo) SetMirror(ctx context.Context, name, version string, percent int) error {
	if t.service(name) == nil {
		return fmt.Errorf("mirror: no service %q in the topology", name)
	}
	return t.dp.setMirror(ctx, name, version, percent)
}

// StartSynthetic has the service's router send requests of its own to
// version, on the scenario's traffic paths when paths is empty.
func (t *topo) StartSynthetic(ctx context.Context, name, version string, rate float64, paths []string) (func(), error) {
	if t.service(name) == nil {
		return nil, fmt.Errorf("synthetic traffic: no service %q in the topology", name)
	}
	if len(paths) == 0 {
		paths = t.sc.Traffic.Paths
	}
	id, err := t.dp.startSynthetic(ctx, name, version, rate, paths)
	if err != nil {
		return nil, err
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = t.dp.stopSynthetic(sctx, id) // the data plane going down stops it too
	}, nil
}

// SetFlag flips a feature flag on every instance of a version (POST
// /flags/{flag}?on=... on its published port, which the httpsvc fixture
// serves). Every instance is tried; the error names those that failed.
func (t *topo) SetFlag(ctx context.Context, name, version, flag string, on bool) error {
	s := t.service(name)
	if s == nil {
		return fmt.Errorf("set flag: no service %q in the topology", name)
	}
	ins := t.instances(s, version)
	if len(ins) == 0 {
		return fmt.Errorf("set flag %s: %s has no instance of version %s", flag, name, version)
	}
	var errs []error
	for _, in := range ins {
		if err := postFlag(ctx, in.HostAddr(), flag, on); err != nil {
			errs = append(errs, fmt.Errorf("instance %s: %w", in.name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("set flag %s=%v on %s %s: %w; the service must serve POST /flags/{name}?on= (the httpsvc fixture does)", flag, on, name, version, err)
	}
	return nil
}

var flagClient = &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: flagTimeout}

func postFlag(ctx context.Context, addr, flag string, on bool) error {
	if addr == "" {
		return errors.New("its port is not published (it never started)")
	}
	ctx, cancel := context.WithTimeout(ctx, flagTimeout)
	defer cancel()
	u := "http://" + addr + "/flags/" + url.PathEscape(flag) + "?on=" + strconv.FormatBool(on)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	resp, err := flagClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: status %d: %s", u, resp.StatusCode, body)
	}
	return nil
}
