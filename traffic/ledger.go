package traffic

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// DefaultLedgerTable is the table the ledger writes to.
const DefaultLedgerTable = "firedrill_ledger"

// LedgerConfig is an open-loop stream of writes with unique ids, each one
// recorded as acknowledged, failed or unknown, so that a final read after
// recovery can tell which acknowledged writes were lost.
type LedgerConfig struct {
	// ConnString reaches the database, normally through its Toxiproxy
	// client proxy (libpq key=value or URL form).
	ConnString string
	// Rate is writes per second; Duration how long they are sent.
	Rate     float64
	Duration time.Duration
	// Timeout bounds one write from its intended instant (default 1s); a
	// write sent and not answered within it is unknown.
	Timeout time.Duration
	// Conns is the number of connections (default 4): a pool, as an
	// application would have. A write that finds none free within its
	// timeout failed without being sent.
	Conns int
	// Table (default firedrill_ledger) must exist; see PrepareLedger.
	Table string
}

func (c LedgerConfig) withDefaults() LedgerConfig {
	if c.Timeout <= 0 {
		c.Timeout = time.Second
	}
	if c.Conns <= 0 {
		c.Conns = 4
	}
	if c.Table == "" {
		c.Table = DefaultLedgerTable
	}
	return c
}

var tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func (c LedgerConfig) validate() error {
	switch {
	case c.ConnString == "":
		return errors.New("ledger: ConnString is empty; give the database's address")
	case !(c.Rate > 0):
		return fmt.Errorf("ledger: rate %v must be above 0 writes per second", c.Rate)
	case c.Duration <= 0:
		return fmt.Errorf("ledger: duration %s must be above 0", c.Duration)
	case !tableName.MatchString(c.Table):
		return fmt.Errorf("ledger: table %q: use lower-case letters, digits and '_'", c.Table)
	}
	return nil
}

// WriteStatus is what the client learnt about a write.
type WriteStatus uint8

const (
	// WriteAcked: the commit was acknowledged; it must survive.
	WriteAcked WriteStatus = iota + 1
	// WriteFailed: definitely not committed (never sent, or refused).
	WriteFailed
	// WriteUnknown: sent, and the answer never came (timeout, cut
	// connection): it may or may not have committed.
	WriteUnknown
)

func (s WriteStatus) String() string {
	switch s {
	case WriteAcked:
		return "acknowledged"
	case WriteFailed:
		return "failed"
	case WriteUnknown:
		return "unknown"
	}
	return "pending"
}

// Write is one ledger write.
type Write struct {
	ID int64
	// At is the intended instant, Done when the outcome was known, both
	// from the ledger's start.
	At, Done time.Duration
	Status   WriteStatus
	// Instance is the server that acknowledged it (its cluster_name).
	Instance string
	Err      string
}

// Ledger sends the writes of one LedgerConfig. Create it with StartLedger.
type Ledger struct {
	cfg   LedgerConfig
	conn  *pgx.ConnConfig
	start time.Time
	ctx   context.Context
	slots chan *slot
	// dials bounds the slots' connection attempts; Wait ends those that
	// no write will use.
	dials     context.Context
	stopDials context.CancelFunc

	mu     sync.Mutex
	writes []Write
	wg     sync.WaitGroup
	done   chan struct{}
}

// slot is one pooled connection (nil until first use or after a failure).
// Only the write holding the slot touches it.
type slot struct {
	conn *pgx.Conn
	// dial is a connection being made for the slot, nil when none: it
	// outlives the write that started it, as a pool's dial would, so that a
	// server slower to accept than one write's timeout is still reached.
	dial chan dialed
}

type dialed struct {
	conn *pgx.Conn
	err  error
}

// dialTimeout bounds one connection attempt, whatever the writes' timeout.
const dialTimeout = 10 * time.Second

// StartLedger starts sending writes on cfg's schedule from start (write i
// is due at start + i/Rate) until Duration has passed or ctx ends.
func StartLedger(ctx context.Context, cfg LedgerConfig, start time.Time) (*Ledger, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cc, err := ledgerConnConfig(cfg.ConnString)
	if err != nil {
		return nil, err
	}
	l := &Ledger{cfg: cfg, conn: cc, start: start, ctx: ctx, slots: make(chan *slot, cfg.Conns), done: make(chan struct{})}
	l.dials, l.stopDials = context.WithCancel(ctx)
	for range cfg.Conns {
		l.slots <- &slot{}
	}
	go l.schedule()
	return l, nil
}

func ledgerConnConfig(s string) (*pgx.ConnConfig, error) {
	cc, err := pgx.ParseConfig(s)
	if err != nil {
		return nil, fmt.Errorf("ledger: parse connection string: %w", err)
	}
	// An expired write cuts its socket instead of sending a cancel request:
	// a cancel during a synchronous-replication wait commits locally and
	// reports success, which would turn a timeout into an acknowledgement.
	cc.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	cc.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol // one round trip per write
	return cc, nil
}

func (l *Ledger) schedule() {
	defer close(l.done)
	p := pacer{rate: l.cfg.Rate}
	n := p.count(l.cfg.Duration)
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i := range n {
		at := l.start.Add(p.offset(i))
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-l.ctx.Done():
				return
			case <-timer.C:
			}
		} else if l.ctx.Err() != nil {
			return
		}
		l.wg.Add(1)
		go l.write(i+1, at)
	}
}

// Wait blocks until every write has its outcome and returns them by id.
func (l *Ledger) Wait() []Write {
	<-l.done
	l.wg.Wait()
	l.stopDials() // no write is left to use a connection still being made
	for range l.cfg.Conns {
		s := <-l.slots
		if s.dial != nil { // a connection nobody waits for any more
			if d := <-s.dial; d.err == nil {
				s.conn = d.conn
			}
		}
		if s.conn != nil {
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = s.conn.Close(cctx)
			cancel()
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.writes)
	slices.SortFunc(out, func(a, b Write) int { return int(a.ID - b.ID) })
	return out
}

func (l *Ledger) write(id int64, at time.Time) {
	defer l.wg.Done()
	w := Write{ID: id, At: at.Sub(l.start)}
	w.Status, w.Instance, w.Err = l.attempt(id, at)
	w.Done = time.Since(l.start)
	l.mu.Lock()
	l.writes = append(l.writes, w)
	l.mu.Unlock()
}

func (l *Ledger) attempt(id int64, at time.Time) (WriteStatus, string, string) {
	ctx, cancel := context.WithDeadline(l.ctx, at.Add(l.cfg.Timeout))
	defer cancel()
	var s *slot
	select {
	case s = <-l.slots:
	case <-ctx.Done():
		return WriteFailed, "", "no free connection within the timeout: not sent"
	}
	defer func() { l.slots <- s }()
	if s.conn != nil && s.conn.IsClosed() {
		s.conn = nil // cut while idle: a fresh one, so that a closed conn below means cut mid-write
	}
	if s.conn == nil {
		if err := l.connect(ctx, s); err != nil {
			return WriteFailed, "", err.Error()
		}
	}
	var inst string
	err := s.conn.QueryRow(ctx, "INSERT INTO "+l.cfg.Table+" (id, node) VALUES ($1, current_setting('cluster_name')) RETURNING node", id).Scan(&inst)
	if err == nil {
		return WriteAcked, inst, ""
	}
	status := classifyWrite(err)
	if status == WriteUnknown || s.conn.IsClosed() {
		closeCtx, cc := context.WithTimeout(context.WithoutCancel(ctx), 100*time.Millisecond)
		_ = s.conn.Close(closeCtx)
		cc()
		s.conn = nil
	}
	return status, "", err.Error()
}

// connect waits, until ctx ends, for the slot's connection: the one being
// made, or a new one. A dial that ctx cut short goes on for the next write.
func (l *Ledger) connect(ctx context.Context, s *slot) error {
	if s.dial == nil {
		ch := make(chan dialed, 1)
		s.dial = ch
		go func() {
			dctx, cancel := context.WithTimeout(l.dials, dialTimeout)
			defer cancel()
			c, err := pgx.ConnectConfig(dctx, l.conn)
			ch <- dialed{c, err}
		}()
	}
	select {
	case d := <-s.dial:
		s.dial = nil
		if d.err != nil {
			return fmt.Errorf("connect: %w", d.err)
		}
		s.conn = d.conn
		return nil
	case <-ctx.Done():
		return errors.New("no connection within the timeout (still connecting): not sent")
	}
}

// classifyWrite tells a write that certainly did not commit from one that may
// have. A server error ends the transaction without a commit, except those
// that end the connection (classes 08, 57, XX: the server may have committed
// and then gone away, e.g. a shutdown during a synchronous-replication wait).
func classifyWrite(err error) WriteStatus {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code[:2] {
		case "08", "57", "XX":
			return WriteUnknown
		}
		return WriteFailed
	}
	// pgconn calls a connection found closed while waiting for the answer
	// "safe to retry", yet the write was sent by then: the connection was
	// open when the write began (attempt checks), so it was cut mid-write.
	if errors.Is(err, pgconn.ErrConnClosed) {
		return WriteUnknown
	}
	if pgconn.SafeToRetry(err) {
		return WriteFailed // nothing reached the server
	}
	return WriteUnknown
}
