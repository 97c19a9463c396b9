package state

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/secret"
)

// What the SQLite and PostgreSQL stores share: how a decision becomes
// columns and back, how a Filter becomes SQL, and how rows are read. The
// dialects differ only in placeholders and in how a time is stored
// (SQLite: Unix nanoseconds; PostgreSQL: timestamptz).

type dialect struct {
	placeholder func(n int) string // the n-th (1-based) parameter
	time        func(time.Time) any
}

var (
	sqlite = dialect{
		placeholder: func(int) string { return "?" },
		time:        func(t time.Time) any { return t.UnixNano() },
	}
	postgres = dialect{
		placeholder: func(n int) string { return fmt.Sprintf("$%d", n) },
		time:        func(t time.Time) any { return t },
	}
)

// dbTime scans a time stored either way.
type dbTime struct{ time.Time }

func (t *dbTime) Scan(v any) error {
	switch x := v.(type) {
	case int64:
		t.Time = time.Unix(0, x).UTC()
	case time.Time:
		t.Time = x.UTC()
	case nil:
		t.Time = time.Time{}
	default:
		return fmt.Errorf("a time column holds %T", v)
	}
	return nil
}

// encodedDecision is a decision's JSON columns, redacted: no secret
// reaches the decision store.
type encodedDecision struct {
	subject, label, predictions, written, changes, errText string
	confidence                                             float64
}

func encodeDecision(d pipe.Decision) (encodedDecision, error) {
	var e encodedDecision
	for _, c := range []struct {
		what string
		v    any
		dst  *string
	}{{"predictions", d.Predictions, &e.predictions}, {"write-back", d.Written, &e.written}, {"changes", d.Changes, &e.changes}} {
		b, err := json.Marshal(c.v)
		if err != nil {
			return e, fmt.Errorf("encoding %s of decision %s: %w", c.what, d.ID, err)
		}
		*c.dst = secret.Redact(string(b))
	}
	e.label, e.confidence = d.Label()
	e.subject, e.errText = secret.Redact(d.Subject), secret.Redact(d.Error)
	return e, nil
}

// decisionColumns are the columns scanDecisions reads, in order.
const decisionColumns = "id, at, runner, pipe, ticket_system, ticket_id, subject, predictions, written, changes, outcome, error, dry_run"

// decisionQuery is the SELECT of decisions matching f, newest first.
func decisionQuery(f Filter, d dialect) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" "+d.placeholder(len(args)))
	}
	if !f.Since.IsZero() {
		add("at >=", d.time(f.Since))
	}
	if !f.Until.IsZero() {
		add("at <", d.time(f.Until))
	}
	if f.Runner != "" {
		add("runner =", f.Runner)
	}
	if f.Outcome != "" {
		add("outcome =", f.Outcome)
	}
	if f.TicketID != "" {
		add("ticket_id =", f.TicketID)
	}
	if f.DryRun != nil {
		add("dry_run =", *f.DryRun)
	}
	q := "SELECT " + decisionColumns + " FROM decisions"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY at DESC, id DESC"
	if f.Limit < 0 {
		return q, args
	}
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	args = append(args, limit)
	return q + " LIMIT " + d.placeholder(len(args)), args
}

func scanDecisions(rows *sql.Rows) ([]pipe.Decision, error) {
	defer rows.Close()
	var out []pipe.Decision
	for rows.Next() {
		var d pipe.Decision
		var at dbTime
		var preds, written, changes, outcome string
		if err := rows.Scan(&d.ID, &at, &d.Runner, &d.Pipe, &d.TicketSystem, &d.TicketID, &d.Subject,
			&preds, &written, &changes, &outcome, &d.Error, &d.DryRun); err != nil {
			return nil, fmt.Errorf("reading decision: %w", err)
		}
		d.At, d.Outcome = at.Time, pipe.Status(outcome)
		for _, c := range []struct {
			what, src string
			dst       any
		}{{"predictions", preds, &d.Predictions}, {"write-back", written, &d.Written}, {"changes", changes, &d.Changes}} {
			if err := json.Unmarshal([]byte(c.src), c.dst); err != nil {
				return nil, fmt.Errorf("decoding %s of decision %s: %w", c.what, d.ID, err)
			}
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// scanApplied reads (id, at, changes) rows, oldest first, into the newest
// value per field.
func scanApplied(rows *sql.Rows) (map[string]pipe.AppliedChange, error) {
	defer rows.Close()
	out := map[string]pipe.AppliedChange{}
	for rows.Next() {
		var id, changes string
		var at dbTime
		if err := rows.Scan(&id, &at, &changes); err != nil {
			return nil, fmt.Errorf("reading decision: %w", err)
		}
		var cs []pipe.Change
		if err := json.Unmarshal([]byte(changes), &cs); err != nil {
			return nil, fmt.Errorf("decoding changes of decision %s: %w", id, err)
		}
		for _, c := range cs {
			out[c.Field] = pipe.AppliedChange{Change: c, DecisionID: id, At: at.Time}
		}
	}
	return out, rows.Err()
}

const correctionColumns = "decision_id, field, at, runner, ticket_system, ticket_id, otai, agent, subject, body"

// correctionArgs are a correction's values for correctionColumns, redacted.
func correctionArgs(c pipe.Correction, d dialect) []any {
	return []any{c.DecisionID, c.Field, d.time(c.At), c.Runner, c.TicketSystem, c.TicketID, c.Otai, c.Agent,
		secret.Redact(c.Subject), secret.Redact(c.Body)}
}

func scanCorrections(rows *sql.Rows) ([]pipe.Correction, error) {
	defer rows.Close()
	var out []pipe.Correction
	for rows.Next() {
		var c pipe.Correction
		var at dbTime
		if err := rows.Scan(&c.DecisionID, &c.Field, &at, &c.Runner, &c.TicketSystem, &c.TicketID, &c.Otai, &c.Agent, &c.Subject, &c.Body); err != nil {
			return nil, fmt.Errorf("reading correction: %w", err)
		}
		c.At = at.Time
		out = append(out, c)
	}
	return out, rows.Err()
}

// scanKeys reads one string column.
func scanKeys(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// placeholders returns "p1, p2, ..., pn" in d's style.
func placeholders(d dialect, n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = d.placeholder(i + 1)
	}
	return strings.Join(ps, ", ")
}
