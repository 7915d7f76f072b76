package reports

import (
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRender feeds result.json variants through Load and every renderer: a
// result that loads must render in every format without a panic, and its
// JUnit must stay well-formed XML.
// Run: go test ./reports -fuzz FuzzRender -fuzztime 1m
func FuzzRender(f *testing.F) {
	for _, name := range []string{"go", "nogo", "interrupted"} {
		b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Degenerate shapes: one point, steps ending before they start, a fault
	// reverted before it was injected, a self-dependency, control bytes.
	f.Add([]byte(`{"schema_version":1,"scenario":"x\u001b[31m","series":[{"source":"client","service":"a","points":[{"t":0,"requests":0}]}]}`))
	f.Add([]byte(`{"schema_version":1,"started_at":"2026-01-01T00:00:10Z","rollout":{"service":"a","outcome":"rolled_back",
		"rollback_started_at":"2026-01-01T00:00:01Z","steps":[{"index":1,"weight":50,"started_at":"2026-01-01T00:00:09Z","ended_at":"2026-01-01T00:00:02Z"}]},
		"faults":[{"name":"f","target":"a -> a","injected_at":"2026-01-01T00:00:30Z","reverted_at":"2026-01-01T00:00:20Z"}],
		"topology":[{"name":"a","depends_on":["a","b"]}],
		"series":[{"source":"hop","service":"a","version":"1","points":[{"t":-5,"requests":3,"errors":9},{"t":100000,"requests":1}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "result.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Load(path)
		if err != nil {
			return
		}
		for _, format := range Formats {
			b, err := Render(r, format)
			if err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			if format == "junit" {
				d := xml.NewDecoder(strings.NewReader(string(b)))
				for {
					if _, err := d.Token(); err == io.EOF {
						break
					} else if err != nil {
						t.Fatalf("junit is not well-formed: %v", err)
					}
				}
			}
		}
	})
}
