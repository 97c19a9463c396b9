// Package state is otai's own memory: which tickets were processed when.
// It lives in SQLite in the data directory (state.db).
package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/otai-dev/otai/internal/sqlitex"
	"github.com/otai-dev/otai/pipe"
	_ "modernc.org/sqlite" // pure-Go SQLite driver, keeps the binary static
)

// Store is the SQLite-backed state store.
type Store struct {
	db   *sql.DB
	path string
}

var (
	_ pipe.Marks            = (*Store)(nil)
	_ pipe.FingerprintMarks = (*Store)(nil)
	_ pipe.DecisionRecorder = (*Store)(nil)
	_ pipe.DecisionHistory  = (*Store)(nil)
	_ pipe.Claims           = (*Store)(nil)
	_ Backend               = (*Store)(nil)
)

const schemaVersion = 7

// Open opens (creating if needed) the state database at path.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("creating state directory: %w", err)
	}
	// WAL mode is set once in migrate (sqlitex.EnableWAL says why not here).
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening state database %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// migrate brings the schema up to date in one write transaction, taken
// (BEGIN IMMEDIATE) before the version is read: processes that open a new
// state.db at once (replicas sharing a data directory) migrate it one
// after the other, and the later ones find nothing left to do.
func (s *Store) migrate(ctx context.Context) error {
	damaged := func(err error) error {
		return fmt.Errorf("reading state database %s: %w (if it is damaged, move it away; otai starts a new one)", s.path, err)
	}
	if err := sqlitex.EnableWAL(ctx, s.db, 10*time.Second); err != nil {
		return damaged(err)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return damaged(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return damaged(err)
	}
	done := false
	defer func() {
		if !done {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	var v int
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return damaged(err)
	}
	if v > schemaVersion {
		return fmt.Errorf("state database %s has schema version %d, newer than this otai understands (%d): upgrade otai", s.path, v, schemaVersion)
	}
	for ; v < schemaVersion; v++ {
		if _, err := conn.ExecContext(ctx, migrations[v]+fmt.Sprintf("\nPRAGMA user_version = %d;", v+1)); err != nil {
			return fmt.Errorf("migrating state database %s to version %d: %w", s.path, v+1, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("migrating state database %s: %w", s.path, err)
	}
	done = true
	return nil
}

// migrations[v] takes the schema from version v to v+1.
var migrations = []string{
	`CREATE TABLE IF NOT EXISTS processed (
  key          TEXT PRIMARY KEY,
  processed_at INTEGER NOT NULL
);`,
	`CREATE TABLE IF NOT EXISTS decisions (
  id            TEXT PRIMARY KEY,
  at            INTEGER NOT NULL,
  runner        TEXT NOT NULL,
  pipe          TEXT NOT NULL,
  ticket_system TEXT NOT NULL,
  ticket_id     TEXT NOT NULL,
  subject       TEXT NOT NULL,
  label         TEXT NOT NULL,
  confidence    REAL NOT NULL,
  predictions   TEXT NOT NULL,
  written       TEXT NOT NULL,
  outcome       TEXT NOT NULL,
  error         TEXT NOT NULL,
  dry_run       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_at ON decisions(at);
CREATE INDEX IF NOT EXISTS decisions_ticket ON decisions(ticket_system, ticket_id);`,
	`ALTER TABLE decisions ADD COLUMN changes TEXT NOT NULL DEFAULT '[]';`,
	`CREATE TABLE IF NOT EXISTS corrections (
  decision_id   TEXT NOT NULL,
  field         TEXT NOT NULL,
  at            INTEGER NOT NULL,
  runner        TEXT NOT NULL,
  ticket_system TEXT NOT NULL,
  ticket_id     TEXT NOT NULL,
  otai          TEXT NOT NULL,
  agent         TEXT NOT NULL,
  subject       TEXT NOT NULL,
  body          TEXT NOT NULL,
  PRIMARY KEY (decision_id, field)
);`,
	`CREATE TABLE IF NOT EXISTS claims (
  key        TEXT PRIMARY KEY,
  owner      TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);`,
	`CREATE TABLE IF NOT EXISTS started (
  key        TEXT PRIMARY KEY,
  started_at INTEGER NOT NULL
);`,
	`ALTER TABLE processed ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';`,
}

// Processed implements pipe.Marks.
func (s *Store) Processed(ctx context.Context, key string) (time.Time, bool, error) {
	m, ok, err := s.ProcessedMark(ctx, key)
	return m.At, ok, err
}

// ProcessedMark implements pipe.FingerprintMarks.
func (s *Store) ProcessedMark(ctx context.Context, key string) (pipe.Mark, bool, error) {
	var ns int64
	var fp string
	err := s.db.QueryRowContext(ctx, "SELECT processed_at, fingerprint FROM processed WHERE key = ?", key).Scan(&ns, &fp)
	if errors.Is(err, sql.ErrNoRows) {
		return pipe.Mark{}, false, nil
	}
	if err != nil {
		return pipe.Mark{}, false, fmt.Errorf("reading processed mark %s: %w", key, err)
	}
	return pipe.Mark{At: time.Unix(0, ns).UTC(), Fingerprint: fp}, true, nil
}

// MarkProcessed implements pipe.Marks.
func (s *Store) MarkProcessed(ctx context.Context, key string, t time.Time) error {
	return s.MarkProcessedAs(ctx, key, pipe.Mark{At: t})
}

// MarkProcessedAs implements pipe.FingerprintMarks.
func (s *Store) MarkProcessedAs(ctx context.Context, key string, m pipe.Mark) error {
	_, err := s.db.ExecContext(ctx,
		"INSERT INTO processed(key, processed_at, fingerprint) VALUES(?, ?, ?) ON CONFLICT(key) DO UPDATE SET processed_at = excluded.processed_at, fingerprint = excluded.fingerprint",
		key, m.At.UnixNano(), m.Fingerprint)
	if err != nil {
		return fmt.Errorf("recording processed mark %s: %w", key, err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }
