package scenarios

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type schemaNode struct {
	Properties map[string]json.RawMessage `json:"properties"`
	Additional json.RawMessage            `json:"additionalProperties"`
}

// The schema and the Go types cannot drift: every yaml key of every struct
// reachable from Scenario is a property of its definition (Scenario is the
// root, any other struct T is $defs.<lower-case T>), and the schema has no
// key the decoder would refuse.
func TestSchemaMatchesTypes(t *testing.T) {
	var doc struct {
		schemaNode
		Schema string                `json:"$schema"`
		Defs   map[string]schemaNode `json:"$defs"`
	}
	require.NoError(t, json.Unmarshal(Schema(), &doc))
	assert.Equal(t, "https://json-schema.org/draft/2020-12/schema", doc.Schema)

	seen := map[reflect.Type]bool{}
	var check func(typ reflect.Type)
	check = func(typ reflect.Type) {
		if seen[typ] {
			return
		}
		seen[typ] = true
		def, where := doc.schemaNode, "root"
		if typ != scenarioType {
			where = "$defs." + strings.ToLower(typ.Name())
			var ok bool
			def, ok = doc.Defs[strings.ToLower(typ.Name())]
			require.True(t, ok, "schema has no %s for %s", where, typ)
		}
		keys := keysOf(yamlFields(typ))
		var props []string
		for k := range def.Properties {
			props = append(props, k)
		}
		slices.Sort(props)
		sortedKeys := slices.Sorted(slices.Values(keys))
		assert.Equal(t, sortedKeys, props, "%s properties vs yaml keys of %s", where, typ)
		assert.JSONEq(t, "false", string(def.Additional), "%s must refuse unknown keys like the decoder", where)

		for _, f := range yamlFields(typ) {
			ft := typ.Field(f.index).Type
			if typ == scenarioType && f.key == "services" {
				ft = reflect.TypeFor[Service]()
			}
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != durationType {
				check(ft)
			}
		}
	}
	check(scenarioType)
	assert.Len(t, seen, 26, "Compare, Scenario, Service, Health, Traffic, Rollout, Step, Analysis, Fault, Expectation, Regression, Alerts, Journey, JourneyStep, JourneyGate, "+
		"BlueGreen, Rolling, Phased, Triggers, BurnRate, Decision, Mitigation, Ledger, LagGate, AbortIf, Requests")
}

func TestSchemaEnumsMatchCode(t *testing.T) {
	var doc struct {
		Defs map[string]struct {
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	require.NoError(t, json.Unmarshal(Schema(), &doc))
	assert.Equal(t, FaultKinds, doc.Defs["fault"].Properties["kind"].Enum)
	assert.Equal(t, Directions, doc.Defs["fault"].Properties["direction"].Enum)
	assert.Equal(t, ExpectationKinds, doc.Defs["expectation"].Properties["kind"].Enum)
	assert.Equal(t, Outcomes, doc.Defs["expectation"].Properties["outcome"].Enum)
	assert.Equal(t, Methods, doc.Defs["traffic"].Properties["method"].Enum)
	assert.Equal(t, Strategies, doc.Defs["rollout"].Properties["strategy"].Enum)
	assert.Equal(t, Rollbacks, doc.Defs["rollout"].Properties["rollback"].Enum)
	assert.Equal(t, Fixtures, doc.Defs["service"].Properties["fixture"].Enum)
}

func TestSchemaIsACopy(t *testing.T) {
	a := Schema()
	a[0] = 'X'
	assert.Equal(t, byte('{'), Schema()[0])
}
