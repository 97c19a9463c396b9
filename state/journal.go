package state

import (
	"context"
	"fmt"
	"time"
)

// The started table is the for-each's journal (pipes.Journal): a row for
// every ticket work began on and that was not marked processed since. It
// lets the next run resume a ticket otai was killed on, or that failed,
// even when the ticket no longer matches the fetch (its update moved it
// out of the fetched queue before the note was written).

// MarkStarted records that work on key began at t.
func (s *Store) MarkStarted(ctx context.Context, key string, t time.Time) error {
	_, err := s.db.ExecContext(ctx,
		"INSERT INTO started(key, started_at) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET started_at = excluded.started_at",
		key, t.UnixNano())
	if err != nil {
		return fmt.Errorf("recording that %s started: %w", key, err)
	}
	return nil
}

// Unfinished lists the started keys that begin with prefix, oldest first.
func (s *Store) Unfinished(ctx context.Context, prefix string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT key FROM started WHERE substr(key, 1, length(?1)) = ?1 ORDER BY started_at, key", prefix)
	if err != nil {
		return nil, fmt.Errorf("listing unfinished tickets of %s: %w", prefix, err)
	}
	keys, err := scanKeys(rows)
	if err != nil {
		return nil, fmt.Errorf("listing unfinished tickets of %s: %w", prefix, err)
	}
	return keys, nil
}

// Forget drops key's started record.
func (s *Store) Forget(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM started WHERE key = ?", key); err != nil {
		return fmt.Errorf("forgetting that %s started: %w", key, err)
	}
	return nil
}
