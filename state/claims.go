package state

import (
	"context"
	"fmt"
	"time"

	"github.com/otai-dev/otai/pipe"
)

// Backend is what otai keeps in a state store: processed marks, decisions,
// corrections and the leases replicas split the work with. The SQLite
// Store (state.db in the data directory, the default) and the
// PostgresStore (when OTAI_STATE_DSN is set) both provide it.
type Backend interface {
	pipe.Marks
	pipe.DecisionRecorder
	pipe.DecisionHistory
	pipe.Claims
	// Decisions lists decisions matching f, newest first.
	Decisions(ctx context.Context, f Filter) ([]pipe.Decision, error)
	// Corrections lists corrections, oldest first; field "" means all.
	Corrections(ctx context.Context, field string, since time.Time) ([]pipe.Correction, error)
	Close() error
}

// Claim implements pipe.Claims with one atomic upsert: the row is written
// when there is none, when its lease has expired, or when owner holds it
// already (a renewal); otherwise nothing changes and the claim fails.
// Expiry is judged by this host's clock, which every process sharing a
// state.db shares.
func (s *Store) Claim(ctx context.Context, key, owner string, ttl time.Duration) (bool, error) {
	now := time.Now()
	res, err := s.db.ExecContext(ctx, `INSERT INTO claims(key, owner, expires_at) VALUES(?, ?, ?)
  ON CONFLICT(key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
  WHERE claims.expires_at < ? OR claims.owner = excluded.owner`,
		key, owner, now.Add(ttl).UnixNano(), now.UnixNano())
	if err != nil {
		return false, fmt.Errorf("claiming %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claiming %s: %w", key, err)
	}
	return n == 1, nil
}

// Release implements pipe.Claims.
func (s *Store) Release(ctx context.Context, key, owner string) error {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM claims WHERE key = ? AND owner = ?", key, owner); err != nil {
		return fmt.Errorf("releasing %s: %w", key, err)
	}
	return nil
}
