package history

import (
	"errors"
	"testing"
)

// A policy file never panics the parser; every refusal is a *PolicyError.
func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte(policyYAML))
	f.Add([]byte("risk_classes: {low: {}}\nfreezes: [{name: x, from: 2026-01-01T00:00:00Z, to: 2026-01-02T00:00:00Z}]\n"))
	f.Add([]byte("risk_classes:\n  high: {max_age: 2w, same_file: true}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy("p.yaml", b)
		var pe *PolicyError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("error %v is not a *PolicyError", err)
		}
		if err == nil && len(p.RiskClasses) == 0 {
			t.Fatal("a policy without risk classes was accepted")
		}
	})
}
