package model

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/firedrill/firedrill/scenarios"
	"github.com/firedrill/firedrill/simulator"
)

func parse(t *testing.T, yaml string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse("test.yaml", []byte(yaml))
	require.NoError(t, err)
	return sc
}

// The inversion sampler against the binomial pmf (closed form, gonum's):
// Pearson's chi-square over the cells with an expected count of at least
// 5 stays under the 0.999 quantile of its chi-square distribution.
func TestBinomInvMatchesPMF(t *testing.T) {
	for _, c := range []struct {
		n int
		p float64
	}{{100, 0.05}, {100, 0.5}, {95, 0.01}, {60, 0.9}} {
		rng := rand.New(rand.NewPCG(1, uint64(c.n)))
		const draws = 200000
		counts := make([]int, c.n+1)
		for range draws {
			counts[binomInv(rng, c.n, c.p)]++
		}
		b := distuv.Binomial{N: float64(c.n), P: c.p}
		chi, cells := 0.0, 0
		for k, o := range counts {
			e := draws * b.Prob(float64(k))
			if e < 5 {
				continue
			}
			chi += (float64(o) - e) * (float64(o) - e) / e
			cells++
		}
		crit := distuv.ChiSquared{K: float64(cells - 1)}.Quantile(0.999)
		assert.Less(t, chi, crit, "n=%d p=%g: chi-square %.1f over %d cells", c.n, c.p, chi, cells)
	}
}

const oneService = `
name: t
services:
  web:
    fixture: httpsvc
    replicas: 2
    env: {ERROR_RATE: "0.02", LATENCY_MEDIAN: 5ms, LATENCY_P99: 20ms}
traffic: {entry: web, rate: 100, duration: 60s}
`

// A world's counts are the binomial draws they stand for: with 30% of 100
// requests a second on the new version for 10 s, its requests over 2,000
// worlds have mean 300 and variance 1000·0.3·0.7 = 210 (one binomial of
// 1,000 trials: the sum of ten seconds' independent draws); its errors given
// requests have mean 0.02·requests.
func TestWorldCountsAreBinomial(t *testing.T) {
	sc := parse(t, oneService+"rollout: {service: web, to: v2, start_at: 0s, steps: [{weight: 30, pause: 10s}]}\n")
	top, err := Build(sc)
	require.NoError(t, err)
	const worlds = 2000
	var sum, sum2, errs, reqs float64
	for i := range worlds {
		w := NewWorld(top, TrialSeed(3, i), t0)
		require.NoError(t, w.SetWeights(context.Background(), "web", map[string]int{"v1": 70, "v2": 30}))
		w.push(func(s *state) { s.n[1] = 1 })
		s := w.Stats(simulator.Query{Service: "web", Version: "v2", From: t0, To: t0.Add(10 * time.Second)}, false)
		all := w.Stats(simulator.Query{Service: "web", From: t0, To: t0.Add(10 * time.Second)}, false)
		require.Equal(t, 1000, all.Requests, "open-loop: exactly rate x seconds")
		x := float64(s.Requests)
		sum, sum2 = sum+x, sum2+x*x
		errs, reqs = errs+float64(s.Errors), reqs+x
	}
	mean := sum / worlds
	variance := sum2/worlds - mean*mean
	assert.InDelta(t, 300, mean, 4*math.Sqrt(210.0/worlds))
	// The sample variance's standard error is about var·sqrt(2/(N-1)).
	assert.InDelta(t, 210, variance, 4*210*math.Sqrt(2.0/(worlds-1)))
	p := errs / reqs
	assert.InDelta(t, 0.02, p, 4*math.Sqrt(0.02*0.98/reqs))
}

// A known detection probability: a threshold judge that looks every 5 s
// at the last 5 s (disjoint windows) of all the traffic (one step at weight
// 100 for 10 s: two looks) rolls back when more than 3% of a window's 500
// requests fail. With 2% errors, one look fails with P(X > 15), X ~
// Binomial(500, 0.02), and the step rolls back with 1 - (1 - P)^2: the simulated ratio must sit within four
// standard errors of it.
func TestThresholdDetectionMatchesClosedForm(t *testing.T) {
	sc := parse(t, oneService+`rollout:
  service: web
  to: v2
  start_at: 0s
  steps: [{weight: 100, pause: 10s}]
  analysis: {judge: threshold, max_error_rate: 0.03, interval: 5s, window: 5s, min_requests: 1}
`)
	s, err := Simulate(context.Background(), sc, Options{Trials: 4000, Seed: 9})
	require.NoError(t, err)
	look := 1 - distuv.Binomial{N: 500, P: 0.02}.CDF(15)
	want := 1 - (1-look)*(1-look)
	got := s.Ratios[RolledBack].Ratio
	t.Logf("rolled back %.4f, closed form %.4f (per look %.4f)", got, want, look)
	assert.InDelta(t, want, got, 4*math.Sqrt(want*(1-want)/4000))
	assert.Equal(t, s.Outcomes.RolledBack, s.Triggers[simulator.TriggerAnalysis])
}

// The p99 draw is the nearest-rank p99 of n log-normal latencies: P(p99 <=
// x) = P(at least k = ceil(0.99 n) of n are <= x) = 1 - BinomCDF(k-1; n, F(x)).
func TestP99DrawIsTheOrderStatistic(t *testing.T) {
	const n, median, sigma = 300, 5e6, 0.6
	src := rand.NewPCG(4, 4)
	k := int(math.Ceil(0.99 * n))
	rs := []regime{{median: median, sigma: sigma, n: n}}
	x := time.Duration(median * math.Exp(sigma*2.2)) // near the p99's centre
	const draws = 20000
	below := 0
	for range draws {
		u := distuv.Beta{Alpha: float64(k), Beta: float64(n - k + 1), Src: src}.Rand()
		if mixtureQuantile(rs, n, u) <= x {
			below++
		}
	}
	fx := distuv.LogNormal{Mu: math.Log(median), Sigma: sigma}.CDF(float64(x))
	want := 1 - distuv.Binomial{N: n, P: fx}.CDF(float64(k-1))
	got := float64(below) / draws
	assert.InDelta(t, want, got, 4*math.Sqrt(want*(1-want)/draws))
	// Two regimes: the bisection solves the mixture's CDF.
	two := []regime{{median: 5e6, n: 100}, {shift: 100e6, median: 5e6, n: 100}}
	assert.Equal(t, 105*time.Millisecond, mixtureQuantile(two, 200, 0.99).Round(time.Millisecond))
}

// A/A truth: identical versions roll back at most alpha of the time, with
// the live run's controller and sequential judge looking every second
// (alpha 0.05 plus three standard errors of 1,000 trials).
func TestAAStaysUnderAlpha(t *testing.T) {
	sc := loadExample(t, "simulate-aa.yaml")
	s, err := Simulate(context.Background(), sc, Options{Trials: 1000, Seed: 14})
	require.NoError(t, err)
	alpha := sc.Rollout.Analysis.Alpha
	t.Logf("A/A: %d of %d rolled back", s.Outcomes.RolledBack, s.Trials)
	assert.LessOrEqual(t, s.Ratios[RolledBack].Ratio, alpha+3*math.Sqrt(alpha*(1-alpha)/1000))
	assert.Zero(t, s.Outcomes.Aborted)
}

// Same file and seed, same numbers, whatever the workers.
func TestSameSeedSameNumbersAnyWorkers(t *testing.T) {
	sc := loadExample(t, "simulate-regression.yaml")
	a, err := Simulate(context.Background(), sc, Options{Trials: 300, Seed: 5, Workers: 1})
	require.NoError(t, err)
	b, err := Simulate(context.Background(), sc, Options{Trials: 300, Seed: 5, Workers: 3})
	require.NoError(t, err)
	a.WallS, b.WallS, a.Workers, b.Workers = 0, 0, 0, 0
	assert.Equal(t, a, b)
	assert.Positive(t, a.Outcomes.RolledBack, "the regression is caught sometimes")
	assert.Positive(t, a.Outcomes.Promoted, "and missed sometimes")
	c, err := Simulate(context.Background(), sc, Options{Trials: 300, Seed: 6, Workers: 2})
	require.NoError(t, err)
	assert.NotEqual(t, a.Histograms.BadRequests, c.Histograms.BadRequests, "another seed, other trials")
}

// A killed instance of the new version: health checks notice it after
// unhealthy_after x interval (2 x 1 s), and the health trigger rolls back
// then - in every trial, at the same moment.
func TestKillTriggersHealthRollback(t *testing.T) {
	sc := parse(t, oneService+`rollout:
  service: web
  to: v2
  start_at: 2s
  steps: [{weight: 20, pause: 20s}]
  analysis: {judge: threshold, max_error_rate: 0.5, min_requests: 1000000} # only health can fire
faults:
  - {kind: kill, service: web, version: v2, step: 1, at: 3s, restart_after: never, duration: 1s}
`)
	s, err := Simulate(context.Background(), sc, Options{Trials: 50, Seed: 2})
	require.NoError(t, err)
	assert.Equal(t, 50, s.Outcomes.RolledBack)
	assert.Equal(t, 50, s.Triggers[simulator.TriggerHealth])
	assert.Equal(t, 5.0, s.DetectS.P50, "3 s into the step, plus 2 s of failed checks")
	assert.Equal(t, 5.0, s.DetectS.Max)
}

// An edge down on the rolled-out service's dependency fails its requests
// (every version) for the fault's duration; the entry sees it too.
func TestDownEdgeFailsRequests(t *testing.T) {
	sc := parse(t, `
name: t
services:
  web: {fixture: httpsvc, depends_on: [db]}
  db: {fixture: httpsvc}
traffic: {entry: web, rate: 50, duration: 20s}
rollout: {service: web, to: v2, start_at: 15s, steps: [{weight: 10, pause: 2s}]}
faults:
  - {kind: down, edge: web -> db, at: 2s, duration: 4s}
`)
	top, err := Build(sc)
	require.NoError(t, err)
	w := NewWorld(top, 1, t0)
	in := w.Stats(simulator.Query{Service: "web", From: t0.Add(2 * time.Second), To: t0.Add(6 * time.Second)}, false)
	out := w.Stats(simulator.Query{Service: "web", From: t0.Add(6 * time.Second), To: t0.Add(10 * time.Second)}, false)
	assert.Equal(t, 200, in.Errors)
	assert.Equal(t, 0, out.Errors)
}

// The strategy examples end as their live end-to-end tests require: every
// strategy, trigger and capability runs in the model.
func TestExamplesOutcomes(t *testing.T) {
	for _, c := range []struct {
		file    string
		outcome string
	}{
		{"quickstart.yaml", RolledBack},
		{"canary-flag.yaml", Promoted}, // mitigated: the flag goes off
		{"canary-manual.yaml", RolledBack},
		{"bluegreen.yaml", RolledBack},
		{"bluegreen-healthy.yaml", Promoted},
		{"rolling.yaml", RolledBack},
		{"rolling-healthy.yaml", Promoted},
		{"phased.yaml", RolledBack},
	} {
		s, err := Simulate(context.Background(), loadExample(t, c.file), Options{Trials: 20, Seed: 1})
		require.NoError(t, err, c.file)
		assert.Equal(t, 20, s.Ratios[c.outcome].X, "%s: %+v", c.file, s.Outcomes)
	}
}

// Traffic that ends before the rollout does aborts the trial (the live
// controller stops with the traffic); the new version's requests until
// then are its blast radius.
func TestTrafficEndAborts(t *testing.T) {
	sc := parse(t, `
name: t
services:
  web: {fixture: httpsvc, env: {ERROR_RATE: "0.1"}}
traffic: {entry: web, rate: 100, duration: 40s}
rollout: {service: web, to: v2, start_at: 1s, steps: [{weight: 50, pause: 30s}], analysis: {judge: threshold}}
`)
	top, err := Build(sc)
	require.NoError(t, err)
	top.Duration = 10 * time.Second // validation refuses such a file; a slow start-up does it live
	tr, err := RunTrial(context.Background(), top, 1)
	require.NoError(t, err)
	assert.Equal(t, Aborted, tr.Outcome)
	// v2 served about half of 8 s at 100 rps (ready at 2 s), 10% of it failing.
	assert.InDelta(t, 400, tr.NewRequests, 4*math.Sqrt(800*0.25))
	assert.InDelta(t, 0.1*float64(tr.NewRequests), tr.BadRequests, 4*math.Sqrt(float64(tr.NewRequests)*0.09))
	assert.Equal(t, 1000, tr.EntryRequests)
}
