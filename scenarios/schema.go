package scenarios

import (
	"bytes"
	_ "embed"
)

//go:embed schema.json
var schema []byte

// Schema is the JSON Schema (draft 2020-12) of scenario files, for editors
// and CI linters. It checks shapes, types and enums; Load checks more
// (references, cycles, timings).
func Schema() []byte { return bytes.Clone(schema) }
