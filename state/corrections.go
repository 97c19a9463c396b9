package state

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/secret"
)

// Applied implements pipe.DecisionHistory: the newest value otai wrote per
// field of a ticket, from its succeeded, non-dry-run decisions.
func (s *Store) Applied(ctx context.Context, ticketSystem, ticketID string) (map[string]pipe.AppliedChange, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, changes FROM decisions
  WHERE ticket_system = ? AND ticket_id = ? AND dry_run = 0 AND outcome = 'succeeded' AND changes != '[]'
  ORDER BY at ASC, id ASC`, ticketSystem, ticketID)
	if err != nil {
		return nil, fmt.Errorf("reading decisions of ticket %s: %w", ticketID, err)
	}
	defer rows.Close()
	out := map[string]pipe.AppliedChange{}
	for rows.Next() {
		var id, changes string
		var at int64
		if err := rows.Scan(&id, &at, &changes); err != nil {
			return nil, fmt.Errorf("reading decision: %w", err)
		}
		var cs []pipe.Change
		if err := json.Unmarshal([]byte(changes), &cs); err != nil {
			return nil, fmt.Errorf("decoding changes of decision %s: %w", id, err)
		}
		for _, c := range cs {
			out[c.Field] = pipe.AppliedChange{Change: c, DecisionID: id, At: time.Unix(0, at).UTC()}
		}
	}
	return out, rows.Err()
}

// RecordCorrection implements pipe.DecisionHistory. A correction is kept
// once per decision and field.
func (s *Store) RecordCorrection(ctx context.Context, c pipe.Correction) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO corrections
  (decision_id, field, at, runner, ticket_system, ticket_id, otai, agent, subject, body)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(decision_id, field) DO NOTHING`,
		c.DecisionID, c.Field, c.At.UnixNano(), c.Runner, c.TicketSystem, c.TicketID, c.Otai, c.Agent,
		secret.Redact(c.Subject), secret.Redact(c.Body))
	if err != nil {
		return fmt.Errorf("recording a correction of ticket %s: %w", c.TicketID, err)
	}
	return nil
}

// Corrections lists corrections, oldest first; field "" means all.
func (s *Store) Corrections(ctx context.Context, field string, since time.Time) ([]pipe.Correction, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT decision_id, field, at, runner, ticket_system, ticket_id, otai, agent, subject, body
  FROM corrections WHERE (? = '' OR field = ?) AND at >= ? ORDER BY at ASC`, field, field, since.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("listing corrections: %w", err)
	}
	defer rows.Close()
	var out []pipe.Correction
	for rows.Next() {
		var c pipe.Correction
		var at int64
		if err := rows.Scan(&c.DecisionID, &c.Field, &at, &c.Runner, &c.TicketSystem, &c.TicketID, &c.Otai, &c.Agent, &c.Subject, &c.Body); err != nil {
			return nil, fmt.Errorf("reading correction: %w", err)
		}
		c.At = time.Unix(0, at).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}
