package scenarios

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// compiledSchema compiles Schema() with a real JSON Schema validator, the
// way an editor's language server would.
func compiledSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("scenario.schema.json", doc))
	sch, err := c.Compile("scenario.schema.json")
	require.NoError(t, err)
	return sch
}

// asJSON reads a YAML scenario as the JSON value an editor validates.
func asJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal(data, &v))
	j, err := json.Marshal(v)
	require.NoError(t, err)
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	require.NoError(t, err)
	return out
}

func TestExamplesValidateAgainstTheSchema(t *testing.T) {
	sch := compiledSchema(t)
	files, err := filepath.Glob("examples/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	files = append(files, "testdata/valid.yaml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.NoError(t, sch.Validate(asJSON(t, data)), f)
	}
	for _, strategy := range InitStrategies {
		data, err := InitScenario(InitOptions{Strategy: strategy})
		require.NoError(t, err)
		assert.NoError(t, sch.Validate(asJSON(t, data)), "init --strategy %s", strategy)
	}
}

func TestSchemaRejectsBadFiles(t *testing.T) {
	sch := compiledSchema(t)
	for name, text := range map[string]string{
		"unknown top-level key": base + "rollot: {}\n",
		"unknown service key":   strings.Replace(base, "    fixture: httpsvc\n    depends_on", "    fixtur: httpsvc\n    depends_on", 1),
		"rate is a word":        strings.Replace(base, "rate: 10", "rate: fast", 1),
		"unknown strategy":      withRollout + "  strategy: big-bang\n",
		"services is a list":    "name: t\nservices: [a, b]\ntraffic: {entry: a, rate: 1, duration: 1s}\n",
		"replicas beyond 100":   strings.Replace(base, "    fixture: httpsvc\n    depends_on", "    fixture: httpsvc\n    replicas: 500\n    depends_on", 1),
		"replicas is a string":  strings.Replace(base, "    fixture: httpsvc\n    depends_on", "    fixture: httpsvc\n    replicas: two\n    depends_on", 1),
		"unknown fault kind":    base + "faults:\n  - {kind: meteor, edge: a -> b, duration: 1s}\n",
	} {
		_, perr := Parse("bad.yaml", []byte(text))
		require.Error(t, perr, "%s: Load refuses it too", name)
		assert.Error(t, sch.Validate(asJSON(t, []byte(text))), name)
	}
}
