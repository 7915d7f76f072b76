package history

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Kinds of audit chain entries.
const (
	kindRun      = "run"
	kindDecision = "decision"
)

// genesis is the previous hash of the chain's first entry.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// decisionCols are a decision's columns after id.
const decisionCols = `kind, scenario, version, file_hash, actor, note, at`

// The chain hashes each record as the database returns it (every column
// read as text), so that what is verified is exactly what was stored,
// whatever the driver does to numbers and times. A migration that adds a
// column to runs, expectations or decisions must add it to these lists
// only for records chained after it, or verify would reject old ones.

// canonical is the stored form of one chained record.
// withSim says the schema has simCols (every caller but the migration to
// schema 3).
func canonical(ctx context.Context, tx queryer, kind string, ref int64, withSim bool) ([]byte, error) {
	var cols, table string
	switch kind {
	case kindRun:
		cols, table = runCols, "runs"
	case kindDecision:
		cols, table = decisionCols, "decisions"
	default:
		return nil, fmt.Errorf("unknown audit entry kind %q", kind)
	}
	rec, err := textRows(ctx, tx, `SELECT `+cols+` FROM `+table+` WHERE id = `+fmt.Sprint(ref))
	if err != nil {
		return nil, err
	}
	if len(rec) != 1 {
		return nil, fmt.Errorf("%s %d is missing (deleted?)", kind, ref)
	}
	doc := map[string]any{"kind": kind, "id": ref, "row": rec[0]}
	if kind == kindRun {
		exps, err := textRows(ctx, tx, `SELECT idx, name, kind, passed, observed, threshold, value, unit
			FROM expectations WHERE run_id = `+fmt.Sprint(ref)+` ORDER BY idx`)
		if err != nil {
			return nil, err
		}
		doc["expectations"] = exps
		if withSim {
			if err := addSim(ctx, tx, doc, ref); err != nil {
				return nil, err
			}
		}
	}
	return json.Marshal(doc)
}

// addSim puts a run's simCols into its document unless they hold their
// defaults (a live run): runs chained before schema 4 hash as they did,
// and any edit of these columns, either way, changes the document.
func addSim(ctx context.Context, tx queryer, doc map[string]any, ref int64) error {
	rows, err := textRows(ctx, tx, `SELECT `+simCols+` FROM runs WHERE id = `+fmt.Sprint(ref))
	if err != nil {
		return err
	}
	if len(rows) != 1 {
		return fmt.Errorf("run %d is missing (deleted?)", ref)
	}
	r := rows[0]
	if str(r[0]) == KindRun && str(r[1]) == "0" && r[2] == nil && r[3] == nil {
		return nil
	}
	doc["sim"] = r
	return nil
}

// queryer is a *sql.Tx or a *sql.DB.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// textRows reads every column of every row as text (NULL as null).
func textRows(ctx context.Context, q queryer, query string) ([][]*string, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]*string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]*string, len(cols))
		for i, v := range vals {
			if v.Valid {
				row[i] = &v.String
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func chainHash(prev string, doc []byte) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write([]byte{'\n'})
	h.Write(doc)
	return hex.EncodeToString(h.Sum(nil))
}

// appendChain adds a record to the end of the chain; the caller's
// transaction holds the append lock.
func (s *Store) appendChain(ctx context.Context, tx *sql.Tx, kind string, ref int64, withSim bool) error {
	prev := genesis
	err := tx.QueryRowContext(ctx, `SELECT hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&prev)
	if err != nil && err != sql.ErrNoRows {
		return fmt.Errorf("read the end of the audit chain in %s: %w", s.where, err)
	}
	doc, err := canonical(ctx, tx, kind, ref, withSim)
	if err != nil {
		return fmt.Errorf("read back %s %d for the audit chain: %w", kind, ref, err)
	}
	_, err = tx.ExecContext(ctx, s.d.q(`INSERT INTO audit (kind, ref, prev_hash, hash) VALUES (?,?,?,?)`),
		kind, ref, prev, chainHash(prev, doc))
	if err != nil {
		return fmt.Errorf("append %s %d to the audit chain in %s: %w", kind, ref, s.where, err)
	}
	return nil
}

// chainUnchained chains the runs recorded before the chain existed (the
// migration to schema 3), in id order.
func chainUnchained(ctx context.Context, s *Store, tx *sql.Tx) error {
	rows, err := textRows(ctx, tx, `SELECT id FROM runs WHERE id NOT IN (SELECT ref FROM audit WHERE kind = 'run') ORDER BY id`)
	if err != nil {
		return err
	}
	for _, r := range rows {
		var id int64
		if _, err := fmt.Sscan(*r[0], &id); err != nil {
			return err
		}
		if err := s.appendChain(ctx, tx, kindRun, id, false); err != nil { // schema 3: no simCols yet
			return err
		}
	}
	return nil
}

// Broken says where the audit chain stops matching what is stored.
type Broken struct {
	Seq    int64
	Kind   string
	Ref    int64
	Reason string
}

func (b *Broken) Error() string {
	if b.Seq == 0 {
		return fmt.Sprintf("%s %d: %s", b.Kind, b.Ref, b.Reason)
	}
	return fmt.Sprintf("audit entry %d (%s %d) no longer matches: %s", b.Seq, b.Kind, b.Ref, b.Reason)
}

// Verify walks the audit chain from its start and returns the number of
// entries that match, and a *Broken error naming the first that does not
// (an edited or deleted record, an edited or removed chain entry), or a
// record that was never chained.
func (s *Store) Verify(ctx context.Context) (int, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: s.d.name == "postgres"})
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", s.where, err)
	}
	defer func() { _ = tx.Rollback() }()
	entries, err := textRows(ctx, tx, `SELECT seq, kind, ref, prev_hash, hash FROM audit ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("read the audit chain of %s: %w", s.where, err)
	}
	prev := genesis
	for i, e := range entries {
		b := &Broken{Kind: str(e[1])}
		_, _ = fmt.Sscan(str(e[0]), &b.Seq)
		_, _ = fmt.Sscan(str(e[2]), &b.Ref)
		if str(e[3]) != prev {
			b.Reason = "its previous hash is not the hash of the entry before it (an entry was removed or edited)"
			return i, b
		}
		doc, err := canonical(ctx, tx, b.Kind, b.Ref, true)
		if err != nil {
			b.Reason = err.Error()
			return i, b
		}
		if chainHash(prev, doc) != str(e[4]) {
			b.Reason = "the stored record was changed after it was recorded"
			return i, b
		}
		prev = str(e[4])
	}
	return len(entries), s.unchained(ctx, tx)
}

// unchained names the first run or decision the chain does not cover.
func (s *Store) unchained(ctx context.Context, tx *sql.Tx) error {
	for _, k := range []struct{ kind, table string }{{kindRun, "runs"}, {kindDecision, "decisions"}} {
		rows, err := textRows(ctx, tx, `SELECT MIN(id) FROM `+k.table+` WHERE id NOT IN (SELECT ref FROM audit WHERE kind = '`+k.kind+`')`)
		if err != nil {
			return fmt.Errorf("read %s of %s: %w", k.table, s.where, err)
		}
		if len(rows) == 1 && rows[0][0] != nil {
			b := &Broken{Kind: k.kind, Reason: "it is not in the audit chain (inserted behind firedrill's back)"}
			_, _ = fmt.Sscan(*rows[0][0], &b.Ref)
			return b
		}
	}
	return nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}
