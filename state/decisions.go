package state

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/secret"
)

// RecordDecision implements pipe.DecisionRecorder. Texts are redacted:
// no secret reaches the decision store.
func (s *Store) RecordDecision(ctx context.Context, d pipe.Decision) error {
	preds, err := json.Marshal(d.Predictions)
	if err != nil {
		return fmt.Errorf("encoding predictions of decision %s: %w", d.ID, err)
	}
	written, err := json.Marshal(d.Written)
	if err != nil {
		return fmt.Errorf("encoding write-back of decision %s: %w", d.ID, err)
	}
	changes, err := json.Marshal(d.Changes)
	if err != nil {
		return fmt.Errorf("encoding changes of decision %s: %w", d.ID, err)
	}
	label, conf := d.Label()
	_, err = s.db.ExecContext(ctx, `INSERT INTO decisions
  (id, at, runner, pipe, ticket_system, ticket_id, subject, label, confidence, predictions, written, changes, outcome, error, dry_run)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT(id) DO UPDATE SET written = excluded.written, changes = excluded.changes, outcome = excluded.outcome, error = excluded.error`,
		d.ID, d.At.UnixNano(), d.Runner, d.Pipe, d.TicketSystem, d.TicketID, secret.Redact(d.Subject), label, conf,
		secret.Redact(string(preds)), secret.Redact(string(written)), secret.Redact(string(changes)), string(d.Outcome), secret.Redact(d.Error), d.DryRun)
	if err != nil {
		return fmt.Errorf("recording decision %s for ticket %s: %w", d.ID, d.TicketID, err)
	}
	return nil
}

// Filter selects decisions. Zero fields do not filter.
type Filter struct {
	Since, Until time.Time
	Runner       string
	Outcome      string // succeeded, skipped, failed
	TicketID     string
	DryRun       *bool
	Limit        int // default 100; newest first
}

// Decisions lists decisions matching f, newest first.
func (s *Store) Decisions(ctx context.Context, f Filter) ([]pipe.Decision, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if !f.Since.IsZero() {
		add("at >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		add("at < ?", f.Until.UnixNano())
	}
	if f.Runner != "" {
		add("runner = ?", f.Runner)
	}
	if f.Outcome != "" {
		add("outcome = ?", f.Outcome)
	}
	if f.TicketID != "" {
		add("ticket_id = ?", f.TicketID)
	}
	if f.DryRun != nil {
		add("dry_run = ?", *f.DryRun)
	}
	q := "SELECT id, at, runner, pipe, ticket_system, ticket_id, subject, predictions, written, changes, outcome, error, dry_run FROM decisions"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += " ORDER BY at DESC, id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing decisions: %w", err)
	}
	defer rows.Close()
	var out []pipe.Decision
	for rows.Next() {
		var d pipe.Decision
		var at int64
		var preds, written, changes, outcome string
		if err := rows.Scan(&d.ID, &at, &d.Runner, &d.Pipe, &d.TicketSystem, &d.TicketID, &d.Subject,
			&preds, &written, &changes, &outcome, &d.Error, &d.DryRun); err != nil {
			return nil, fmt.Errorf("reading decision: %w", err)
		}
		d.At = time.Unix(0, at).UTC()
		d.Outcome = pipe.Status(outcome)
		if err := json.Unmarshal([]byte(preds), &d.Predictions); err != nil {
			return nil, fmt.Errorf("decoding predictions of decision %s: %w", d.ID, err)
		}
		if err := json.Unmarshal([]byte(written), &d.Written); err != nil {
			return nil, fmt.Errorf("decoding write-back of decision %s: %w", d.ID, err)
		}
		if err := json.Unmarshal([]byte(changes), &d.Changes); err != nil {
			return nil, fmt.Errorf("decoding changes of decision %s: %w", d.ID, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
