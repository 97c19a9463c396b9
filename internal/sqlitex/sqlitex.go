// Package sqlitex holds what otai's two SQLite databases (the local ticket
// store and state.db) need beyond database/sql: switching a new file to
// WAL mode safely when several processes open it at once, and reading
// SQLite result codes out of errors.
package sqlitex

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Code returns the primary SQLite result code in err (for example
// sqlite3.SQLITE_BUSY), or 0 when err does not come from SQLite.
func Code(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

// IsBusy reports whether err is SQLite's "database is locked".
func IsBusy(err error) bool {
	c := Code(err)
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
}

// EnableWAL switches the database to write-ahead logging. The mode is kept
// in the file, so it is set once here rather than per connection in the
// DSN: turning a new file to WAL needs an exclusive lock, and SQLite does
// not call the busy handler for it, so two processes opening a new file at
// once would see "database is locked" straight away. EnableWAL retries that
// for up to wait.
func EnableWAL(ctx context.Context, db *sql.DB, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	pause := 2 * time.Millisecond
	for {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
		if err == nil {
			if !strings.EqualFold(mode, "wal") {
				return fmt.Errorf("switching to WAL mode: SQLite kept journal mode %q", mode)
			}
			return nil
		}
		if !IsBusy(err) || time.Now().After(deadline) {
			return fmt.Errorf("switching to WAL mode: %w", err)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("switching to WAL mode: %w", ctx.Err())
		case <-t.C:
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
}
