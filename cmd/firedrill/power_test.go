package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill/firedrill"
	"github.com/firedrill/firedrill/power"
)

func runPower(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"power"}, args...))
	err := root.Execute()
	return out.String(), err
}

func TestPowerHelpDocumentsEveryFlag(t *testing.T) {
	out, err := runPower(t, "--help")
	require.NoError(t, err)
	var cmd *cobra.Command
	for _, c := range newRoot().Commands() {
		if c.Name() == "power" {
			cmd = c
		}
	}
	require.NotNil(t, cmd)
	n := 0
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		n++
		assert.Contains(t, out, "--"+f.Name)
		assert.NotEmpty(t, f.Usage, f.Name)
	})
	assert.GreaterOrEqual(t, n, 15)
	assert.Contains(t, out, "Monte-Carlo")
}

func TestPowerFromScenarioTooWeakIsExit1(t *testing.T) {
	out, err := runPower(t, "../../scenarios/examples/canary-power.yaml", "--trials", "200")
	var ee *exitError
	require.True(t, errors.As(err, &ee), "err %v", err)
	assert.Equal(t, firedrill.ExitNoGo, ee.code)
	assert.Contains(t, out, "canary plan of web: 20 rps")
	assert.Contains(t, out, "verdict: too weak")
	assert.Contains(t, out, "every pause x")
}

func TestPowerFromFlagsJSON(t *testing.T) {
	out, err := runPower(t, "--rate", "100", "--steps", "50:37s", "--baseline-error-rate", "0.01",
		"--error-rate-increase", "0.01", "--trials", "0", "--json")
	require.NoError(t, err, out)
	var rep power.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	// 1,850 requests per arm, just above the 1,826 a 1% -> 2% test needs
	// for 80% power (see the root package's hand computation).
	assert.InDelta(t, 0.80, rep.Power, 0.01)
	assert.Nil(t, rep.MonteCarlo)
	assert.Equal(t, "closed form", rep.EffectiveMethod)
}

func TestPowerBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"--steps", "5:30s"},                   // no rate
		{"--rate", "10", "--steps", "150:30s"}, // weight out of range
		{"--rate", "10", "--steps", "5:soon"},  // duration
		{"--rate", "10", "--steps", "5:30s", "--error-rate-ratio", "0.5"},
	} {
		_, err := runPower(t, args...)
		var ee *exitError
		require.True(t, errors.As(err, &ee), "%v: %v", args, err)
		assert.Equal(t, firedrill.ExitInvalid, ee.code, "%v", args)
	}
}
