package local

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

// The optional capabilities of topology (capabilities.go) the local runtime has.
var (
	_ topology.InstanceScaling  = (*topo)(nil)
	_ topology.CohortRouting    = (*topo)(nil)
	_ topology.Mirroring        = (*topo)(nil)
	_ topology.SyntheticTraffic = (*topo)(nil)
	_ topology.FeatureFlags     = (*topo)(nil)
)

// flagTimeout bounds one instance's flag flip.
const flagTimeout = 2 * time.Second

// flagClient talks to instances directly (never through an environment proxy).
var flagClient = &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: flagTimeout}

// RetireInstances takes the n oldest instances of a version out of the
// router, drains and stops them.
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
	if err := t.discard(ctx, s, ins[:n], reasonRetired); err != nil {
		return fmt.Errorf("retire %d instance(s) of %s version %s: %w", n, name, version, err)
	}
	return nil
}

// SetCohorts routes the service's requests by the hash of a header or cookie.
func (t *topo) SetCohorts(_ context.Context, name string, c topology.Cohorts) error {
	s := t.service(name)
	if s == nil {
		return fmt.Errorf("set cohorts: no service %q in the topology", name)
	}
	return s.router.SetCohorts(router.Cohorts{Header: c.Header, Cookie: c.Cookie, Order: c.Order})
}

// SetMirror copies percent of the service's live requests to version.
func (t *topo) SetMirror(_ context.Context, name, version string, percent int) error {
	s := t.service(name)
	if s == nil {
		return fmt.Errorf("mirror: no service %q in the topology", name)
	}
	return s.router.SetMirror(version, percent)
}

// StartSynthetic sends the service's router's own requests to version,
// on the scenario's traffic paths when paths is empty.
func (t *topo) StartSynthetic(_ context.Context, name, version string, rate float64, paths []string) (func(), error) {
	s := t.service(name)
	if s == nil {
		return nil, fmt.Errorf("synthetic traffic: no service %q in the topology", name)
	}
	if len(paths) == 0 {
		paths = t.sc.Traffic.Paths
	}
	return s.router.StartSynthetic(version, rate, paths)
}

// SetFlag flips a feature flag on every instance of a version (POST
// /flags/{flag}?on=..., which the httpsvc fixture serves). Every instance
// is tried; the error names those that failed.
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
		if err := postFlag(ctx, in.addr, flag, on); err != nil {
			errs = append(errs, fmt.Errorf("instance %s: %w", in.name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("set flag %s=%v on %s %s: %w; the service must serve POST /flags/{name}?on= (the httpsvc fixture does)", flag, on, name, version, err)
	}
	return nil
}

func postFlag(ctx context.Context, addr, flag string, on bool) error {
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
