package power

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// callPaths counts the call paths from service from to service to: the
// httpsvc fixture calls each of its dependencies once per request, so a
// service reached along k paths receives k times the entry's rate (before
// retries, and less when a caller fails before calling).
func callPaths(sc *scenarios.Scenario, from, to string) int {
	memo := map[string]int{}
	var walk func(s string, depth int) int
	walk = func(s string, depth int) int {
		if s == to {
			return 1
		}
		if n, ok := memo[s]; ok {
			return n
		}
		svc := sc.Service(s)
		if svc == nil || depth > len(sc.Services) { // a cycle; Validate refuses those
			return 0
		}
		n := 0
		for _, d := range svc.DependsOn {
			n += walk(d, depth+1)
		}
		memo[s] = n
		return n
	}
	return walk(from, 0)
}

// fixtureSetting reads a number the httpsvc fixture takes as --flag or env
// NAME (the flag wins, as in the fixture).
func fixtureSetting(svc *scenarios.Service, flag, env string) (float64, bool) {
	s, ok := fixtureValue(svc, flag, env)
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseFloat(s, 64)
	return x, err == nil
}

func fixtureValue(svc *scenarios.Service, flag, env string) (string, bool) {
	if svc == nil || svc.Fixture != "httpsvc" {
		return "", false
	}
	for i, a := range svc.Args {
		if v, ok := strings.CutPrefix(a, "--"+flag+"="); ok {
			return v, true
		}
		if a == "--"+flag && i+1 < len(svc.Args) {
			return svc.Args[i+1], true
		}
	}
	v, ok := svc.Env[env]
	return v, ok
}

// fixtureLogSD is sigma of ln(latency) implied by the fixture's log-normal
// latency settings: ln(p99/median)/z_0.99.
func fixtureLogSD(svc *scenarios.Service) (float64, bool) {
	med, ok1 := fixtureValue(svc, "latency-median", "LATENCY_MEDIAN")
	p99, ok2 := fixtureValue(svc, "latency-p99", "LATENCY_P99")
	if !ok1 || !ok2 {
		return 0, false
	}
	m, err1 := time.ParseDuration(med)
	p, err2 := time.ParseDuration(p99)
	if err1 != nil || err2 != nil || m <= 0 || p <= m {
		return 0, false
	}
	return math.Log(float64(p)/float64(m)) / z99, true
}

// z99 is the standard normal's 0.99 quantile.
const z99 = 2.3263478740408408

// baselineStats are what a previous run measured at the service's router.
type baselineStats struct {
	requests, errors int
	errorRate        float64
	logSD            float64
	logSDPoints      int
	rate             float64
}

// measureBaseline reads the old version's error rate and latency spread,
// and the service's rate, from a result's per-second router series.
func measureBaseline(res *reports.Result, service, version string) (*baselineStats, error) {
	var m baselineStats
	perSecond := map[int]int{}
	var sds []float64
	found := false
	for _, s := range res.Series {
		if s.Source != "hop" || s.Service != service {
			continue
		}
		for _, p := range s.Points {
			perSecond[p.T] += p.Requests
		}
		if version != "" && s.Version != version {
			continue
		}
		found = true
		for _, p := range s.Points {
			m.requests += p.Requests
			m.errors += p.Errors
			// Per-second p99 of a few dozen requests is near their
			// maximum; ask for enough of them to mean something.
			if p.Requests >= 50 && p.P50MS > 0 && p.P99MS > p.P50MS {
				sds = append(sds, math.Log(p.P99MS/p.P50MS)/z99)
			}
		}
	}
	if !found || m.requests == 0 {
		return nil, fmt.Errorf("the baseline result (scenario %s) has no router series for %s version %s: pass a result.json of a run of this service", res.Scenario, service, version)
	}
	m.errorRate = float64(m.errors) / float64(m.requests)
	if len(sds) > 0 {
		slices.Sort(sds)
		m.logSD, m.logSDPoints = sds[len(sds)/2], len(sds)
	}
	var rates []float64
	for _, n := range perSecond {
		rates = append(rates, float64(n))
	}
	if len(rates) > 0 {
		// The median ignores the partial first and last seconds.
		slices.Sort(rates)
		m.rate = rates[len(rates)/2]
	}
	return &m, nil
}
