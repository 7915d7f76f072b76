package scenarios

import (
	"fmt"
	"slices"
	"sort"
)

// Database is a stateful dependency: a PostgreSQL primary and its streaming
// replicas. Services list it in depends_on; {{dep "db"}} is then the address
// of their proxy to the current primary.
type Database struct {
	Name string `yaml:"-" json:"name"`
	// Engine is "postgres" (the only one so far).
	Engine string `yaml:"engine,omitempty" json:"engine"`
	// Replicas is the number of streaming replicas (default 1).
	Replicas int `yaml:"replicas,omitempty" json:"replicas"`
	// Replication is "async" (default) or "sync": with sync every commit
	// waits until one replica has it.
	Replication string `yaml:"replication,omitempty" json:"replication"`
	// Failover is who promotes a replica when the primary fails: "auto"
	// (default: the harness, after Detect), "scenario" (only promote
	// actions), "external" (the harness runs FailoverCommand after Detect
	// and adopts whichever replica it promoted) or "none".
	Failover        string   `yaml:"failover,omitempty" json:"failover"`
	Detect          Duration `yaml:"detect,omitempty" json:"detect"`
	FailoverCommand []string `yaml:"failover_command,omitempty" json:"failover_command,omitempty"`
	// Settings are extra postgresql.conf settings.
	Settings     map[string]string `yaml:"settings,omitempty" json:"settings,omitempty"`
	StartTimeout Duration          `yaml:"start_timeout,omitempty" json:"start_timeout"`
}

// Database engines, replication and failover modes.
const (
	EnginePostgres = "postgres"
	ReplAsync      = "async"
	ReplSync       = "sync"

	FailoverAuto     = "auto"
	FailoverScenario = "scenario"
	FailoverExternal = "external"
	FailoverNone     = "none"

	DefaultDetect      = Duration(1e9)
	DefaultGateTimeout = Duration(10e9)
	DefaultLedgerTO    = Duration(1e9)
	DefaultLedgerConns = 4
	// DefaultBackupSlack: writes acknowledged this close to a backup's end
	// point may be missing from it (the end point is known to the harness
	// a moment after the server fixed it).
	DefaultBackupSlack = Duration(500e6)
	// DefaultMigrationAvail is the share of its requests an app's old
	// version must keep serving after a migration.
	DefaultMigrationAvail = 0.99
)

var (
	Engines       = []string{EnginePostgres}
	Replications  = []string{ReplAsync, ReplSync}
	FailoverModes = []string{FailoverAuto, FailoverScenario, FailoverExternal, FailoverNone}
)

// Ledger is the write ledger: writes with unique ids sent to a database
// while traffic runs, each recorded as acknowledged, failed or unknown, and
// read back after recovery (rpo, rto with database).
type Ledger struct {
	Database string  `yaml:"database,omitempty" json:"database"`
	Rate     float64 `yaml:"rate" json:"rate"`
	// Timeout of one write (default 1s): unanswered by then, it is unknown.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout"`
	// Connections the ledger writes over (default 4).
	Connections int `yaml:"connections,omitempty" json:"connections"`
}

// LagGate holds a promotion or a rollout step until every replica of Database
// streams with a replay lag below MaxLag (and MaxLagBytes when set); after
// Timeout the action fails (a rollout step rolls back).
type LagGate struct {
	Database    string   `yaml:"database,omitempty" json:"database"`
	MaxLag      Duration `yaml:"max_lag" json:"max_lag"`
	MaxLagBytes int64    `yaml:"max_lag_bytes,omitempty" json:"max_lag_bytes,omitempty"`
	Timeout     Duration `yaml:"timeout,omitempty" json:"timeout"`
}

// Stateful fault and action kinds; they take database: (default: the only
// database).
const (
	// FaultKillPrimary SIGKILLs the current primary and all its processes;
	// with a duration the server is started again after it (on its own
	// data: a crash restart, or a former primary coming back).
	FaultKillPrimary = "kill_primary"
	// FaultPausePrimary SIGSTOPs the current primary for the duration.
	FaultPausePrimary = "pause_primary"
	// FaultPartitionReplica cuts replica Replica's replication for the duration.
	FaultPartitionReplica = "partition_replica"
	// FaultDelayReplication delays (latency, jitter) or throttles
	// (rate_kbps) replica Replica's replication for the duration.
	FaultDelayReplication = "delay_replication"
	// ActionPromote promotes replica Replica (0: the most advanced), after
	// its gate, and repoints the clients: a planned switchover that stops
	// the old primary cleanly first.
	ActionPromote = "promote"
	// ActionBackup takes a base backup under load, verifies it, restores it
	// into a fresh server and checks the ledger's writes in it.
	ActionBackup = "backup"
	// ActionMigrate runs SQL (a schema migration step) on the primary,
	// after VerifySQL when given, timing it and watching lock waits.
	ActionMigrate = "migrate"
)

// DatabaseFaultKinds are the fault kinds that act on a database.
var DatabaseFaultKinds = []string{FaultKillPrimary, FaultPausePrimary, FaultPartitionReplica, FaultDelayReplication,
	ActionPromote, ActionBackup, ActionMigrate}

// IsDatabaseFault reports whether f acts on a database.
func (f *Fault) IsDatabaseFault() bool { return slices.Contains(DatabaseFaultKinds, f.Kind) }

// Stateful expectation kinds; rto with database: measures writes.
const (
	ExpectRPO            = "rpo"             // MaxLost acknowledged writes lost, MaxWindow loss window
	ExpectNoSplitBrain   = "no_split_brain"  // never two servers accepting writes
	ExpectReplicationLag = "replication_lag" // MaxLag over [from, to); not streaming fails
	ExpectBackupRestore  = "backup_restore"  // the backup action's restore holds every write
	ExpectMigration      = "migration"       // a migrate action ran, within bounds, and App's old version kept serving
)

// DatabaseExpectationKinds are the expectation kinds about a database.
var DatabaseExpectationKinds = []string{ExpectRPO, ExpectNoSplitBrain, ExpectReplicationLag, ExpectBackupRestore, ExpectMigration}

// DatabaseNames lists the databases in name order.
func (s *Scenario) DatabaseNames() []string {
	names := make([]string, 0, len(s.Databases))
	for n := range s.Databases {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Database returns the named database, or nil.
func (s *Scenario) Database(name string) *Database {
	if s == nil {
		return nil
	}
	if d, ok := s.Databases[name]; ok && d != nil {
		return d
	}
	return nil
}

// onlyDatabase is the database when there is exactly one ("" otherwise).
func (s *Scenario) onlyDatabase() string {
	if len(s.Databases) == 1 {
		return s.DatabaseNames()[0]
	}
	return ""
}

func (s *Scenario) applyDatabaseDefaults() {
	for name, d := range s.Databases {
		if d == nil {
			continue
		}
		d.Name = name
		setStr(&d.Engine, EnginePostgres)
		setInt(&d.Replicas, 1)
		setStr(&d.Replication, ReplAsync)
		setStr(&d.Failover, FailoverAuto)
		setDur(&d.Detect, DefaultDetect)
		setDur(&d.StartTimeout, DefaultStartTimeout)
	}
	only := s.onlyDatabase()
	if l := s.Ledger; l != nil {
		setStr(&l.Database, only)
		setDur(&l.Timeout, DefaultLedgerTO)
		setInt(&l.Connections, DefaultLedgerConns)
	}
	gate := func(g *LagGate) {
		if g != nil {
			setStr(&g.Database, only)
			setDur(&g.Timeout, DefaultGateTimeout)
		}
	}
	for _, f := range s.Faults {
		if f != nil && f.IsDatabaseFault() {
			setStr(&f.Database, only)
			gate(f.LagGate)
		}
	}
	if s.Rollout != nil {
		for _, st := range s.Rollout.Steps {
			if st != nil {
				gate(st.LagGate)
			}
		}
	}
	for _, e := range s.Expectations {
		if e != nil && slices.Contains(DatabaseExpectationKinds, e.Kind) {
			setStr(&e.Database, only)
		}
		if e != nil && e.Kind == ExpectBackupRestore {
			setDur(&e.MaxWindow, DefaultBackupSlack)
		}
		if e != nil && e.Kind == ExpectMigration && e.App != "" && e.MinAvailability == 0 {
			e.MinAvailability = DefaultMigrationAvail
		}
	}
}

// databaseName is the default name of a database expectation.
func (e *Expectation) databaseName() string {
	switch e.Kind {
	case ExpectRPO:
		s := fmt.Sprintf("rpo of %s: at most %d acknowledged writes lost", e.Database, e.MaxLost)
		if e.MaxWindow > 0 {
			s += ", window <= " + e.MaxWindow.String()
		}
		return s
	case ExpectNoSplitBrain:
		return "no split brain on " + e.Database
	case ExpectReplicationLag:
		return fmt.Sprintf("replication lag of %s <= %s", e.Database, e.MaxLag)
	case ExpectBackupRestore:
		return "backup of " + e.Database + " restores every acknowledged write"
	case ExpectMigration:
		if e.App != "" {
			return fmt.Sprintf("migration %s keeps %s's old version serving", e.Migration, e.App)
		}
		return "migration " + e.Migration + " succeeds"
	}
	return e.Kind
}

// dbTarget says what a database fault acts on, for plans and reports.
func (f *Fault) dbTarget() string {
	switch f.Kind {
	case FaultPartitionReplica, FaultDelayReplication:
		return fmt.Sprintf("database %s replica %d", f.Database, max(f.Replica, 1))
	case ActionPromote:
		if f.Replica > 0 {
			return fmt.Sprintf("database %s replica %d", f.Database, f.Replica)
		}
	}
	return "database " + f.Database + " primary"
}
