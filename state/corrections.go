package state

import (
	"context"
	"fmt"
	"time"

	"github.com/otai-dev/otai/pipe"
)

// Applied implements pipe.DecisionHistory: the newest value otai wrote per
// field of a ticket, from its non-dry-run decisions of any outcome. A
// decision's changes are those of update steps that succeeded
// (pipe.DecisionOf), so a failed decision whose update went through and
// whose note then failed still tells what otai wrote.
func (s *Store) Applied(ctx context.Context, ticketSystem, ticketID string) (map[string]pipe.AppliedChange, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, changes FROM decisions
  WHERE ticket_system = ? AND ticket_id = ? AND dry_run = 0 AND changes != '[]'
  ORDER BY at ASC, id ASC`, ticketSystem, ticketID)
	if err != nil {
		return nil, fmt.Errorf("reading decisions of ticket %s: %w", ticketID, err)
	}
	return scanApplied(rows)
}

// RecordCorrection implements pipe.DecisionHistory. A correction is kept
// once per decision and field.
func (s *Store) RecordCorrection(ctx context.Context, c pipe.Correction) error {
	_, err := s.db.ExecContext(ctx, "INSERT INTO corrections ("+correctionColumns+") VALUES ("+placeholders(sqlite, 10)+
		") ON CONFLICT(decision_id, field) DO NOTHING", correctionArgs(c, sqlite)...)
	if err != nil {
		return fmt.Errorf("recording a correction of ticket %s: %w", c.TicketID, err)
	}
	return nil
}

// Corrections lists corrections, oldest first; field "" means all.
func (s *Store) Corrections(ctx context.Context, field string, since time.Time) ([]pipe.Correction, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+correctionColumns+
		" FROM corrections WHERE (? = '' OR field = ?) AND at >= ? ORDER BY at ASC", field, field, since.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("listing corrections: %w", err)
	}
	return scanCorrections(rows)
}
