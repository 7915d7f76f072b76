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

// dbBase is a valid stateful scenario (lines 1-21); cases append to it.
const dbBase = `name: t
services:
  api:
    fixture: httpsvc
    depends_on: [db]
    args: ["--note={{dep \"db\"}}"]
databases:
  db:
    replicas: 1
    replication: sync
traffic:
  entry: api
  rate: 10
  duration: 30s
ledger:
  rate: 50
faults:
  - {name: boom, kind: kill_primary, at: 5s}
  - {name: slow, kind: delay_replication, replica: 1, latency: 1s, at: 1s, duration: 3s}
  - {name: switch, kind: promote, at: 20s, lag_gate: {max_lag: 1s}}
expectations:
`

func TestDatabaseScenarioDefaults(t *testing.T) {
	s, err := Parse("t.yaml", []byte(dbBase+`  - {kind: rpo}
  - {kind: rto, database: db, fault: boom, max: 5s}
  - {kind: replication_lag, max_lag: 1s, to: 5s}
  - {kind: no_split_brain}
`))
	require.NoError(t, err)
	d := s.Database("db")
	require.NotNil(t, d)
	assert.Equal(t, Database{Name: "db", Engine: EnginePostgres, Replicas: 1, Replication: ReplSync, Failover: FailoverAuto,
		Detect: DefaultDetect, StartTimeout: DefaultStartTimeout}, *d)
	assert.Equal(t, Ledger{Database: "db", Rate: 50, Timeout: DefaultLedgerTO, Connections: DefaultLedgerConns}, *s.Ledger)
	for _, f := range s.Faults {
		assert.Equal(t, "db", f.Database, "the only database is the default")
	}
	assert.Equal(t, &LagGate{Database: "db", MaxLag: Duration(1e9), Timeout: DefaultGateTimeout}, s.Faults[2].LagGate)
	assert.Equal(t, "database db primary", s.Faults[0].Target())
	assert.Equal(t, "database db replica 1", s.Faults[1].Target())
	assert.Equal(t, "rpo of db: at most 0 acknowledged writes lost", s.Expectations[0].Name)
	assert.Equal(t, "db", s.Expectations[3].Database)
	assert.Equal(t, []Edge{{From: "api", To: "db"}}, s.Edges())
}

func TestDatabaseScenarioInvalid(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown replication", strings.Replace(dbBase, "replication: sync", "replication: semi", 1), `unknown replication "semi"`},
		{"negative replicas", strings.Replace(dbBase, "replicas: 1", "replicas: -1", 1), "must be 0 to 5 streaming replicas, not -1"},
		{"too many replicas", strings.Replace(dbBase, "replicas: 1", "replicas: 9", 1), "must be 0 to 5 streaming replicas"},
		{"external without command", strings.Replace(dbBase, "replication: sync", "replication: sync\n    failover: external", 1), "write failover_command"},
		{"database named like a service", strings.Replace(dbBase, "databases:\n  db:", "databases:\n  api:", 1), `"api" is also a service`},
		{"ledger on no database", strings.Replace(dbBase, "  rate: 50", "  rate: 50\n  database: nope", 1), `no database named "nope"`},
		{"ledger rate", strings.Replace(dbBase, "  rate: 50", "  rate: 0", 1), "ledger.rate: must be above 0"},
		{"replica out of range", strings.Replace(dbBase, "replica: 1, latency", "replica: 2, latency", 1), "replica 2 does not exist"},
		{"delay needs latency or rate", strings.Replace(dbBase, "latency: 1s, ", "", 1), "delay_replication needs latency"},
		{"action with duration", strings.Replace(dbBase, "at: 20s, lag_gate", "at: 20s, duration: 1s, lag_gate", 1), "promote is an action, it has no duration"},
		{"pause needs duration", dbBase + "  - {kind: rpo}\n", ""},
		{"service key on a db fault", strings.Replace(dbBase, "kind: kill_primary,", "kind: kill_primary, service: api,", 1), "faults[0].service: does not apply to kill_primary"},
		{"edge fault on a database edge", strings.Replace(dbBase, "faults:\n", "faults:\n  - {kind: latency, edge: api -> db, latency: 1s, at: 1s, duration: 1s}\n", 1), "api -> db is a database edge"},
		{"gate needs max_lag", strings.Replace(dbBase, "lag_gate: {max_lag: 1s}", "lag_gate: {timeout: 1s}", 1), "max_lag: must be greater than 0"},
		{"rpo needs a ledger", strings.Replace(dbBase, "ledger:\n  rate: 50\n", "", 1) + "  - {kind: rpo}\n", "rpo is judged on the write ledger"},
		{"lag needs max_lag", dbBase + "  - {kind: replication_lag}\n", "replication_lag needs max_lag"},
		{"max_lost on another kind", dbBase + "  - {kind: no_split_brain, max_lost: 3}\n", "max_lost: applies to rpo expectations"},
		{"rto of a database on a service fault", strings.Replace(dbBase, "faults:\n", "faults:\n  - {name: k, kind: kill, service: api, at: 1s, duration: 1s}\n", 1) +
			"  - {kind: rto, database: db, fault: k, max: 5s}\n", "k is not a database fault"},
		{"backup_restore needs a backup", dbBase + "  - {kind: backup_restore}\n", "add a fault {kind: backup"},
		{"step lag gate", dbBase + "rollout:\n  service: api\n  to: v2\n  steps:\n    - {weight: 10, pause: 5s, lag_gate: {max_lag: 0s}}\n",
			"rollout.steps[0].lag_gate.max_lag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.yaml))
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "t.yaml:", "errors carry a position")
		})
	}
}

// Databases run on the docker runtime too (as containers), also for
// services that depend on them: every stateful example validates for it.
func TestDatabaseScenariosOnDocker(t *testing.T) {
	for _, name := range []string{"pg-failover-sync.yaml", "pg-failover-async.yaml", "pg-backup-restore.yaml",
		"pg-migration-expand-contract.yaml", "pg-migration-breaking.yaml", "pg-lag-gate.yaml"} {
		s, err := LoadFor("examples/"+name, "docker")
		require.NoError(t, err, name)
		assert.Equal(t, "docker", s.Runtime)
		assert.NotEmpty(t, s.Databases)
	}
	s, err := Parse("t.yaml", []byte("runtime: docker\n"+dbBase))
	require.NoError(t, err, "a service depending on its database")
	assert.Equal(t, "docker", s.Runtime)
}

// $defs.database is not reached by TestSchemaMatchesTypes (databases is a
// map), so it is checked here against the Database type.
func TestSchemaDatabaseMatchesType(t *testing.T) {
	var doc struct {
		Defs map[string]struct {
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	require.NoError(t, json.Unmarshal(Schema(), &doc))
	def := doc.Defs["database"]
	var props []string
	for k := range def.Properties {
		props = append(props, k)
	}
	slices.Sort(props)
	assert.Equal(t, slices.Sorted(slices.Values(keysOf(yamlFields(reflect.TypeFor[Database]())))), props)
	assert.Equal(t, Engines, def.Properties["engine"].Enum)
	assert.Equal(t, Replications, def.Properties["replication"].Enum)
	assert.Equal(t, FailoverModes, def.Properties["failover"].Enum)
}
