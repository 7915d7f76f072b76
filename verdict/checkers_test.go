package verdict

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/analysis"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/reports"
	"github.com/firedrill/firedrill/scenarios"
)

// Every checker of the table is judged here on Evidence built by hand:
// synthetic samples, rollout records, fault windows and databases, each
// expected figure worked out from how the data was planted.

// t0 is time zero of every synthetic run (traffic start).
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func atp(d time.Duration) *time.Time {
	t := at(d)
	return &t
}

func dur(d time.Duration) scenarios.Duration { return scenarios.Duration(d) }

// stream is who observed a synthetic series of requests.
type stream struct {
	src              record.Source
	service, version string
	caller           string // service@version of the caller, for hops
}

var (
	clients = stream{src: record.Client, service: "gateway"}
	gateway = stream{src: record.Hop, service: "gateway", version: "v1"}
)

func hops(service, version string) stream {
	return stream{src: record.Hop, service: service, version: version}
}

// shape answers one planted request: its status and latency.
type shape func(i int, at time.Duration) (status int, latency time.Duration)

// healthy answers every request 200 in 5ms.
func healthy(int, time.Duration) (int, time.Duration) { return 200, 5 * time.Millisecond }

// failing answers 500 (in 5ms) in [from, to), 200 elsewhere.
func failing(from, to time.Duration) shape {
	return func(_ int, at time.Duration) (int, time.Duration) {
		if at >= from && at < to {
			return 500, 5 * time.Millisecond
		}
		return 200, 5 * time.Millisecond
	}
}

// plant records one request every step in [from, to), as s says, and
// returns how many it planted.
func (st stream) plant(rec *record.Recorder, from, to, step time.Duration, s shape) int {
	n := 0
	for a := from; a < to; a += step {
		status, lat := s(n, a)
		rec.Observe(record.Observation{Source: st.src, Service: st.service, Version: st.version, Caller: st.caller,
			Intended: at(a), Latency: lat, Status: status})
		n++
	}
	return n
}

// newEvidence is a run of traffic from t0 to t0+end with no sample yet.
func newEvidence(sc *scenarios.Scenario, end time.Duration) *Evidence {
	if sc == nil {
		sc = &scenarios.Scenario{Name: "unit"}
	}
	return &Evidence{Scenario: sc, Seed: 7, Samples: record.NewRecorder(t0), T0: t0, TrafficEnd: at(end),
		Rollout: reports.Rollout{Outcome: reports.None}}
}

// injected is a fault that held over [from, to) from t0 (to 0: never reverted).
func injected(spec *scenarios.Fault, from, to time.Duration) Fault {
	f := Fault{Spec: spec, InjectedAt: at(from)}
	if to > 0 {
		f.RevertedAt = at(to)
	}
	return f
}

// ledger is a write every step in [from, to), acknowledged 10ms after its
// instant by the server write names, or failed after a 1s timeout when
// write gives "".
func ledger(from, to, step time.Duration, write func(at time.Duration) string) []analysis.Write {
	var ws []analysis.Write
	for a := from; a < to; a += step {
		w := analysis.Write{ID: int64(len(ws)), At: a, Done: a + 10*time.Millisecond, Status: analysis.WriteAcked, Instance: write(a)}
		if w.Instance == "" {
			w.Done, w.Status = a+time.Second, analysis.WriteFailed
		}
		ws = append(ws, w)
	}
	return ws
}

// onPrimary has server name acknowledge every write.
func onPrimary(name string) func(time.Duration) string {
	return func(time.Duration) string { return name }
}

// foundAll is a final read that found every write once, but the ids in skip.
func foundAll(ws []analysis.Write, skip ...int64) map[int64]int {
	found := map[int64]int{}
	for _, w := range ws {
		if !slices.Contains(skip, w.ID) {
			found[w.ID] = 1
		}
	}
	return found
}

// num is the numeric form a checker gives of its figures.
type num struct {
	value float64
	op    string
	limit float64
	unit  string
}

// checkCase is one expectation judged on one Evidence through the table.
type checkCase struct {
	name     string
	ev       *Evidence
	e        *scenarios.Expectation
	passed   bool
	observed string // "" : not checked
	// num is the figures the checker must set; nil: it sets none (unless
	// skipNum, when more checks does its own).
	num     *num
	skipNum bool
	detail  []string // substrings of Detail
	more    func(t *testing.T, x reports.Expectation, out Findings)
}

func runCases(t *testing.T, cases []checkCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.e.Name == "" {
				c.e.Name = c.name
			}
			var out Findings
			x := Check(c.ev, c.e, &out)
			assert.Equal(t, c.e.Name, x.Name)
			assert.Equal(t, c.e.Kind, x.Kind)
			assert.Equal(t, c.passed, x.Passed, "observed %q, detail: %s", x.Observed, x.Detail)
			if c.observed != "" {
				assert.Equal(t, c.observed, x.Observed)
			}
			switch {
			case c.num != nil:
				require.NotNil(t, x.Value, "value")
				require.NotNil(t, x.Limit, "limit")
				assert.InDelta(t, c.num.value, *x.Value, 1e-9, "value")
				assert.InDelta(t, c.num.limit, *x.Limit, 1e-9, "limit")
				assert.Equal(t, c.num.op, x.Op)
				assert.Equal(t, c.num.unit, x.Unit)
			case !c.skipNum:
				assert.Nil(t, x.Value, "no figures: %v", x.Value)
				assert.Nil(t, x.Limit)
			}
			for _, d := range c.detail {
				assert.Contains(t, x.Detail, d)
			}
			if c.more != nil {
				c.more(t, x, out)
			}
		})
	}
}

// The table's kinds all have cases in this file; a kind added to the
// table without tests fails here.
func TestEveryKindIsCovered(t *testing.T) {
	covered := []string{scenarios.ExpectRolloutOutcome, scenarios.ExpectRollbackWithin, scenarios.ExpectAvailability,
		scenarios.ExpectP99Latency, scenarios.ExpectCanaryPower, scenarios.ExpectSLOBurn, scenarios.ExpectRTO,
		scenarios.ExpectBreaker, scenarios.ExpectRetries, scenarios.ExpectVersionSkew, scenarios.ExpectRPO,
		scenarios.ExpectNoSplitBrain, scenarios.ExpectReplicationLag, scenarios.ExpectBackupRestore, scenarios.ExpectMigration,
		scenarios.ExpectAlertFires, scenarios.ExpectAlertSilent, // alert_fires_test.go
		scenarios.ExpectJourneySuccess} // journey_success_test.go
	var table []string
	for kind := range checkers {
		table = append(table, kind)
	}
	assert.ElementsMatch(t, covered, table, "the kinds tested here are the table's")
	assert.ElementsMatch(t, scenarios.ExpectationKinds, table, "every kind a scenario may use has a checker")
}

func TestRolloutOutcome(t *testing.T) {
	promoted := newEvidence(nil, 30*time.Second)
	promoted.Rollout = reports.Rollout{Outcome: reports.Promoted}
	rolledBack := newEvidence(nil, 30*time.Second)
	rolledBack.Rollout = reports.Rollout{Outcome: reports.RolledBack, Trigger: "analysis"}
	expect := func(o string) *scenarios.Expectation {
		return &scenarios.Expectation{Kind: scenarios.ExpectRolloutOutcome, Outcome: o}
	}
	runCases(t, []checkCase{
		{name: "promoted as expected", ev: promoted, e: expect(reports.Promoted), passed: true, observed: "promoted",
			more: func(t *testing.T, x reports.Expectation, _ Findings) {
				assert.Equal(t, "promoted", x.Threshold)
				assert.Empty(t, x.Detail, "no trigger to tell")
			}},
		{name: "rolled back where promotion was expected", ev: rolledBack, e: expect(reports.Promoted), observed: "rolled_back",
			detail: []string{"trigger: analysis"}},
		{name: "rolled back as expected", ev: rolledBack, e: expect(reports.RolledBack), passed: true, observed: "rolled_back"},
		{name: "no rollout where one was expected", ev: newEvidence(nil, time.Second), e: expect(reports.Promoted), observed: "none"},
	})
}

func TestRollbackWithin(t *testing.T) {
	// The regression reached traffic at +10s, was detected at +12s and the
	// rollback completed at +14s: 4s.
	ev := newEvidence(nil, 30*time.Second)
	ev.Rollout = reports.Rollout{Outcome: reports.RolledBack, RegressionAt: atp(10 * time.Second), DetectedAt: atp(12 * time.Second),
		RollbackStartedAt: atp(12 * time.Second), CompletedAt: atp(14 * time.Second)}
	unexposed := newEvidence(nil, 30*time.Second)
	unexposed.Rollout = reports.Rollout{Outcome: reports.RolledBack, Trigger: "deploy_failed", CompletedAt: atp(6 * time.Second)}
	promoted := newEvidence(nil, 30*time.Second)
	promoted.Rollout = reports.Rollout{Outcome: reports.Promoted, RegressionAt: atp(10 * time.Second), CompletedAt: atp(20 * time.Second)}
	within := func(d time.Duration) *scenarios.Expectation {
		return &scenarios.Expectation{Kind: scenarios.ExpectRollbackWithin, Within: dur(d)}
	}
	runCases(t, []checkCase{
		{name: "4s within 5s", ev: ev, e: within(5 * time.Second), passed: true, observed: "4s", num: &num{4, "<=", 5, "s"},
			detail: []string{"regression reached traffic at +10.0s, detected after 2.0s, rollback completed after 4.0s"}},
		{name: "4s not within 3s", ev: ev, e: within(3 * time.Second), observed: "4s", num: &num{4, "<=", 3, "s"}},
		{name: "promoted: no rollback", ev: promoted, e: within(time.Minute), observed: "no rollback (outcome promoted)"},
		{name: "rolled back before any request reached it", ev: unexposed, e: within(time.Second), passed: true, observed: "0s",
			detail: []string{"never received traffic"}},
	})
}

func TestAvailability(t *testing.T) {
	// 100 rps for 10s: 1000 client requests, the first 10 failed (in the
	// first 100ms): 99% over the run, 100% from +1s on. The gateway's
	// router failing everything is not what clients saw.
	ev := newEvidence(nil, 10*time.Second)
	require.Equal(t, 1000, clients.plant(ev.Samples, 0, 10*time.Second, 10*time.Millisecond, failing(0, 100*time.Millisecond)))
	gateway.plant(ev.Samples, 0, 10*time.Second, 10*time.Millisecond, failing(0, time.Hour))
	avail := func(min float64, from time.Duration) *scenarios.Expectation {
		return &scenarios.Expectation{Kind: scenarios.ExpectAvailability, Min: min, From: dur(from)}
	}
	runCases(t, []checkCase{
		{name: "99% over the run, 98.5% needed", ev: ev, e: avail(0.985, 0), passed: true, observed: "99.000%",
			num: &num{99, ">=", 98.5, "%"}, detail: []string{"10 of 1000 requests failed over whole run"}},
		{name: "99% over the run, 99.5% needed", ev: ev, e: avail(0.995, 0), observed: "99.000%", num: &num{99, ">=", 99.5, "%"}},
		{name: "from +1s every request succeeded", ev: ev, e: avail(0.999, time.Second), passed: true, observed: "100.000%",
			num: &num{100, ">=", 99.9, "%"}, detail: []string{"0 of 900 requests failed over [1s, end)"}},
		{name: "a window without requests", ev: ev, e: avail(0.5, 20*time.Second), observed: "no data",
			detail: []string{"no client requests in [20s, end)"}},
	})
}

func TestP99Latency(t *testing.T) {
	// 1000 requests whose latencies are 1ms..1000ms, each once, in a
	// shuffled order (i*7 mod 1000 is a permutation): the nearest-rank p99
	// is the 990th smallest, 990ms; the p50 the 500th, 500ms.
	ev := newEvidence(nil, 10*time.Second)
	clients.plant(ev.Samples, 0, 10*time.Second, 10*time.Millisecond, func(i int, _ time.Duration) (int, time.Duration) {
		return 200, time.Duration(i*7%1000+1) * time.Millisecond
	})
	p99 := func(max, from time.Duration) *scenarios.Expectation {
		return &scenarios.Expectation{Kind: scenarios.ExpectP99Latency, Max: dur(max), From: dur(from)}
	}
	runCases(t, []checkCase{
		{name: "990ms under 1s", ev: ev, e: p99(time.Second, 0), passed: true, observed: "990ms", num: &num{990, "<=", 1000, "ms"},
			detail: []string{"p50 500ms, p99 990ms, max 1s over 1000 requests (whole run)"}},
		{name: "990ms over 900ms", ev: ev, e: p99(900*time.Millisecond, 0), observed: "990ms", num: &num{990, "<=", 900, "ms"}},
		{name: "a window without requests", ev: ev, e: p99(time.Second, 10*time.Second), observed: "no data"},
	})
}

func TestCanaryPower(t *testing.T) {
	// One canary step of 50% for 10s at 100 rps: 500 requests per arm. The
	// old version's error rate, measured in this run, is 5% (10 of 200).
	canary := func(strategy string) *scenarios.Scenario {
		sc := &scenarios.Scenario{Name: "power", Services: []*scenarios.Service{{Name: "checkout", Fixture: "httpsvc"}},
			Traffic: scenarios.Traffic{Entry: "checkout", Rate: 100, Duration: dur(30 * time.Second)},
			Rollout: &scenarios.Rollout{Service: "checkout", To: "v2", Strategy: strategy}}
		if strategy == scenarios.StrategyCanary {
			sc.Rollout.Steps = []*scenarios.Step{{Weight: 50, Pause: dur(10 * time.Second)}}
		}
		sc.ApplyDefaults()
		return sc
	}
	ev := newEvidence(canary(scenarios.StrategyCanary), 30*time.Second)
	hops("checkout", "v1").plant(ev.Samples, 0, 2*time.Second, 10*time.Millisecond, func(i int, _ time.Duration) (int, time.Duration) {
		if i%20 == 0 {
			return 500, 5 * time.Millisecond
		}
		return 200, time.Duration(3+i%10) * time.Millisecond
	})
	blueGreen := newEvidence(canary(scenarios.StrategyBlueGreen), 30*time.Second)
	power := func(increase float64) *scenarios.Expectation {
		return &scenarios.Expectation{Kind: scenarios.ExpectCanaryPower, Min: 0.8, Regression: &scenarios.Regression{ErrorRateIncrease: increase}}
	}
	runCases(t, []checkCase{
		// 5% -> 35% against a 1-point margin with 500 requests per arm is
		// some 12 standard errors: certain detection.
		{name: "a 30-point regression is caught", ev: ev, e: power(0.3), passed: true, skipNum: true,
			detail: []string{"this run (200 requests to checkout v1)", "step 1 (50% for 10s): 500 canary vs 500 baseline requests"},
			more: func(t *testing.T, x reports.Expectation, _ Findings) {
				require.NotNil(t, x.Value)
				assert.Greater(t, *x.Value, 0.999)
				assert.Equal(t, 0.8, *x.Limit)
				assert.Equal(t, ">=", x.Op)
				assert.Equal(t, ">= 0.80", x.Threshold)
			}},
		// Half a point is inside the judge's 1-point margin: detecting it
		// is a false alarm, at most alpha (0.05) likely.
		{name: "a regression inside the margin is not", ev: ev, e: power(0.005), skipNum: true,
			more: func(t *testing.T, x reports.Expectation, _ Findings) {
				require.NotNil(t, x.Value)
				assert.Less(t, *x.Value, 0.05)
				assert.Equal(t, 0.8, *x.Limit)
			}},
		{name: "blue-green has no canary plan", ev: blueGreen, e: power(0.3), observed: "not computed", detail: []string{"no canary steps"}},
	})
}

func TestSLOBurn(t *testing.T) {
	// 100 rps for 30s. Clients were always served; checkout's router
	// failed everything from +10s on: its burn at 99% reaches 1/(1-0.99) =
	// 100x over both windows, and first passes 14.4x at +11.8s, when the
	// long window (clipped at the start) holds 180 bad of 1180 (15.3x; at
	// +11.6s 160 of 1160 was 13.8x).
	ev := newEvidence(nil, 30*time.Second)
	clients.plant(ev.Samples, 0, 30*time.Second, 10*time.Millisecond, healthy)
	hops("checkout", "v1").plant(ev.Samples, 0, 30*time.Second, 10*time.Millisecond, failing(10*time.Second, time.Hour))
	burn := func(service string) *scenarios.Expectation {
		return &scenarios.Expectation{Kind: scenarios.ExpectSLOBurn, Objective: 0.99, MaxBurn: 14.4, Window: dur(time.Second), Service: service}
	}
	runCases(t, []checkCase{
		{name: "clients never burnt", ev: ev, e: burn(""), passed: true, observed: "0.00x", num: &num{0, "<", 14.4, "x"},
			detail: []string{"the alert never fired", "0 bad of 3000"}},
		{name: "checkout's router burnt 100x", ev: ev, e: burn("checkout"), observed: "100.00x", num: &num{100, "<", 14.4, "x"},
			detail: []string{"the alert would have fired at +11.8s", "checkout's router"}},
		{name: "a router that saw nothing", ev: ev, e: burn("payments"), observed: "no data", detail: []string{"no requests seen by payments's router"}},
	})
}

// outages is a run with faults to recover from.
// Clients at 100 rps for 30s, all failing while outage-a held [10s,
// 13s) and outage-b [20s, 22s), and from the final fault at +27s to the
// end. Bins of 1s from each instant: outage-a's first good bin is
// [13s, 14s) and the next 5s hold: RTO 3s; outage-b's 2s. The rollback
// started at +20s, with outage-b.
func outages() *Evidence {
	ev := newEvidence(nil, 30*time.Second)
	clients.plant(ev.Samples, 0, 30*time.Second, 10*time.Millisecond, func(_ int, a time.Duration) (int, time.Duration) {
		if (a >= 10*time.Second && a < 13*time.Second) || (a >= 20*time.Second && a < 22*time.Second) || a >= 27*time.Second {
			return 503, time.Millisecond
		}
		return 200, 5 * time.Millisecond
	})
	ev.Faults = []Fault{
		injected(&scenarios.Fault{Name: "outage-a", Kind: scenarios.FaultDown}, 10*time.Second, 13*time.Second),
		injected(&scenarios.Fault{Name: "outage-b", Kind: scenarios.FaultDown}, 20*time.Second, 22*time.Second),
		injected(&scenarios.Fault{Name: "final", Kind: scenarios.FaultDown}, 27*time.Second, 0),
		{Spec: &scenarios.Fault{Name: "later", Kind: scenarios.FaultDown}, Skipped: "the run ended before it"},
	}
	ev.Rollout = reports.Rollout{Outcome: reports.RolledBack, RollbackStartedAt: atp(20 * time.Second)}
	return ev
}

func TestRTO(t *testing.T) {
	ev := outages()
	rto := func(fault string, max time.Duration) *scenarios.Expectation {
		return &scenarios.Expectation{Kind: scenarios.ExpectRTO, Fault: fault, Max: dur(max), Objective: 0.99, Stability: dur(5 * time.Second)}
	}
	recovery := func(fault string, rto float64, passed bool) func(*testing.T, reports.Expectation, Findings) {
		return func(t *testing.T, x reports.Expectation, out Findings) {
			require.Len(t, out.Recovery, 1)
			r := out.Recovery[0]
			assert.Equal(t, x.Name, r.Name)
			assert.Equal(t, fault, r.Fault)
			require.NotNil(t, r.RTOSeconds)
			assert.InDelta(t, rto, *r.RTOSeconds, 1e-9)
			require.NotNil(t, r.Passed)
			assert.Equal(t, passed, *r.Passed)
		}
	}
	runCases(t, []checkCase{
		{name: "3s within 5s", ev: ev, e: rto("outage-a", 5*time.Second), passed: true, observed: "3s", num: &num{3, "<=", 5, "s"},
			detail: []string{"outage-a at +10s: recovered at +13s, RTO 3s"}, more: recovery("outage-a", 3, true)},
		{name: "3s not within 2s", ev: ev, e: rto("outage-a", 2*time.Second), observed: "3s", num: &num{3, "<=", 2, "s"},
			more: recovery("outage-a", 3, false)},
		// Nearest rank over {2s, 3s}: p50 2s, p90 3s.
		{name: "a glob measures every outage", ev: ev, e: rto("outage-*", 5*time.Second), passed: true,
			observed: "max 3s (p50 2s, p90 3s over 2)", num: &num{3, "<=", 5, "s"},
			more: func(t *testing.T, _ reports.Expectation, out Findings) {
				require.Len(t, out.Recovery, 2)
				assert.Equal(t, "outage-a", out.Recovery[0].Fault)
				assert.Equal(t, "outage-b", out.Recovery[1].Fault)
			}},
		{name: "from the rollback", ev: ev, e: rto(scenarios.RollbackInstant, 5*time.Second), passed: true, observed: "2s",
			num: &num{2, "<=", 5, "s"}, more: recovery("rollback", 2, true)},
		{name: "never recovered", ev: ev, e: rto("final", time.Minute), observed: "not recovered (1 of 1)", detail: []string{"NOT recovered"},
			more: func(t *testing.T, _ reports.Expectation, out Findings) {
				require.Len(t, out.Recovery, 1)
				assert.Nil(t, out.Recovery[0].RTOSeconds)
				assert.False(t, *out.Recovery[0].Passed)
			}},
		{name: "a fault that was not injected", ev: ev, e: rto("later", time.Minute), observed: "nothing to measure",
			detail: []string{"fault later was not injected (the run ended before it)"}},
	})
}

func TestWriteRTO(t *testing.T) {
	// A write every 100ms for 30s; those meant in [10s, 12s) failed, the
	// rest were acknowledged: by pg-0 before, pg-1 after. main's primary
	// was killed at +10s: the first write of pg-1, meant at +12s, was
	// acknowledged 10ms later, 2.01s after the kill; writes were stable
	// from the [12s, 13s) bin on: RTO 2s. The switchover began its work
	// at +10s too (ActionAt) though it was stamped done at +11s: measured
	// from +11s the RTO would be 1s.
	writes := ledger(0, 30*time.Second, 100*time.Millisecond, func(a time.Duration) string {
		switch {
		case a < 10*time.Second:
			return "pg-0"
		case a < 12*time.Second:
			return ""
		}
		return "pg-1"
	})
	ev := newEvidence(nil, 30*time.Second)
	ev.Databases = map[string]*Database{"main": {Name: "main", Writes: writes}, "quiet": {Name: "quiet"}}
	switchover := injected(&scenarios.Fault{Name: "switchover", Kind: scenarios.ActionPromote, Database: "main"}, 11*time.Second, 0)
	switchover.ActionAt = at(10 * time.Second)
	ev.Faults = []Fault{
		injected(&scenarios.Fault{Name: "kill-primary", Kind: scenarios.FaultKillPrimary, Database: "main"}, 10*time.Second, 0),
		switchover,
		injected(&scenarios.Fault{Name: "kill-quiet", Kind: scenarios.FaultKillPrimary, Database: "quiet"}, 10*time.Second, 0),
	}
	rto := func(db, fault string, max time.Duration) *scenarios.Expectation {
		return &scenarios.Expectation{Kind: scenarios.ExpectRTO, Database: db, Fault: fault, Max: dur(max), Objective: 0.99, Stability: dur(5 * time.Second)}
	}
	runCases(t, []checkCase{
		{name: "2s within 3s", ev: ev, e: rto("main", "kill-*", 3*time.Second), passed: true, observed: "2s", num: &num{2, "<=", 3, "s"},
			detail: []string{"after kill-primary at +10.0s: first acknowledged write 2.01s after it"},
			more: func(t *testing.T, _ reports.Expectation, out Findings) {
				assert.Empty(t, out.Recovery, "the ledger's finding is Judge's, not the expectation's")
			}},
		{name: "2s not within 1s", ev: ev, e: rto("main", "kill-primary", time.Second), observed: "2s", num: &num{2, "<=", 1, "s"}},
		{name: "an action counts from when it began its work", ev: ev, e: rto("main", "switchover", 3*time.Second), passed: true,
			observed: "2s", num: &num{2, "<=", 3, "s"}},
		{name: "no matching fault on the database", ev: ev, e: rto("main", "pause-*", time.Minute), observed: "no fault",
			detail: []string{`no fault matching "pause-*" was injected on main`}},
		{name: "no ledger on the database", ev: ev, e: rto("quiet", "kill-quiet", time.Minute), observed: "no data",
			detail: []string{"there is none"}},
		{name: "a database that never ran", ev: ev, e: rto("other", "kill-*", time.Minute), observed: "no data",
			detail: []string{"database other never ran"}},
	})
}

// plantBreaker plants a caller (gateway, 50 rps for 30s) whose breaker on
// checkout works: while checkout is down over [from, to), the first 100ms
// of calls wait 1s and fail (5 calls, each reaching checkout), then every
// call fails fast (1ms) without reaching it, until checkout is back. With
// slow, the caller has no breaker: every call in [from, to) waits and fails.
func plantBreaker(rec *record.Recorder, from, to time.Duration, slow bool) {
	trip := from + 100*time.Millisecond
	if slow {
		trip = to
	}
	gateway.plant(rec, 0, 30*time.Second, 20*time.Millisecond, func(_ int, a time.Duration) (int, time.Duration) {
		switch {
		case a >= from && a < trip:
			return 502, time.Second
		case a >= trip && a < to:
			return 503, time.Millisecond
		}
		return 200, 5 * time.Millisecond
	})
	arrivals := hops("checkout", "v1")
	arrivals.caller = "gateway@v1"
	arrivals.plant(rec, 0, trip, 20*time.Millisecond, failing(from, to))
	arrivals.plant(rec, to, 30*time.Second, 20*time.Millisecond, healthy)
}

func TestBreaker(t *testing.T) {
	// checkout was down over [10s, 15s). With a breaker: 5 calls reached
	// it before the first fast-fail at +10.1s; none while open; the first
	// success at +15s with no fast-fail in the next second recloses it 0s
	// after checkout recovered. Without one: never opened; under the same
	// fault, trips: false counts 0 fast-fails there and (10.1s to 15s at
	// 50 rps) 245 with the breaker.
	down := &scenarios.Fault{Name: "checkout-down", Kind: scenarios.FaultDown, Edge: "gateway -> checkout"}
	tuned := newEvidence(nil, 30*time.Second)
	plantBreaker(tuned.Samples, 10*time.Second, 15*time.Second, false)
	tuned.Faults = []Fault{injected(down, 10*time.Second, 15*time.Second)}
	none := newEvidence(nil, 30*time.Second)
	plantBreaker(none.Samples, 10*time.Second, 15*time.Second, true)
	none.Faults = tuned.Faults

	yes, no := true, false
	expect := func(maxBefore int) *scenarios.Expectation {
		return &scenarios.Expectation{Kind: scenarios.ExpectBreaker, Service: "gateway", Dependency: "checkout", During: "checkout-down",
			Trips: &yes, FastFail: dur(25 * time.Millisecond), MaxCallsBeforeTrip: maxBefore, MaxFastFailLatency: dur(10 * time.Millisecond),
			MaxCallsWhileOpen: 5, ReclosesWithin: dur(2 * time.Second)}
	}
	closed := func(during string) *scenarios.Expectation {
		return &scenarios.Expectation{Kind: scenarios.ExpectBreaker, Service: "gateway", Dependency: "checkout", During: during,
			Trips: &no, FastFail: dur(25 * time.Millisecond)}
	}
	finding := func(opens int, state string, passed bool) func(*testing.T, reports.Expectation, Findings) {
		return func(t *testing.T, _ reports.Expectation, out Findings) {
			require.Len(t, out.Breakers, 1)
			b := out.Breakers[0]
			assert.Equal(t, "gateway", b.Service)
			assert.Equal(t, "checkout", b.Target)
			assert.Equal(t, opens, b.Opens)
			assert.Equal(t, state, b.FinalState)
			require.NotNil(t, b.Passed)
			assert.Equal(t, passed, *b.Passed)
		}
	}
	runCases(t, []checkCase{
		{name: "trips, fast-fails and recloses", ev: tuned, e: expect(10), passed: true,
			observed: "opened after 5 calls, fast-fail p99 1ms, 0 calls while open, reclosed 0s after recovery",
			detail:   []string{"window checkout-down [+10s, +15s): 250 calls by gateway's callers, 5 attempts reached checkout"},
			more: func(t *testing.T, x reports.Expectation, out Findings) {
				finding(1, "closed", true)(t, x, out)
				b := out.Breakers[0]
				require.NotNil(t, b.FirstOpenedAt)
				assert.Equal(t, at(10100*time.Millisecond), *b.FirstOpenedAt)
				require.NotNil(t, b.LastClosedAt)
				assert.Equal(t, at(15*time.Second), *b.LastClosedAt)
				assert.Equal(t, "breaker trips tripped=true, calls before trip <= 10, fast-fail p99 <= 10ms, arrivals while open <= 5, recloses <= 2s after recovery", x.Threshold)
			}},
		{name: "lets too many calls through first", ev: tuned, e: expect(3), detail: []string{"FAILED calls before trip: 5, want <= 3"},
			more: finding(1, "closed", false)},
		{name: "no breaker never opens", ev: none, e: expect(10), observed: "never opened",
			detail: []string{"250 of gateway's answers failed, none within fast_fail 25ms (median failure 1s)"},
			more:   finding(0, "closed", false)},
		{name: "stays closed under noise it tolerates", ev: none, e: closed("checkout-down"), passed: true, observed: "0 fast-fails",
			num: &num{0, "<=", 0, ""}, more: finding(0, "", true)},
		{name: "opens where it should not", ev: tuned, e: closed("checkout-down"), observed: "245 fast-fails", num: &num{245, "<=", 0, ""},
			detail: []string{"raise its failure threshold"}, more: finding(0, "", false)},
		{name: "a window that never was", ev: tuned, e: closed("ghost"), observed: "no data",
			detail: []string{"fault ghost did not run (the run ended before it)"}},
	})
}

func TestRetries(t *testing.T) {
	// gateway offers 50 rps for 30s. While payments is down over [10s,
	// 15s), each of its 250 requests reaches payments 3 times (at +0, +5
	// and +10ms): amplification 750/250 = 3, 15 arrivals in each of the 50
	// 100ms bins (peak-to-mean 1). At +15s a herd of 20 queued retries
	// lands in the first bin after recovery: 25 arrivals where the offered
	// rate brings 5 per bin, 5x.
	ev := newEvidence(nil, 30*time.Second)
	from, to := 10*time.Second, 15*time.Second
	gateway.plant(ev.Samples, 0, 30*time.Second, 20*time.Millisecond, failing(from, to))
	payments := hops("payments", "v1")
	payments.plant(ev.Samples, 0, 30*time.Second, 20*time.Millisecond, failing(from, to))
	for _, retry := range []time.Duration{5 * time.Millisecond, 10 * time.Millisecond} {
		payments.plant(ev.Samples, from+retry, to, 20*time.Millisecond, failing(from, to))
	}
	payments.plant(ev.Samples, to, to+20*time.Millisecond, time.Millisecond, healthy)
	ev.Faults = []Fault{injected(&scenarios.Fault{Name: "payments-down", Kind: scenarios.FaultDown, Edge: "gateway -> payments"}, from, to)}
	retries := func(perRequest int, amp, peak, herd float64) *scenarios.Expectation {
		return &scenarios.Expectation{Kind: scenarios.ExpectRetries, Service: "gateway", Dependency: "payments", During: "payments-down",
			MaxAttemptsPerRequest: perRequest, MaxAmplification: amp, MaxPeakToMean: peak, MaxHerdRatio: herd}
	}
	runCases(t, []checkCase{
		{name: "three attempts, spread", ev: ev, e: retries(3, 3.5, 1.5, 0), passed: true,
			observed: "attempts per request (mean) 3.00, retry amplification 3.00x, jitter (peak-to-mean) 1.00",
			detail:   []string{"250 requests to gateway, 750 attempts reached payments (150.0/s against 50.0/s offered"}},
		{name: "amplification over 2x", ev: ev, e: retries(0, 2, 0, 0), observed: "retry amplification 3.00x",
			detail: []string{"FAILED retry amplification: 3.00x, want <= 2.00x", "would stop the retry storm"}},
		{name: "more attempts per request than 2", ev: ev, e: retries(2, 0, 0, 0), observed: "attempts per request (mean) 3.00"},
		{name: "a thundering herd after recovery", ev: ev, e: retries(0, 0, 0, 2), observed: "no thundering herd 5.00x",
			detail: []string{"FAILED no thundering herd: 5.00x, want <= 2.00x"}},
		{name: "a caller nobody saw", ev: ev, e: &scenarios.Expectation{Kind: scenarios.ExpectRetries, Service: "nobody", Dependency: "payments",
			During: "payments-down", MaxAmplification: 2}, observed: "no data"},
	})
}

func TestVersionSkewThroughTheTable(t *testing.T) {
	// checkout v2 called payments v1 100 times; one failed: 99%.
	// (Counting itself is TestVersionSkewCounting's.)
	ro := &scenarios.Rollout{Service: "checkout", To: "v2"}
	ev := newEvidence(&scenarios.Scenario{Name: "skew", Rollout: ro}, 10*time.Second)
	newCaller := hops("payments", "v1")
	newCaller.caller = "checkout@v2"
	newCaller.plant(ev.Samples, 0, 10*time.Second, 100*time.Millisecond, func(i int, _ time.Duration) (int, time.Duration) {
		if i == 50 {
			return 500, time.Millisecond
		}
		return 200, time.Millisecond
	})
	skew := func(min float64) *scenarios.Expectation {
		return &scenarios.Expectation{Kind: scenarios.ExpectVersionSkew, Min: min, Direction: scenarios.SkewNewToOld}
	}
	runCases(t, []checkCase{
		{name: "99% of 98.5%", ev: ev, e: skew(0.985), passed: true, observed: "new_to_old 99.00%", num: &num{99, ">=", 98.5, "%"},
			detail: []string{"checkout@v2 -> old callees: 1 of 100 failed (checkout@v2 -> payments@v1 1 of 100)"}},
		{name: "99% of 99.5%", ev: ev, e: skew(0.995), observed: "new_to_old 99.00%", num: &num{99, ">=", 99.5, "%"}},
	})
}

// lostWrites is a run whose final read lost writes.
// 100 writes, one every 100ms, each acknowledged 10ms later; the final
// read misses ids 50..54 (acknowledged at +5.01s..+5.41s). The primary
// was killed at +6s: the loss window runs from the first lost
// acknowledgement to the failure, 6s - 5.01s = 990ms.
func lostWrites() *Evidence {
	writes := ledger(0, 10*time.Second, 100*time.Millisecond, onPrimary("pg-0"))
	twice := foundAll(writes)
	twice[7] = 2
	ev := newEvidence(nil, 10*time.Second)
	ev.Databases = map[string]*Database{
		"main":   {Name: "main", Writes: writes, Found: foundAll(writes, 50, 51, 52, 53, 54)},
		"dup":    {Name: "dup", Writes: writes, Found: twice},
		"unread": {Name: "unread", Writes: writes, ReadErr: errors.New("connection refused")},
	}
	ev.Faults = []Fault{injected(&scenarios.Fault{Name: "kill", Kind: scenarios.FaultKillPrimary, Database: "main"}, 6*time.Second, 0)}
	return ev
}

func TestRPO(t *testing.T) {
	ev := lostWrites()
	rpo := func(db string, maxLost int, maxWindow time.Duration) *scenarios.Expectation {
		return &scenarios.Expectation{Kind: scenarios.ExpectRPO, Database: db, MaxLost: maxLost, MaxWindow: dur(maxWindow)}
	}
	runCases(t, []checkCase{
		{name: "5 lost in 990ms, 5 and 1s allowed", ev: ev, e: rpo("main", 5, time.Second), passed: true,
			observed: "5 lost (window 990ms)", num: &num{5, "<=", 5, "writes"},
			detail: []string{"100 acknowledged, 0 failed, 0 unknown (0 surfaced, 0 vanished); 5 acknowledged writes lost (acknowledged between +5.01s and +5.41s)"}},
		{name: "5 lost, none allowed", ev: ev, e: rpo("main", 0, 0), observed: "5 lost (window 990ms)", num: &num{5, "<=", 0, "writes"}},
		// Failed on the window: 5 <= 10 holds, so no figures (no "over by").
		{name: "a window over 500ms", ev: ev, e: rpo("main", 10, 500*time.Millisecond),
			more: func(t *testing.T, x reports.Expectation, _ Findings) {
				assert.Equal(t, "<= 10 lost, window <= 500ms", x.Threshold)
			}},
		{name: "a duplicate fails though nothing was lost", ev: ev, e: rpo("dup", 10, 0), observed: "0 lost (window 0s)",
			detail: []string{"1 writes appear twice"}},
		{name: "the final read failed", ev: ev, e: rpo("unread", 10, 0), observed: "not measured", detail: []string{"connection refused"}},
		{name: "a database that never ran", ev: ev, e: rpo("other", 10, 0), observed: "no data"},
	})
}

func TestNoSplitBrain(t *testing.T) {
	// pg-0 acknowledged writes until +4.91s, nobody in [5s, 6s), pg-1 from
	// +6.01s to +9.91s: two stretches, no overlap. In the split run a probe
	// also found pg-0 writable at +7s and +8s (more than the 2s gap after
	// its last write): it and pg-1 both accepted writes from 7s to 8s.
	writes := ledger(0, 10*time.Second, 100*time.Millisecond, func(a time.Duration) string {
		switch {
		case a < 5*time.Second:
			return "pg-0"
		case a < 6*time.Second:
			return ""
		}
		return "pg-1"
	})
	ev := newEvidence(nil, 10*time.Second)
	ev.Databases = map[string]*Database{
		"clean": {Name: "clean", Writes: writes},
		"split": {Name: "split", Writes: writes, Writable: []analysis.Accept{{Instance: "pg-0", At: 7 * time.Second}, {Instance: "pg-0", At: 8 * time.Second}}},
		"idle":  {Name: "idle"},
	}
	split := func(db string) *scenarios.Expectation {
		return &scenarios.Expectation{Kind: scenarios.ExpectNoSplitBrain, Database: db}
	}
	runCases(t, []checkCase{
		{name: "a clean handover", ev: ev, e: split("clean"), passed: true, observed: "0 overlaps", num: &num{0, "==", 0, ""},
			detail: []string{"2 stretches of one writable server each: pg-0 0.0-4.9s; pg-1 6.0-9.9s;"}},
		{name: "two primaries at once", ev: ev, e: split("split"), observed: "1 overlaps", num: &num{1, "==", 0, ""},
			detail: []string{"pg-1 and pg-0 both accepted writes from 7.0s to 8.0s"}},
		{name: "nothing accepted a write", ev: ev, e: split("idle"), observed: "no data"},
	})
}

// replicas is a run of replication samples.
// Two replicas sampled every second for 10s: pg-1 50ms (1000 bytes)
// behind but 300ms (40000 bytes) at +5s; pg-2 20ms behind, not
// streaming at +8s.
func replicas() *Evidence {
	var lag []analysis.LagPoint
	for s := range 10 {
		at := time.Duration(s) * time.Second
		p1 := analysis.LagPoint{T: at, Replica: "pg-1", Streaming: true, Lag: 50 * time.Millisecond, Bytes: 1000}
		if s == 5 {
			p1.Lag, p1.Bytes = 300*time.Millisecond, 40000
		}
		lag = append(lag, p1, analysis.LagPoint{T: at, Replica: "pg-2", Streaming: s != 8, Lag: 20 * time.Millisecond, Bytes: 500})
	}
	ev := newEvidence(nil, 10*time.Second)
	ev.Databases = map[string]*Database{"main": {Name: "main", Lag: lag}}
	return ev
}

func TestReplicationLag(t *testing.T) {
	ev := replicas()
	lagged := func(max time.Duration, bytes int64, from, to time.Duration) *scenarios.Expectation {
		return &scenarios.Expectation{Kind: scenarios.ExpectReplicationLag, Database: "main", MaxLag: dur(max), MaxLagBytes: bytes,
			From: dur(from), To: dur(to)}
	}
	runCases(t, []checkCase{
		{name: "300ms within 500ms before +8s", ev: ev, e: lagged(500*time.Millisecond, 0, 0, 8*time.Second), passed: true,
			observed: "max 300ms", num: &num{300, "<=", 500, "ms"},
			detail: []string{"16 replica samples, 0 not streaming; worst pg-1 300ms at +5s, max 40000 bytes behind"}},
		{name: "300ms over 200ms", ev: ev, e: lagged(200*time.Millisecond, 0, 0, 8*time.Second), observed: "max 300ms",
			num: &num{300, "<=", 200, "ms"}},
		{name: "40000 bytes over 10000", ev: ev, e: lagged(500*time.Millisecond, 10000, 0, 8*time.Second), observed: "max 300ms",
			more: func(t *testing.T, x reports.Expectation, _ Findings) {
				assert.Equal(t, "<= 500ms, <= 10000 bytes, always streaming", x.Threshold)
			}},
		{name: "a replica stopped streaming", ev: ev, e: lagged(time.Second, 0, 0, 0), observed: "max 300ms, 1 samples not streaming"},
		{name: "after the samples", ev: ev, e: lagged(time.Second, 0, 20*time.Second, 0), observed: "no data"},
		{name: "a database that never ran", ev: ev, e: &scenarios.Expectation{Kind: scenarios.ExpectReplicationLag, Database: "other", MaxLag: dur(time.Second)},
			observed: "no data"},
	})
}

func TestBackupRestore(t *testing.T) {
	// Writes every 100ms for 10s, acknowledged 10ms later. The backup's
	// end point is at +5s and the restored server holds ids 0..46 (acked
	// up to +4.61s). With 500ms of slack the writes due are those
	// acknowledged before +4.5s: ids 0..44, all there (45 and 46 too).
	// With 100ms they are ids 0..48: 47 and 48 are missing.
	writes := ledger(0, 10*time.Second, 100*time.Millisecond, onPrimary("pg-0"))
	restored := map[int64]int{}
	for id := range int64(47) {
		restored[id] = 1
	}
	nightly := Backup{Name: "nightly", StartedAt: at(3 * time.Second), EndedAt: at(5500 * time.Millisecond), EndPointAt: at(5 * time.Second),
		EndLSN: "0/3000060", RestoredIn: 1500 * time.Millisecond, Found: restored}
	broken := nightly
	broken.Restore = errors.New("restore: disk full")
	ev := newEvidence(nil, 10*time.Second)
	ev.Databases = map[string]*Database{
		"main":   {Name: "main", Writes: writes, Backups: []Backup{nightly}},
		"broken": {Name: "broken", Writes: writes, Backups: []Backup{broken}},
		"none":   {Name: "none", Writes: writes},
	}
	backup := func(db string, slack time.Duration) *scenarios.Expectation {
		return &scenarios.Expectation{Kind: scenarios.ExpectBackupRestore, Database: db, MaxWindow: dur(slack)}
	}
	runCases(t, []checkCase{
		{name: "every write due restored", ev: ev, e: backup("main", 500*time.Millisecond), passed: true, observed: "0 missing",
			num: &num{0, "==", 0, "writes"},
			detail: []string{"nightly: backup took 2.5s under load (end point 0/3000060 at +5.0s), verified against its manifest, restored in 1.5s; " +
				"45 of 45 writes acknowledged before +4.5s present, 2 later ones too, 0 duplicated"}},
		{name: "writes missing within a tighter window", ev: ev, e: backup("main", 100*time.Millisecond), observed: "2 missing",
			num: &num{2, "==", 0, "writes"}, detail: []string{"47 of 49 writes acknowledged before +4.9s present"}},
		{name: "the restore failed", ev: ev, e: backup("broken", 500*time.Millisecond), observed: "drill failed", detail: []string{"nightly: restore: disk full"}},
		{name: "no backup taken", ev: ev, e: backup("none", 500*time.Millisecond), observed: "no backup"},
	})
}

// migrations is a run of three migrations under load.
// app v1 and legacy v1 served 10 rps for 20s; the migrations started
// at +10s. app failed everything before and nothing after (100 of 100
// answered); legacy failed one request in ten after (90 of 100).
func migrations() *Evidence {
	sc := &scenarios.Scenario{Name: "migrate", Services: []*scenarios.Service{{Name: "app", Version: "v1"}, {Name: "legacy", Version: "v1"}}}
	ev := newEvidence(sc, 20*time.Second)
	hops("app", "v1").plant(ev.Samples, 0, 20*time.Second, 100*time.Millisecond, failing(0, 10*time.Second))
	hops("legacy", "v1").plant(ev.Samples, 0, 20*time.Second, 100*time.Millisecond, func(i int, _ time.Duration) (int, time.Duration) {
		if i%10 == 0 {
			return 500, time.Millisecond
		}
		return 200, time.Millisecond
	})
	ev.Databases = map[string]*Database{"main": {Name: "main", Migrations: []Migration{
		{Name: "add-column", At: at(10 * time.Second), Took: 2 * time.Second, Verified: true, MaxLockWait: 100 * time.Millisecond, MaxWaiters: 3},
		{Name: "slow-index", At: at(10 * time.Second), Took: 6 * time.Second, MaxLockWait: 2 * time.Second},
		{Name: "broken", At: at(10 * time.Second), Took: time.Second, Err: errors.New(`column "total" already exists`)},
	}}}
	return ev
}

func TestMigration(t *testing.T) {
	ev := migrations()
	migration := func(name, app string) *scenarios.Expectation {
		e := &scenarios.Expectation{Kind: scenarios.ExpectMigration, Database: "main", Migration: name, App: app,
			MaxDuration: dur(5 * time.Second), MaxLockWait: dur(time.Second)}
		if app != "" {
			e.MinAvailability = 0.99
		}
		return e
	}
	runCases(t, []checkCase{
		{name: "backward compatible", ev: ev, e: migration("add-column", "app"), passed: true, observed: "ran; app v1 served 100.00%",
			num:    &num{100, ">=", 99, "%"},
			detail: []string{"verify_sql counted 0; ran in 2s, longest lock wait 100ms (3 waiting at most); after it app v1 answered 100 of 100 requests"}},
		{name: "breaks the old version", ev: ev, e: migration("add-column", "legacy"), observed: "ran; legacy v1 served 90.00%",
			num: &num{90, ">=", 99, "%"}, detail: []string{"the old version v1 of legacy failed 10 of 100 requests after it"}},
		{name: "too slow, locks too long", ev: ev, e: migration("slow-index", ""), observed: "ran",
			detail: []string{"took 6s, more than 5s", "a query waited 2s on a lock, more than 1s"}},
		{name: "failed", ev: ev, e: migration("broken", ""), observed: "failed", detail: []string{`column "total" already exists`}},
		{name: "never ran", ev: ev, e: migration("ghost", ""), observed: "did not run"},
	})
}

func TestUnknownKindIsNotEvaluated(t *testing.T) {
	runCases(t, []checkCase{{name: "chaos", ev: newEvidence(nil, time.Second), e: &scenarios.Expectation{Kind: "chaos_monkey"},
		observed: "not evaluated", detail: []string{"this build does not evaluate expectations of kind chaos_monkey"}}})
}

// judgeScenario has one expectation of each finding-making kind, and a
// database whose ledger and backup add findings of their own.
func judgeScenario() *scenarios.Scenario {
	yes := true
	sc := &scenarios.Scenario{Name: "judge",
		Services:  []*scenarios.Service{{Name: "gateway", DependsOn: []string{"checkout"}}, {Name: "checkout"}},
		Traffic:   scenarios.Traffic{Entry: "gateway", Rate: 100, Duration: dur(30 * time.Second)},
		Faults:    []*scenarios.Fault{{Name: "outage", Kind: scenarios.FaultDown, Edge: "gateway -> checkout", At: dur(10 * time.Second), Duration: dur(3 * time.Second)}},
		Databases: map[string]*scenarios.Database{"main": {}},
		Expectations: []*scenarios.Expectation{
			{Kind: scenarios.ExpectAvailability, Min: 0.85},
			{Kind: scenarios.ExpectP99Latency, Max: dur(time.Millisecond)},
			{Kind: scenarios.ExpectRTO, Fault: "outage", Max: dur(5 * time.Second)},
			{Kind: scenarios.ExpectBreaker, Service: "gateway", Dependency: "checkout", Trips: &yes},
		}}
	sc.ApplyDefaults()
	return sc
}

func TestJudge(t *testing.T) {
	// Clients at 100 rps for 30s failed while the outage held [10s, 13s):
	// 90% available, p99 5ms, back 3s after the outage; gateway's breaker
	// on checkout opened and reclosed. main's ledger ran and a backup was
	// taken.
	sc := judgeScenario()
	require.Equal(t, "outage", sc.Expectations[3].During, "the one fault on the edge is the breaker's window")
	ev := newEvidence(sc, 30*time.Second)
	clients.plant(ev.Samples, 0, 30*time.Second, 10*time.Millisecond, failing(10*time.Second, 13*time.Second))
	plantBreaker(ev.Samples, 10*time.Second, 13*time.Second, false)
	ev.Faults = []Fault{injected(sc.Faults[0], 10*time.Second, 13*time.Second)}
	writes := ledger(0, 30*time.Second, 100*time.Millisecond, onPrimary("pg-0"))
	ev.Databases = map[string]*Database{"main": {Name: "main", Writes: writes, Found: foundAll(writes),
		Lag:     []analysis.LagPoint{{T: time.Second, Replica: "pg-1", Streaming: true}, {T: 2 * time.Second, Replica: "pg-1", Streaming: true}},
		Backups: []Backup{{Name: "nightly", EndPointAt: at(5 * time.Second), RestoredIn: time.Second, Found: foundAll(writes)}}}}

	j := Judge(ev)
	require.Len(t, j.Expectations, 4, "one verdict per expectation, in file order")
	for i, want := range []bool{true, false, true, true} {
		x := j.Expectations[i]
		assert.Equal(t, sc.Expectations[i].Name, x.Name)
		assert.Equal(t, sc.Expectations[i].Kind, x.Kind)
		assert.Equal(t, want, x.Passed, "%s: %s (%s)", x.Name, x.Observed, x.Detail)
	}
	assert.Equal(t, "90.000%", j.Expectations[0].Observed)
	assert.Equal(t, "5ms", j.Expectations[1].Observed)
	assert.Equal(t, "3s", j.Expectations[2].Observed)
	assert.Nil(t, j.Power, "no canary, no plan to size")

	names := make([]string, len(j.Recovery))
	for i, r := range j.Recovery {
		names[i] = r.Name
	}
	assert.Equal(t, []string{"write ledger on main", "restore of backup nightly", sc.Expectations[2].Name}, names,
		"the database's findings, then the rto expectation's")
	ledgerFinding := j.Recovery[0]
	require.NotNil(t, ledgerFinding.AckedWrites)
	assert.Equal(t, 300, *ledgerFinding.AckedWrites)
	require.NotNil(t, ledgerFinding.LostWrites)
	assert.Zero(t, *ledgerFinding.LostWrites)
	require.NotNil(t, j.Recovery[2].RTOSeconds)
	assert.Equal(t, 3.0, *j.Recovery[2].RTOSeconds)

	require.Len(t, j.Breakers, 1)
	assert.Equal(t, "gateway", j.Breakers[0].Service)
	assert.Equal(t, 1, j.Breakers[0].Opens)
	require.Len(t, j.Replication, 1)
	assert.Equal(t, "pg-1", j.Replication[0].Replica)
	assert.Len(t, j.Replication[0].Points, 2)

	// A run that never reached traffic: nothing was measured, every
	// expectation says so and fails, no finding is made up.
	never := &Evidence{Scenario: judgeScenario(), Samples: record.NewRecorder(t0), Rollout: reports.Rollout{Outcome: reports.None},
		Faults: []Fault{{Spec: sc.Faults[0], Skipped: "the run ended before it"}}}
	j = Judge(never)
	require.Len(t, j.Expectations, 4)
	for _, x := range j.Expectations {
		assert.False(t, x.Passed, "%s: %s", x.Name, x.Observed)
	}
	assert.Equal(t, []string{"no data", "no data", "nothing to measure", "no data"},
		[]string{j.Expectations[0].Observed, j.Expectations[1].Observed, j.Expectations[2].Observed, j.Expectations[3].Observed})
	assert.Empty(t, j.Recovery)
	assert.Empty(t, j.Breakers)
	assert.Empty(t, j.Replication)
}

// A failed expectation's figures are what reports turn into "over by
// ...", so they must be those of a check that failed: when it failed on
// another of its conditions, it carries none.
func TestFiguresOfAFailureAreOfTheFailedCheck(t *testing.T) {
	notInjected := outages()
	notInjected.Faults = append(notInjected.Faults, Fault{Spec: &scenarios.Fault{Name: "outage-c", Kind: scenarios.FaultDown}, Skipped: "the run ended before it"})
	for _, c := range []struct {
		name string
		ev   *Evidence
		e    *scenarios.Expectation
	}{
		{"rpo failed on its window", lostWrites(), &scenarios.Expectation{Kind: scenarios.ExpectRPO, Database: "main", MaxLost: 10, MaxWindow: dur(500 * time.Millisecond)}},
		{"rpo failed on a duplicate", lostWrites(), &scenarios.Expectation{Kind: scenarios.ExpectRPO, Database: "dup", MaxLost: 10}},
		{"replication lag failed on bytes", replicas(), &scenarios.Expectation{Kind: scenarios.ExpectReplicationLag, Database: "main",
			MaxLag: dur(500 * time.Millisecond), MaxLagBytes: 10000, To: dur(8 * time.Second)}},
		{"replication lag failed on a replica not streaming", replicas(), &scenarios.Expectation{Kind: scenarios.ExpectReplicationLag,
			Database: "main", MaxLag: dur(time.Second)}},
		{"migration failed on its duration", migrations(), &scenarios.Expectation{Kind: scenarios.ExpectMigration, Database: "main",
			Migration: "add-column", App: "app", MinAvailability: 0.99, MaxDuration: dur(time.Second)}},
		{"rto failed on a fault not injected", notInjected, &scenarios.Expectation{Kind: scenarios.ExpectRTO, Fault: "outage-*",
			Max: dur(5 * time.Second), Objective: 0.99, Stability: dur(5 * time.Second)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := Check(c.ev, c.e, &Findings{})
			require.False(t, x.Passed, x.Detail)
			if x.Value != nil {
				assert.False(t, holds(*x.Value, x.Op, *x.Limit), "%g %s %g holds", *x.Value, x.Op, *x.Limit)
			}
			assert.Empty(t, reports.Shortfall(x), "no shortfall is reported of figures that hold")
		})
	}
}
