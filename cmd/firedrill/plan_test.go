package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/scenarios"
)

// The plan of a stateful scenario shows its databases, its write ledger,
// and its kills and actions once (nothing is reverted).
func TestPlanShowsDatabasesLedgerAndActions(t *testing.T) {
	for _, tc := range []struct {
		file  string
		wants []string
		nots  []string
	}{
		{"pg-failover-sync.yaml", []string{
			"database db          postgres primary + 1 sync replica(s) through Toxiproxy; failover auto (the harness promotes a replica 1s after the primary fails)",
			"+0s       write ledger starts: 50 unique writes/s to db",
			"+8s       fault primary-dies: kill_primary on database db primary\n",
		}, []string{"reverted", "for 0s"}},
		{"pg-migration-expand-contract.yaml", []string{
			"+2s       action expand: migrate on database db primary",
			"+15s      action contract: migrate",
		}, nil},
		{"quickstart.yaml", []string{
			"+5s       rollout checkout: deploy v2 x1 (canary); about 1s until healthy",
			"+6s       step 1: 10% to v2 for 10s", // the deploy counted
			"+12s      fault slow-payments reverted",
		}, []string{"database", "ledger"}},
	} {
		sc, err := scenarios.Load("../../scenarios/examples/" + tc.file)
		require.NoError(t, err)
		var b strings.Builder
		printPlan(&b, sc)
		for _, w := range tc.wants {
			assert.Contains(t, b.String(), w, tc.file)
		}
		for _, n := range tc.nots {
			assert.NotContains(t, b.String(), n, tc.file)
		}
	}
}
