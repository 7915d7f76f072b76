package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill/fixtures/httpsvc"
)

// Every setting of the fixture a scenario may tune is in the reference,
// not only in the hidden `firedrill fixture httpsvc --help`.
func TestReferenceDocumentsFixtureSettings(t *testing.T) {
	ref, err := os.ReadFile("../../scenarios/REFERENCE.md")
	require.NoError(t, err)
	harness := map[string]bool{"PORT": true, "HOST": true, "VERSION": true, "INSTANCE": true, "SERVICE": true, "DEPS": true, "DB": true, "SEED": true}
	for _, d := range httpsvc.Flags() {
		if !harness[d.Env] {
			assert.Contains(t, string(ref), "| `"+d.Env+"` | `"+d.Flag+"` |", "scenarios/REFERENCE.md: the httpsvc fixture's settings")
		}
	}
}
