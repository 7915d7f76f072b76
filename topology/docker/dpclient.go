package docker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology/cluster"
	"github.com/firedrill/firedrill/topology/router"
)

// pollInterval is how often the harness fetches hop samples and router
// events; it is the lag of canary analysis behind the routers.
const pollInterval = 100 * time.Millisecond

// dpClient drives a data plane's control API and copies what its routers
// record into the harness's recorder and event log. It is the docker
// runtime's cluster.DataPlane.
type dpClient struct {
	base string // http://127.0.0.1:PORT
	http *http.Client

	// Set by wire, before the cluster uses it.
	sc      *scenarios.Scenario
	toxiURL string
	toxi    *toxiclient.Client
	urls    map[string]string // service -> its router's published URL
	ports   map[string]int    // service -> its router's port inside the data plane
	edges   int               // edge proxies created: the next one listens on proxyBasePort+edges

	rec    *record.Recorder // may be nil
	events *record.Log      // may be nil

	pollMu     sync.Mutex // one poll at a time; guards the cursors below
	nextSample int
	nextEvent  int
	names      []string
}

func newDPClient(base string, rec *record.Recorder, events *record.Log) *dpClient {
	return &dpClient{
		base:   base,
		http:   &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 8}},
		rec:    rec,
		events: events,
	}
}

var _ cluster.DataPlane = (*dpClient)(nil)

func (c *dpClient) close() { c.http.CloseIdleConnections() }

// wire tells the client what the data plane container publishes: the
// Toxiproxy API and each service's router.
func (c *dpClient) wire(sc *scenarios.Scenario, toxiURL string, urls map[string]string, ports map[string]int) {
	c.sc, c.toxiURL, c.toxi, c.urls, c.ports = sc, toxiURL, toxiclient.NewClient(toxiURL), urls, ports
}

// AddRouter creates s's router on its port inside the data plane and
// returns its published URL.
func (c *dpClient) AddRouter(ctx context.Context, s *cluster.Service) (string, error) {
	seed := cluster.RouterSeed(c.sc.Seed, s.Index) // distinct per service, fixed by the run's seed
	if _, err := c.createRouter(ctx, s.Name(), fmt.Sprintf("0.0.0.0:%d", routerPort(s)), s.Health, seed); err != nil {
		return "", err
	}
	return c.urls[s.Name()], nil
}

// AddEdge creates the edge proxy inside the data plane, forwarding to e.To's
// router over its loopback; instances dial it at dataplane:<port>.
func (c *dpClient) AddEdge(_ context.Context, e scenarios.Edge, name string) (string, error) {
	port := proxyBasePort + c.edges
	c.edges++
	if _, err := c.toxi.CreateProxy(name, fmt.Sprintf("0.0.0.0:%d", port), fmt.Sprintf("127.0.0.1:%d", c.ports[e.To])); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s:%d", dataplaneAlias, port), nil
}

func (c *dpClient) ToxiproxyURL() string { return c.toxiURL }

// RemoveBackend drains and removes a backend; the drain is the data
// plane's, so that a harness giving up does not leave a backend behind.
func (c *dpClient) RemoveBackend(ctx context.Context, service, instance string, drain time.Duration) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain+10*time.Second)
	defer cancel()
	_, err := c.removeBackend(rctx, service, instance, drain)
	return err
}

// StartSynthetic starts synthetic traffic; stop ends it (the data plane
// going down ends it too).
func (c *dpClient) StartSynthetic(ctx context.Context, service, version string, rate float64, paths []string) (func(), error) {
	id, err := c.startSynthetic(ctx, service, version, rate, paths)
	if err != nil {
		return nil, err
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = c.stopSynthetic(sctx, id)
	}, nil
}

// Close fetches the routers' last samples and events, then lets go of the
// connections (the container goes with the run's sweep).
func (c *dpClient) Close(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, _ = c.poll(pctx)
	cancel()
	c.close()
	return nil
}

// do sends a JSON request and decodes a JSON reply into out (may be nil).
func (c *dpClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("data plane %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("data plane %s %s: read reply: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e apiError
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("data plane %s %s: %s", method, path, resp.Status)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("data plane %s %s: decode reply: %w", method, path, err)
		}
	}
	return nil
}

func svcPath(service string, rest ...string) string {
	p := "/v1/routers/" + url.PathEscape(service)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

// createRouter creates a service's router listening on listen (inside the
// data plane) and returns the address it listens on.
func (c *dpClient) createRouter(ctx context.Context, service, listen string, h scenarios.Health, seed int64) (string, error) {
	var info routerInfo
	err := c.do(ctx, http.MethodPost, "/v1/routers", routerSpec{Service: service, Listen: listen, Health: h, Seed: seed}, &info)
	return info.Addr, err
}

func (c *dpClient) AddBackend(ctx context.Context, service string, b router.Backend) error {
	return c.do(ctx, http.MethodPost, svcPath(service, "backends"), b, nil)
}

// removeBackend drains and removes a backend. A drain cut short is not an
// error (that is what retiring under load means); it is returned as note.
func (c *dpClient) removeBackend(ctx context.Context, service, name string, drain time.Duration) (note string, err error) {
	var e apiError
	err = c.do(ctx, http.MethodDelete, svcPath(service, "backends", name)+"?drain="+drain.String(), nil, &e)
	return e.Error, err
}

func (c *dpClient) WaitHealthy(ctx context.Context, service, name string) error {
	err := c.do(ctx, http.MethodPost, svcPath(service, "backends", name, "healthy"), nil, nil)
	if err == nil || ctx.Err() == nil {
		return err
	}
	// The wait was cut on this side: ask for the last check's answer, as
	// the local runtime's router says it (a rollout's not_ready event).
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	bs, _ := c.backends(sctx, service)
	nh := &router.NotHealthyError{Service: service, Backend: name, Err: ctx.Err()}
	for _, b := range bs {
		if b.Name == name {
			nh.Addr, nh.LastCheck = b.Addr, b.LastError
		}
	}
	return nh
}

func (c *dpClient) backends(ctx context.Context, service string) ([]router.BackendStatus, error) {
	var out []router.BackendStatus
	err := c.do(ctx, http.MethodGet, svcPath(service, "backends"), nil, &out)
	return out, err
}

func (c *dpClient) SetWeights(ctx context.Context, service string, w map[string]int) error {
	return c.do(ctx, http.MethodPut, svcPath(service, "weights"), w, nil)
}

func (c *dpClient) Weights(ctx context.Context, service string) (map[string]int, error) {
	var out map[string]int
	err := c.do(ctx, http.MethodGet, svcPath(service, "weights"), nil, &out)
	return out, err
}

func (c *dpClient) SetCohorts(ctx context.Context, service string, co router.Cohorts) error {
	return c.do(ctx, http.MethodPut, svcPath(service, "cohorts"), co, nil)
}

func (c *dpClient) SetMirror(ctx context.Context, service, version string, percent int) error {
	return c.do(ctx, http.MethodPut, svcPath(service, "mirror"), mirrorSpec{Version: version, Percent: percent}, nil)
}

// startSynthetic starts synthetic traffic and returns its id.
func (c *dpClient) startSynthetic(ctx context.Context, service, version string, rate float64, paths []string) (string, error) {
	var info syntheticInfo
	err := c.do(ctx, http.MethodPost, svcPath(service, "synthetic"), syntheticSpec{Version: version, Rate: rate, Paths: paths}, &info)
	return info.ID, err
}

func (c *dpClient) stopSynthetic(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/synthetic/"+url.PathEscape(id), nil, nil)
}

// poll fetches what the routers recorded since the last poll and adds it to
// the harness's recorder and event log. It returns how many samples came.
func (c *dpClient) poll(ctx context.Context) (int, error) {
	c.pollMu.Lock()
	defer c.pollMu.Unlock()
	total := 0
	for {
		var r pollReply
		q := url.Values{}
		q.Set("samples", strconv.Itoa(c.nextSample))
		q.Set("names", strconv.Itoa(len(c.names)))
		q.Set("events", strconv.Itoa(c.nextEvent))
		if err := c.do(ctx, http.MethodGet, "/v1/poll?"+q.Encode(), nil, &r); err != nil {
			return total, err
		}
		for len(r.Names) > 0 {
			name, ok := r.Names[len(c.names)]
			if !ok {
				break
			}
			c.names = append(c.names, name)
			delete(r.Names, len(c.names)-1)
		}
		for _, s := range r.Samples {
			c.observe(s)
		}
		for _, e := range r.Events {
			if c.events != nil {
				c.events.Add(e) // keeps the router's own time
			}
		}
		c.nextSample, c.nextEvent = r.NextSample, r.NextEvent
		total += len(r.Samples)
		if len(r.Samples) < maxPollSamples {
			return total, nil
		}
	}
}

func (c *dpClient) name(i int64) string {
	if i >= 0 && int(i) < len(c.names) {
		return c.names[i]
	}
	return ""
}

// observe adds one wire sample [at, latency_us, status, err, svc, ver,
// inst, source, caller] to the harness's recorder.
func (c *dpClient) observe(s [9]int64) {
	if c.rec == nil {
		return
	}
	c.rec.Observe(record.Observation{
		Source:   record.Source(s[7]),
		Service:  c.name(s[4]),
		Version:  c.name(s[5]),
		Instance: c.name(s[6]),
		Caller:   c.name(s[8]),
		Intended: time.Unix(0, s[0]),
		Latency:  time.Duration(s[1]) * time.Microsecond,
		Status:   int(s[2]),
		Err:      record.ErrKind(s[3]),
	})
}

// pollLoop polls every pollInterval until ctx ends.
func (c *dpClient) pollLoop(ctx context.Context) {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, _ = c.poll(pctx) // a missed poll is caught up by the next one
			cancel()
		}
	}
}
