package scenarios

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
)

// MaxDatabaseReplicas bounds replicas: each is a PostgreSQL server on the
// harness's machine.
const MaxDatabaseReplicas = 5

var settingName = regexp.MustCompile(`^[a-z_][a-z0-9_.]*$`)

// databases checks the databases and the ledger.
func (c *checker) databases() {
	for _, name := range c.s.DatabaseNames() {
		d := c.s.Databases[name]
		p := child("databases", name)
		if d == nil {
			c.atKey(p, "is empty; write e.g. %s: {engine: postgres, replicas: 1}", name)
			continue
		}
		c.database(name, d, p)
	}
	c.ledger()
}

func (c *checker) database(name string, d *Database, p string) {
	if !serviceName.MatchString(name) {
		c.atKey(p, "database name %q: use lower-case letters, digits, '-' and '_', starting with a letter (it names servers and proxies)", name)
	}
	if c.lookup(name) != nil {
		c.atKey(p, "%q is also a service; give the database another name", name)
	}
	c.oneOf(p+".engine", d.Engine, Engines, "engine")
	if d.Replicas < 0 || d.Replicas > MaxDatabaseReplicas {
		c.at(p+".replicas", "must be 0 to %d streaming replicas, not %d", MaxDatabaseReplicas, d.Replicas)
	}
	if c.oneOf(p+".replication", d.Replication, Replications, "replication") && d.Replication == ReplSync && d.Replicas == 0 {
		c.at(p+".replication", "sync needs a replica to confirm commits; add replicas: 1 or write replication: async")
	}
	if c.oneOf(p+".failover", d.Failover, FailoverModes, "failover mode") {
		if (d.Failover == FailoverAuto || d.Failover == FailoverExternal) && d.Replicas == 0 && c.hasFaultOn(name, FaultKillPrimary, FaultPausePrimary) {
			c.at(p+".failover", "%s failover needs a replica to promote; add replicas: 1 or write failover: none", d.Failover)
		}
		switch {
		case d.Failover == FailoverExternal && len(d.FailoverCommand) == 0:
			c.at(p+".failover_command", "failover: external runs your failover tool; write failover_command: [program, args...]")
		case d.Failover != FailoverExternal && len(d.FailoverCommand) > 0:
			c.at(p+".failover_command", "only failover: external runs a command; remove it or write failover: external")
		case len(d.FailoverCommand) > 0:
			c.program(p+".failover_command[0]", d.FailoverCommand[0])
		}
	}
	if d.Detect <= 0 {
		c.at(p+".detect", "must be greater than 0 (how long the primary must be unreachable before failover); write e.g. detect: 1s")
	}
	if d.StartTimeout <= 0 {
		c.at(p+".start_timeout", "must be greater than 0; write e.g. start_timeout: 30s")
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range d.Settings {
			if !yield(k) {
				return
			}
		}
	}) {
		if !settingName.MatchString(k) {
			c.at(child(p+".settings", k), "%q is not a PostgreSQL setting name; use lower-case letters, digits and '_'", k)
		}
	}
}

func (c *checker) hasFaultOn(db string, kinds ...string) bool {
	for _, f := range c.s.Faults {
		if f != nil && f.Database == db && slices.Contains(kinds, f.Kind) {
			return true
		}
	}
	return false
}

// dbRef checks that name is a database.
func (c *checker) dbRef(path, name string) bool {
	names := c.s.DatabaseNames()
	switch {
	case len(names) == 0:
		c.at(path, "there are no databases; add databases: {db: {engine: postgres}}")
		return false
	case name == "":
		c.at(path, "is missing; there are %d databases, name one: %s", len(names), strings.Join(names, ", "))
		return false
	case c.s.Database(name) == nil:
		c.at(path, "no database named %q; %s", name, c.didYouMean(name, names, "databases are"))
		return false
	}
	return true
}

func (c *checker) ledger() {
	l := c.s.Ledger
	if l == nil {
		return
	}
	c.dbRef("ledger.database", l.Database)
	if !(l.Rate > 0) || l.Rate > 1000 {
		c.at("ledger.rate", "must be above 0 and at most 1000 writes per second; write e.g. rate: 50")
	}
	if l.Timeout <= 0 {
		c.at("ledger.timeout", "must be greater than 0; write e.g. timeout: 1s")
	}
	if l.Connections < 1 || l.Connections > 40 {
		c.at("ledger.connections", "must be 1 to 40, not %d", l.Connections)
	}
}

// databaseFault checks a database fault or action; it reports whether f was
// one (then the generic fault checks do not apply). An edge fault on a
// service -> database edge is refused here too.
func (c *checker) databaseFault(f *Fault, p string) bool {
	if f.IsEdgeFault() {
		if _, to := f.EdgeEnds(); c.s.Database(to) != nil {
			c.at(p+".edge", "%s is a database edge: its proxy lives with the database; use delay_replication, partition_replica, "+
				"kill_primary or pause_primary with database: %s", f.Edge, to)
			return true
		}
		return false
	}
	if !f.IsDatabaseFault() {
		if f.Database != "" {
			c.at(p+".database", "%s acts on a service; database applies to %s", f.Kind, strings.Join(DatabaseFaultKinds, ", "))
		}
		return false
	}
	ok := c.dbRef(p+".database", f.Database)
	for _, a := range []faultAttr{
		{"edge", f.Edge != "", nil}, {"service", f.Service != "", nil}, {"instance", f.Instance != 0, nil},
		{"version", f.Version != "", nil}, {"direction", f.Direction != "", nil}, {"toxicity", f.Toxicity != 0, nil},
		{"delay", f.Delay != 0, nil}, {"timeout", f.Timeout != 0, nil}, {"bytes", f.Bytes != 0, nil},
		{"average_size", f.AverageSize != 0, nil}, {"size_variation", f.SizeVariation != 0, nil},
		{"restart_after", f.RestartAfter != 0, nil},
		{"latency", f.Latency != 0, []string{FaultDelayReplication}},
		{"jitter", f.Jitter != 0, []string{FaultDelayReplication}},
		{"rate_kbps", f.RateKBps != 0, []string{FaultDelayReplication}},
		{"replica", f.Replica != 0, []string{FaultPartitionReplica, FaultDelayReplication, ActionPromote}},
		{"lag_gate", f.LagGate != nil, []string{ActionPromote}},
		{"sql", f.SQL != "", []string{ActionMigrate}},
		{"verify_sql", f.VerifySQL != "", []string{ActionMigrate}},
	} {
		if a.set && !slices.Contains(a.kinds, f.Kind) {
			c.at(p+"."+a.key, "does not apply to %s; remove it", f.Kind)
		}
	}
	var d *Database
	if ok {
		d = c.s.Database(f.Database)
	}
	switch f.Kind {
	case FaultPausePrimary, FaultPartitionReplica, FaultDelayReplication:
		if f.Duration <= 0 {
			c.at(p+".duration", "is missing; write how long the fault lasts, e.g. duration: 5s")
		}
	case FaultKillPrimary:
		// duration is optional: with it the server comes back after it.
	default: // actions happen at an instant
		if f.Duration != 0 {
			c.at(p+".duration", "%s is an action, it has no duration; remove it", f.Kind)
		}
	}
	if f.Kind == ActionMigrate && strings.TrimSpace(f.SQL) == "" {
		c.at(p+".sql", "migrate needs sql, the migration step to run, e.g. sql: ALTER TABLE orders ADD COLUMN customer text")
	}
	if f.Kind == FaultDelayReplication && f.Latency <= 0 && f.RateKBps <= 0 {
		c.at(p+".latency", "delay_replication needs latency (e.g. latency: 1s) or rate_kbps (a throttle), or both")
	}
	if f.RateKBps < 0 {
		c.at(p+".rate_kbps", "must be greater than 0 (KB/s allowed through), not %d", f.RateKBps)
	}
	if d != nil {
		needReplica := f.Kind == FaultPartitionReplica || f.Kind == FaultDelayReplication || f.Kind == ActionPromote
		switch {
		case f.Replica < 0 || f.Replica > d.Replicas:
			c.at(p+".replica", "%s has replicas 1 to %d; replica %d does not exist", f.Database, d.Replicas, f.Replica)
		case needReplica && d.Replicas == 0:
			c.at(p+".kind", "%s needs a replica and %s has none; add replicas: 1", f.Kind, f.Database)
		}
	}
	c.lagGate(f.LagGate, p+".lag_gate")
	switch {
	case f.Step < 0:
		c.at(p+".step", "must be 1 or more (the rollout step whose start at counts from), not %d", f.Step)
	case f.Step > 0 && c.s.Rollout == nil:
		c.at(p+".step", "counts from a rollout step, but there is no rollout; remove step to count at from traffic start")
	case f.Step == 0 && c.s.Traffic.Duration > 0 && f.At >= c.s.Traffic.Duration:
		c.at(p+".at", "%s is not before the end of traffic (%s); it would never happen", f.At, c.s.Traffic.Duration)
	}
	return true
}

// lagGate checks a lag gate (nil: none).
func (c *checker) lagGate(g *LagGate, p string) {
	if g == nil {
		return
	}
	if c.dbRef(p+".database", g.Database) && c.s.Database(g.Database).Replicas == 0 {
		c.at(p+".database", "%s has no replicas, so it has no replication lag to wait for", g.Database)
	}
	if g.MaxLag <= 0 {
		c.at(p+".max_lag", "must be greater than 0 (the replay lag every replica must be under); write e.g. max_lag: 1s")
	}
	if g.MaxLagBytes < 0 {
		c.at(p+".max_lag_bytes", "must be 0 (unchecked) or more, not %d", g.MaxLagBytes)
	}
	if g.Timeout <= 0 {
		c.at(p+".timeout", "must be greater than 0 (how long to wait before failing); write e.g. timeout: 10s")
	}
}

// lagGates checks the rollout steps' lag gates.
func (c *checker) lagGates() {
	if c.s.Rollout == nil {
		return
	}
	for i, st := range c.s.Rollout.Steps {
		if st != nil {
			c.lagGate(st.LagGate, fmt.Sprintf("rollout.steps[%d].lag_gate", i))
		}
	}
}

// databaseExpectation checks the keys of database expectations (and rto
// with database); other kinds must not use them.
func (c *checker) databaseExpectation(e *Expectation, p string) {
	dbKinds := DatabaseExpectationKinds
	for _, a := range []faultAttr{
		{"database", e.Database != "", append(slices.Clone(dbKinds), ExpectRTO)},
		{"max_lost", e.MaxLost != 0, []string{ExpectRPO}},
		{"max_window", e.MaxWindow != 0, []string{ExpectRPO, ExpectBackupRestore}},
		{"max_lag", e.MaxLag != 0, []string{ExpectReplicationLag}},
		{"max_lag_bytes", e.MaxLagBytes != 0, []string{ExpectReplicationLag}},
		{"migration", e.Migration != "", []string{ExpectMigration}},
		{"app", e.App != "", []string{ExpectMigration}},
		{"min_availability", e.MinAvailability != 0, []string{ExpectMigration}},
		{"max_duration", e.MaxDuration != 0, []string{ExpectMigration}},
		{"max_lock_wait", e.MaxLockWait != 0, []string{ExpectMigration}},
	} {
		if a.set && !slices.Contains(a.kinds, e.Kind) {
			c.at(p+"."+a.key, "applies to %s expectations, not %s; remove it", strings.Join(a.kinds, ", "), e.Kind)
		}
	}
	if !slices.Contains(dbKinds, e.Kind) && !(e.Kind == ExpectRTO && e.Database != "") {
		return
	}
	if !c.dbRef(p+".database", e.Database) {
		return
	}
	needsLedger := e.Kind == ExpectRPO || e.Kind == ExpectRTO || e.Kind == ExpectBackupRestore
	if needsLedger && (c.s.Ledger == nil || c.s.Ledger.Database != e.Database) {
		c.at(p+".kind", "%s is judged on the write ledger; add ledger: {database: %s, rate: 50}", e.Kind, e.Database)
	}
	switch e.Kind {
	case ExpectRPO:
		if e.MaxLost < 0 {
			c.at(p+".max_lost", "must be 0 or more acknowledged writes, not %d", e.MaxLost)
		}
		if e.From != 0 || e.To != 0 {
			c.noWindow(e, p, "rpo is judged on the final read of every write")
		}
	case ExpectReplicationLag:
		if e.MaxLag <= 0 {
			c.at(p+".max_lag", "replication_lag needs max_lag, the highest replay lag allowed; write e.g. max_lag: 1s")
		}
		if e.MaxLagBytes < 0 {
			c.at(p+".max_lag_bytes", "must be 0 (unchecked) or more, not %d", e.MaxLagBytes)
		}
		if d := c.s.Database(e.Database); d.Replicas == 0 {
			c.at(p+".database", "%s has no replicas, so it has no replication lag", e.Database)
		}
	case ExpectBackupRestore:
		if !c.hasFaultOn(e.Database, ActionBackup) {
			c.at(p+".kind", "backup_restore judges a backup action; add a fault {kind: backup, database: %s, at: 10s}", e.Database)
		}
	case ExpectMigration:
		c.migrationExpectation(e, p)
	case ExpectRTO:
		if e.Service != "" {
			c.at(p+".service", "rto with database measures the ledger's writes, not a service; remove service or database")
		}
		for _, f := range c.s.Faults {
			if ok, _ := path.Match(e.Fault, f.Name); f != nil && ok && !f.IsDatabaseFault() {
				c.at(p+".fault", "%s is not a database fault; rto with database measures from kill_primary, pause_primary, ... ", f.Name)
				break
			}
		}
	}
}

func (c *checker) migrationExpectation(e *Expectation, p string) {
	var names []string
	found := false
	for _, f := range c.s.Faults {
		if f != nil && f.Kind == ActionMigrate {
			names = append(names, f.Name)
			found = found || (f.Name == e.Migration && f.Database == e.Database)
		}
	}
	switch {
	case e.Migration == "":
		c.at(p+".migration", "is missing; name the migrate action to judge (%s)", strings.Join(names, ", "))
	case !found:
		c.at(p+".migration", "no migrate action of %s is named %q; %s", e.Database, e.Migration, c.didYouMean(e.Migration, names, "migrate actions are"))
	}
	if e.App != "" {
		c.serviceRef(p+".app", e.App, "app: api, the service whose old version must keep serving")
		if !(e.MinAvailability > 0 && e.MinAvailability <= 1) {
			c.at(p+".min_availability", "%v is not a success ratio; write a value above 0 and at most 1, e.g. 0.99", e.MinAvailability)
		}
	} else if e.MinAvailability != 0 {
		c.at(p+".min_availability", "judges app's old version; add app: or remove it")
	}
	c.noWindow(e, p, "migration is judged from the migration to the end of the run")
}
