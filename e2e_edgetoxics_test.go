package firedrill_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/record"
	"github.com/firedrill/firedrill/scenarios"
)

// edgeToxicsScenario puts four Toxiproxy faults, one after the other, on
// the edge gateway -> payments. On the local runtime the edge proxy hands
// its bytes to payments' router in memory (third_party/toxiproxy's
// DialUpstream), so this checks that every kind still acts on the caller's
// real connection and is reverted.
const edgeToxicsScenario = `
name: edge-toxics
seed: 5
services:
  gateway: {fixture: httpsvc, depends_on: [payments], env: {DEP_TIMEOUT: 400ms}}
  payments: {fixture: httpsvc}
traffic: {entry: gateway, rate: 100, duration: 17s}
faults:
  - {name: slow, kind: latency, edge: gateway -> payments, latency: 200ms, at: 1s, duration: 2s}
  - {name: rst, kind: reset_peer, edge: gateway -> payments, at: 5s, duration: 2s}
  - {name: cut, kind: down, edge: gateway -> payments, at: 9s, duration: 2s}
  - {name: hang, kind: timeout, edge: gateway -> payments, at: 13s, duration: 2s}
`

func TestEdgeToxicsLocal(t *testing.T) {
	sc, err := scenarios.Parse("edge-toxics.yaml", []byte(edgeToxicsScenario))
	require.NoError(t, err)
	rec := record.NewRecorder(time.Now())
	res, err := firedrill.Run(context.Background(), sc, firedrill.Options{OutDir: t.TempDir(), Formats: []string{"md"}, Recorder: rec})
	require.NoError(t, err)
	require.Len(t, res.Faults, 4)
	for _, f := range res.Faults {
		require.NotNil(t, f.InjectedAt, "%s injected (%s)", f.Name, f.Error)
		require.NotNil(t, f.RevertedAt, "%s reverted", f.Name)
		require.Empty(t, f.Error)
	}
	// Requests sent well inside a window (100 ms after the injection, the
	// dependency timeout before the revert) and well outside every window.
	const margin, depTimeout = 100 * time.Millisecond, 400 * time.Millisecond
	type tally struct{ n, bad, slow int }
	in := make([]tally, 4)
	var clean tally
	start := rec.Start()
	for _, s := range rec.Select(record.Filter{Source: record.Client}) {
		sent := s.Time(start)
		w := -1
		near := false
		for i, f := range res.Faults {
			if sent.After(f.InjectedAt.Add(margin)) && sent.Before(f.RevertedAt.Add(-depTimeout)) {
				w = i
			}
			if sent.After(f.InjectedAt.Add(-500*time.Millisecond)) && sent.Before(f.RevertedAt.Add(500*time.Millisecond)) {
				near = true
			}
		}
		t := &clean
		if w >= 0 {
			t = &in[w]
		} else if near {
			continue
		}
		t.n++
		if !s.OK() {
			t.bad++
		}
		if s.Latency() >= 200*time.Millisecond {
			t.slow++
		}
	}
	t.Logf("latency %+v, reset %+v, down %+v, timeout %+v, clean %+v", in[0], in[1], in[2], in[3], clean)
	for i, w := range in {
		require.Greater(t, w.n, 50, "%s: requests in its window", res.Faults[i].Name)
	}
	assert.GreaterOrEqual(t, in[0].slow, in[0].n*9/10, "latency: the hop is 200 ms slower")
	assert.Zero(t, in[0].bad, "latency: nothing fails")
	for i := 1; i < 4; i++ {
		assert.GreaterOrEqual(t, in[i].bad, in[i].n*9/10, "%s: gateway's calls to payments fail", res.Faults[i].Name)
	}
	assert.GreaterOrEqual(t, in[3].slow, in[3].n*9/10, "timeout: a call hangs until the dependency timeout")
	require.Greater(t, clean.n, 300)
	assert.LessOrEqual(t, clean.bad, clean.n/100, "outside the windows requests succeed (reverted)")
	assert.LessOrEqual(t, clean.slow, clean.n/100, "outside the windows requests are fast (reverted)")
}
