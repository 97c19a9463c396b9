package state

import (
	"context"
	"database/sql"
	"errors"
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
// state.db shares. A lease whose holder is a process on this machine
// that is no longer running is taken over at once (pipe.OwnerGone).
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
	if n == 1 {
		return true, nil
	}
	return takeOver(ctx, s.db, key, owner, func(holder string) (sql.Result, error) {
		return s.db.ExecContext(ctx, "UPDATE claims SET owner = ?, expires_at = ? WHERE key = ? AND owner = ?",
			owner, time.Now().Add(ttl).UnixNano(), key, holder)
	}, "SELECT owner FROM claims WHERE key = ?")
}

// takeOver gives key's lease to owner when its holder is a process on
// this machine that is no longer running. swap must move the lease from
// holder to owner only while holder still has it (so that of several
// processes noticing at once, one wins); query reads the holder.
func takeOver(ctx context.Context, db *sql.DB, key, owner string, swap func(holder string) (sql.Result, error), query string) (bool, error) {
	var holder string
	switch err := db.QueryRowContext(ctx, query, key).Scan(&holder); {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil // released meanwhile; the next claim gets it
	case err != nil:
		return false, fmt.Errorf("claiming %s: reading its holder: %w", key, err)
	}
	if !pipe.OwnerGone(holder, owner) {
		return false, nil
	}
	res, err := swap(holder)
	if err != nil {
		return false, fmt.Errorf("claiming %s from %s, which is no longer running: %w", key, holder, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claiming %s from %s, which is no longer running: %w", key, holder, err)
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
