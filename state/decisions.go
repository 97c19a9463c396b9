package state

import (
	"context"
	"fmt"
	"time"

	"github.com/otai-dev/otai/pipe"
)

// RecordDecision implements pipe.DecisionRecorder. Texts are redacted:
// no secret reaches the decision store.
func (s *Store) RecordDecision(ctx context.Context, d pipe.Decision) error {
	e, err := encodeDecision(d)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO decisions
  (id, at, runner, pipe, ticket_system, ticket_id, subject, label, confidence, predictions, written, changes, outcome, error, dry_run)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT(id) DO UPDATE SET written = excluded.written, changes = excluded.changes, outcome = excluded.outcome, error = excluded.error`,
		d.ID, d.At.UnixNano(), d.Runner, d.Pipe, d.TicketSystem, d.TicketID, e.subject, e.label, e.confidence,
		e.predictions, e.written, e.changes, string(d.Outcome), e.errText, d.DryRun)
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
	Limit        int // newest first; 0: 100, negative: no limit
}

// Decisions lists decisions matching f, newest first.
func (s *Store) Decisions(ctx context.Context, f Filter) ([]pipe.Decision, error) {
	q, args := decisionQuery(f, sqlite)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing decisions: %w", err)
	}
	return scanDecisions(rows)
}
