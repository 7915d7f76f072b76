package scenarios

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse: any input ends in a valid scenario or in positioned errors,
// never in a panic or a hang.
func FuzzParse(f *testing.F) {
	valid, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(valid),
		base,
		withRollout,
		withRollout + "faults:\n  - {kind: kill, service: b, step: 2, at: 1s, duration: 1s, restart_after: never}\n",
		"",
		"name: [",
		"- a\n- b\n",
		"services:\n  a: &x {fixture: httpsvc, <<: *x}\n",
		"services: {a: {depends_on: [b]}, b: {depends_on: [a]}}\ntraffic: {entry: a, rate: .nan, duration: -1s}\n",
		"services:\n  a:\n    command: ['{{dep \"b\"}}', '{{range 9}}{{end}}']\n",
		"a: !!binary aGVsbG8=\n? [x]\n: y\n",
		"\ufeff# bom\r\n" + strings.ReplaceAll(base, "\n", "\r\n"),
		"\xff\xfen\x00a\x00",
		strings.Replace(base, "rate: 10", "rate: 1e3", 1) + "seed: 99999999999999999999\n",
		strings.Replace(withRollout, "weight: 10", "weight: 10%", 1) + "  rolling: {max_surge: 0}\n",
		"x: &a {fixture: httpsvc, replicaz: 1}\n" + strings.Replace(base, "    fixture: httpsvc\n    depends_on", "    <<: *a\n    depends_on", 1),
		string(manyServices(600, true)),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err == nil {
			if s == nil {
				t.Fatal("no error and no scenario")
			}
			if _, jerr := json.Marshal(s); jerr != nil {
				t.Fatalf("a valid scenario must marshal: %v", jerr)
			}
			s.ApplyDefaults()
			if verr := s.Validate(); verr != nil {
				t.Fatalf("defaults are idempotent, so a valid scenario stays valid: %v", verr)
			}
			return
		}
		if s != nil {
			t.Fatal("a scenario returned together with an error")
		}
		var es *Errors
		if !errors.As(err, &es) || len(*es) == 0 {
			t.Fatalf("error is not a non-empty *Errors: %T %v", err, err)
		}
		for _, e := range *es {
			if e.Line < 1 || e.Col < 1 || e.File != "fuzz.yaml" || e.Msg == "" {
				t.Fatalf("error without a position: %#v", e)
			}
		}
		if n := strings.Count(err.Error(), "\n") + 1; n != len(*es) {
			t.Fatalf("%d lines for %d errors", n, len(*es))
		}
	})
}
