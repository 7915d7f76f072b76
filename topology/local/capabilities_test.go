package local

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/topology"
	"github.com/firedrill/firedrill/topology/cluster"
)

func threeReplicas() *scenarios.Scenario {
	return &scenarios.Scenario{Name: "t", Seed: 7, Services: []*scenarios.Service{echoService("b", "v1", 3)},
		Traffic: scenarios.Traffic{Entry: "b", Paths: []string{"/"}}}
}

// RetireInstances stops the oldest instances of a version, drained and
// gone, and refuses to retire more than there are.
func TestRetireInstances(t *testing.T) {
	_, tp, events, _ := upTopology(t, threeReplicas())
	ctx := context.Background()
	ins := tp.Instances("b", "v1")
	require.Len(t, ins, 3)
	pids := []int{ins[0].(*instance).Pid(), ins[1].(*instance).Pid()}

	require.Error(t, tp.RetireInstances(ctx, "b", "v1", 4))
	require.NoError(t, tp.RetireInstances(ctx, "b", "v1", 2))
	left := tp.Instances("b", "v1")
	require.Len(t, left, 1)
	assert.Equal(t, "b-v1-2", left[0].Name(), "the oldest go first")
	for _, pid := range pids {
		assert.True(t, processGone(pid), "retired pid %d still runs", pid)
	}
	ev := findEvent(t, events, record.EvInstanceStopped, "b-v1-0", time.Time{})
	assert.Equal(t, cluster.ReasonRetired, ev.Fields["reason"])
	c := httpClient(t)
	for range 6 {
		r := get(t, c, tp.RouterURL("b")+"/")
		require.Equal(t, 200, r.status)
		assert.Equal(t, "b-v1-2", r.header.Get("X-Firedrill-Instance"))
	}
	require.NoError(t, tp.RetireInstances(ctx, "b", "v1", 0), "nothing to do")
	require.Error(t, tp.RetireInstances(ctx, "nope", "v1", 1))
}

// SetFlag reaches every instance of the version, and only those; an
// instance that cannot be reached is named in the error.
func TestSetFlag(t *testing.T) {
	_, tp, _, _ := upTopology(t, threeReplicas())
	ctx := context.Background()
	require.NoError(t, tp.Deploy(ctx, "b", topology.Deployment{Version: "v2", Replicas: 2}))
	require.NoError(t, tp.SetFlag(ctx, "b", "v2", "bad", false))
	c := httpClient(t)
	for _, in := range tp.Instances("b", "v2") {
		assert.Equal(t, "bad=false\n", get(t, c, "http://"+in.Addr()+"/flagstate").body, in.Name())
	}
	for _, in := range tp.Instances("b", "v1") {
		assert.Empty(t, get(t, c, "http://"+in.Addr()+"/flagstate").body, "%s is not the new version", in.Name())
	}

	down := tp.Instances("b", "v2")[1]
	require.NoError(t, down.Kill(ctx))
	err := tp.SetFlag(ctx, "b", "v2", "bad", true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), down.Name())
	assert.Contains(t, err.Error(), "POST /flags/{name}?on=")
	up := tp.Instances("b", "v2")[0]
	assert.Equal(t, "bad=true\n", get(t, c, "http://"+up.Addr()+"/flagstate").body, "the reachable one was flipped")
	require.Error(t, tp.SetFlag(ctx, "b", "v9", "bad", true), "no instance of v9")
}

// Cohorts, mirroring and synthetic traffic pass through to the service's
// router; mirrored answers never reach the caller and are recorded as
// Shadow samples.
func TestRouterCapabilities(t *testing.T) {
	_, tp, _, _ := upTopology(t, threeReplicas())
	ctx := context.Background()
	rec := tp.Launcher().(*launcher).opts.Recorder
	require.NoError(t, tp.Deploy(ctx, "b", topology.Deployment{Version: "v2", Replicas: 1}))
	require.NoError(t, tp.SetMirror(ctx, "b", "v2", 100))
	c := httpClient(t)
	for range 20 {
		r := get(t, c, tp.RouterURL("b")+"/")
		require.Equal(t, 200, r.status)
		assert.True(t, strings.HasPrefix(r.body, "v1 "), "the caller gets v1's answer: %q", r.body)
	}
	require.Eventually(t, func() bool {
		return len(rec.Select(record.Filter{Source: record.Shadow, Service: "b", Version: "v2"})) == 20
	}, 10*time.Second, 10*time.Millisecond)
	assert.Empty(t, rec.Select(record.Filter{Source: record.Hop, Service: "b", Version: "v2"}))
	require.NoError(t, tp.SetMirror(ctx, "b", "", 0))

	stop, err := tp.StartSynthetic(ctx, "b", "v2", 50, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return len(rec.Select(record.Filter{Source: record.Shadow, Service: "b", Version: "v2"})) >= 30
	}, 10*time.Second, 10*time.Millisecond)
	stop()

	require.NoError(t, tp.SetWeights(ctx, "b", map[string]int{"v1": 50, "v2": 50}))
	require.NoError(t, tp.SetCohorts(ctx, "b", topology.Cohorts{Header: "X-User", Order: []string{"v1", "v2"}}))
	for _, user := range []string{"ann", "bob", "cy", "dee"} {
		var first string
		for range 4 {
			req, _ := http.NewRequest(http.MethodGet, tp.RouterURL("b")+"/", nil)
			req.Header.Set("X-User", user)
			resp, err := c.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			v := resp.Header.Get("X-Firedrill-Version")
			if first == "" {
				first = v
			}
			assert.Equal(t, first, v, "%s stays with one version", user)
		}
	}
}

// An instance that fails its health checks stops receiving traffic once
// the router finds it unhealthy: no request starts on it after the event,
// and the event comes within UnhealthyAfter intervals plus a check's
// timeout (with slack for a loaded machine).
func TestUnhealthyInstanceStopsReceivingTraffic(t *testing.T) {
	sc := threeReplicas()
	_, tp, events, _ := upTopology(t, sc)
	rec := tp.Launcher().(*launcher).opts.Recorder
	ctx := context.Background()
	target := tp.Instances("b", "v1")[0]

	c := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 5 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	stopLoad := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stopLoad:
					return
				default:
				}
				if resp, err := c.Get(tp.RouterURL("b") + "/"); err == nil {
					resp.Body.Close()
				}
			}
		})
	}
	t.Cleanup(func() {
		_ = target.Resume(ctx)
	})

	time.Sleep(200 * time.Millisecond) // load reaches every instance
	paused := time.Now()
	require.NoError(t, target.Pause(ctx))
	ev := findEvent(t, events, record.EvInstanceUnhealthy, target.Name(), paused)
	h := sc.Services[0].Health
	bound := time.Duration(h.UnhealthyAfter)*h.Interval.D() + h.Timeout.D()
	assert.Less(t, ev.At.Sub(paused), bound+3*time.Second, "unhealthy after %s; configured: %d x %s + %s timeout",
		ev.At.Sub(paused), h.UnhealthyAfter, h.Interval, h.Timeout)
	time.Sleep(300 * time.Millisecond) // load keeps coming
	close(stopLoad)
	require.NoError(t, target.Resume(ctx))
	wg.Wait()

	start := rec.Start()
	var before, after int
	for _, s := range rec.Select(record.Filter{Source: record.Hop, Service: "b"}) {
		if rec.Name(s.Instance) != target.Name() {
			continue
		}
		if s.Time(start).After(ev.At) {
			after++
		} else {
			before++
		}
	}
	assert.Positive(t, before, "it served before")
	assert.Zero(t, after, "no request started on it once it was found unhealthy")
}

// Outlier ejection configured in the scenario: an instance answering 5xx
// (while passing its health checks) is ejected after eject_after errors in
// a row, with an instance_ejected event naming its version, and the
// service answers from the others.
func TestOutlierEjectionFromScenario(t *testing.T) {
	sc := threeReplicas()
	sc.Services[0].Replicas = 2
	sc.Services[0].Health.EjectAfter = 3
	sc.Services[0].Health.EjectFor = scenarios.Duration(time.Minute)
	_, tp, events, _ := upTopology(t, sc)
	ctx := context.Background()
	require.NoError(t, tp.Deploy(ctx, "b", topology.Deployment{Version: "v2", Replicas: 1, Env: map[string]string{"ECHO_STATUS": "500"}}))
	require.NoError(t, tp.SetWeights(ctx, "b", map[string]int{"v1": 50, "v2": 50}))
	c := httpClient(t)
	fails := 0
	for range 60 {
		if get(t, c, tp.RouterURL("b")+"/").status == 500 {
			fails++
		}
	}
	ev := findEvent(t, events, "instance_ejected", "b-v2-0", time.Time{})
	assert.Equal(t, "v2", ev.Fields["version"])
	// Three errors in a row eject it; a request or two may still reach it
	// while the third one's answer is on its way and the ejection not yet
	// published.
	assert.GreaterOrEqual(t, fails, 3)
	assert.LessOrEqual(t, fails, 5)
	for range 20 {
		r := get(t, c, tp.RouterURL("b")+"/")
		assert.Equal(t, 200, r.status)
		assert.Equal(t, "v1", r.header.Get("X-Firedrill-Version"), "v2 is ejected: its share falls back to v1")
	}
}
