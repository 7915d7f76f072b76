package history

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const policyYAML = `# release policy
risk_classes:
  high: {require: [rollout_outcome, rollback_within, availability], max_age: 7d, approvals: 2}
  medium:
    require: [availability]
    max_age: 14d
  low: {}
default_risk: medium
freezes:
  - {name: year-end, from: 2026-12-20T00:00:00Z, to: 2027-01-04T00:00:00Z}
  - {name: db-upgrade, from: 2026-12-10T00:00:00Z, to: 2026-12-11T00:00:00Z, risks: [high]}
`

func TestParsePolicy(t *testing.T) {
	p, err := ParsePolicy("policy.yaml", []byte(policyYAML))
	require.NoError(t, err)
	assert.Equal(t, Age(7*24*time.Hour), p.RiskClasses["high"].MaxAge)
	assert.Equal(t, 2, p.RiskClasses["high"].Approvals)
	assert.Equal(t, []string{"availability"}, p.RiskClasses["medium"].Require)
	assert.NotNil(t, p.RiskClasses["low"])
	require.Len(t, p.Freezes, 2)
	assert.Equal(t, time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC), p.Freezes[0].To.UTC())
}

func TestPolicyErrorsSayWhere(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"unknown key", "risk_classes:\n  high: {require: [availability], maxage: 7d}\n", "p.yaml:2:"},
		{"bad age", "risk_classes:\n  high:\n    max_age: a week\n", `p.yaml:3:14: max_age: "a week" is not an age`},
		{"unknown kind", "risk_classes:\n  high:\n    require: [availability, vibes]\n", `p.yaml:3:29: unknown expectation kind "vibes"`},
		{"unknown class", "risk_classes:\n  extreme: {}\n", `unknown risk class "extreme"`},
		{"freeze backwards", "risk_classes: {low: {}}\nfreezes:\n  - name: x\n    from: 2026-12-20T00:00:00Z\n    to: 2026-12-01T00:00:00Z\n", `p.yaml:5:9: freeze "x" ends`},
		{"default risk", "risk_classes: {low: {}}\ndefault_risk: high\n", `p.yaml:2:15: default_risk "high"`},
		{"no classes", "freezes: []\n", "p.yaml:1:8: no risk_classes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePolicy("p.yaml", []byte(c.yaml))
			var pe *PolicyError
			require.True(t, errors.As(err, &pe), "%v", err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestDecide(t *testing.T) {
	p, err := ParsePolicy("policy.yaml", []byte(policyYAML))
	require.NoError(t, err)
	day := 24 * time.Hour
	now := time.Date(2026, 12, 15, 12, 0, 0, 0, time.UTC)
	rel := Release{Scenario: "quickstart", Risk: "high", Version: "v2", FileHash: "abc"}
	good := func(at time.Time) Run {
		return Run{ID: 7, Scenario: "quickstart", Version: "v2", FileHash: "abc", Verdict: "GO", StartedAt: at, EndedAt: at.Add(time.Minute),
			Expectations: []Expectation{{Kind: "rollout_outcome", Passed: true}, {Kind: "rollback_within", Passed: true}, {Kind: "availability", Passed: true}}}
	}
	approve := func(who string, at time.Time, kind string) Decision {
		return Decision{Kind: kind, Scenario: "quickstart", Version: "v2", Actor: who, At: at}
	}
	twoApprovals := []Decision{approve("alice", now.Add(-time.Hour), DecisionApproval), approve("bob", now.Add(-time.Hour), DecisionApproval)}

	v := Decide(p, rel, []Run{good(now.Add(-2 * day))}, twoApprovals, now)
	assert.Empty(t, v.Reasons)
	assert.Equal(t, int64(7), v.Evidence.ID)
	assert.Equal(t, []string{"alice", "bob"}, v.Approved)

	// Too old, and a revoked approval.
	decisions := append(twoApprovals, approve("bob", now.Add(-time.Minute), DecisionRevoke))
	v = Decide(p, rel, []Run{good(now.Add(-9 * day))}, decisions, now)
	require.Len(t, v.Reasons, 2)
	assert.Contains(t, v.Reasons[0], "no passing rehearsal of quickstart v2 within 7d (last: run #7 at 2026-12-06T12:01:00Z, 8d ago)")
	assert.Contains(t, v.Reasons[1], "approvals missing: 1 of 2 for quickstart v2 (approved by alice)")

	// A GO run without the rollback check; a NO-GO and another version do not count.
	partial := good(now.Add(-day))
	partial.Expectations = partial.Expectations[:1]
	nogo := good(now.Add(-time.Hour))
	nogo.Verdict = "NO-GO"
	other := good(now.Add(-time.Hour))
	other.Version = "v3"
	v = Decide(p, rel, []Run{partial, nogo, other}, twoApprovals, now)
	assert.Equal(t, []string{
		"required check rollback_within missing from run #7, the newest passing rehearsal of quickstart v2",
		"required check availability missing from run #7, the newest passing rehearsal of quickstart v2",
	}, v.Reasons)

	// Freezes: year-end stops every risk, db-upgrade only high.
	v = Decide(p, rel, []Run{good(now.Add(-day))}, twoApprovals, time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC))
	assert.Equal(t, []string{`freeze "year-end" until 2027-01-04T00:00:00Z`}, v.Reasons)
	at := time.Date(2026, 12, 10, 6, 0, 0, 0, time.UTC)
	v = Decide(p, rel, []Run{good(at.Add(-day))}, []Decision{approve("alice", at.Add(-day), DecisionApproval), approve("bob", at.Add(-day), DecisionApproval)}, at)
	assert.Equal(t, []string{`freeze "db-upgrade" until 2026-12-11T00:00:00Z`}, v.Reasons)
	v = Decide(p, Release{Scenario: "quickstart", Version: "v2"}, []Run{good(at.Add(-day))}, nil, at) // default_risk medium
	assert.Empty(t, v.Reasons)
	assert.Equal(t, "medium", v.Risk)

	// A NO-GO after the GO one has the last word, until a GO again.
	later := good(now.Add(-time.Hour))
	later.ID, later.Verdict = 9, "NO-GO"
	v = Decide(p, rel, []Run{good(now.Add(-day)), later}, twoApprovals, now)
	assert.Equal(t, []string{"the newest rehearsal of quickstart v2, run #9 at 2026-12-15T11:01:00Z, was NO-GO (after the passing run #7); rehearse again"}, v.Reasons)
	again := good(now.Add(-time.Minute))
	v = Decide(p, rel, []Run{good(now.Add(-day)), later, again}, twoApprovals, now)
	assert.Empty(t, v.Reasons)

	// Never rehearsed.
	v = Decide(p, Release{Scenario: "quickstart", Risk: "medium", Version: "v2"}, nil, nil, now)
	assert.Equal(t, []string{"no passing rehearsal of quickstart v2 within 14d (never)"}, v.Reasons)
}

// The gate through a real store: runs recorded, then approvals.
func TestGateWithStore(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "h.db"))
	p, err := ParsePolicy("policy.yaml", []byte(policyYAML))
	require.NoError(t, err)
	now := time.Date(2026, 12, 15, 12, 0, 0, 0, time.UTC)
	rel := Release{Scenario: "quickstart", Risk: "high", Version: "v2", FileHash: "abc"}
	_, err = s.Record(ctx, run(t, now.Add(-time.Hour), "GO"))
	require.NoError(t, err)
	v, err := Gate(ctx, p, s, rel, now)
	require.NoError(t, err)
	assert.Equal(t, []string{"approvals missing: 2 of 2 for quickstart v2 (none yet); firedrill history approve FILE --by NAME"}, v.Reasons)
	for _, who := range []string{"alice", "bob", "alice"} {
		_, err = s.Decide(ctx, Decision{Kind: DecisionApproval, Scenario: "quickstart", Version: "v2", Actor: who, At: now.Add(-time.Minute)})
		require.NoError(t, err)
	}
	v, err = Gate(ctx, p, s, rel, now)
	require.NoError(t, err)
	assert.True(t, v.Go(), "%v", v.Reasons)
	// As at a time before the run, there was no evidence.
	v, err = Gate(ctx, p, s, rel, now.Add(-2*time.Hour))
	require.NoError(t, err)
	assert.Contains(t, v.Reasons[0], "no passing rehearsal")
}

func TestExamplePolicyParses(t *testing.T) {
	p, err := LoadPolicy("../docs/release-policy.yaml")
	require.NoError(t, err)
	assert.Equal(t, 2, p.RiskClasses["high"].Approvals)
	assert.Equal(t, "year-end", p.Freezes[0].Name)
}
