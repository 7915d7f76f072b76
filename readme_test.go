package firedrill_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The README's reference section is scenarios/REFERENCE.md, one heading
// level down: this keeps the two from drifting apart.
func TestReadmeCarriesTheScenarioReference(t *testing.T) {
	ref, err := os.ReadFile("scenarios/REFERENCE.md")
	require.NoError(t, err)
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var want []string
	for _, l := range strings.Split(string(ref), "\n") {
		if strings.HasPrefix(l, "#") {
			l = "#" + l
		}
		want = append(want, l)
	}
	require.Contains(t, string(readme), strings.Join(want, "\n"),
		"README.md must carry scenarios/REFERENCE.md (headings one level down); paste it again")
}
