package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/secret"
)

// PostgresStore keeps otai's state in PostgreSQL, so that several otai
// processes (replicas) share it: processed marks, decisions, corrections
// and the leases with which they split the work. Texts are redacted as in
// the SQLite Store.
//
// Leases are rows of the claims table written by one atomic upsert that
// succeeds only when the row is missing, expired or already the caller's;
// expiry is judged by the database server's clock (now()), so replicas
// with skewed clocks still agree. Row locks (SELECT ... FOR UPDATE SKIP
// LOCKED) were the alternative; they were not used because a lock lives
// only as long as its transaction: every ticket in flight would pin a
// connection in an open transaction across the help desk's HTTP calls and
// the model, and a process that hangs without dying would hold its
// tickets forever. A lease that runs out needs neither.
type PostgresStore struct {
	db    *sql.DB
	owner string
}

var (
	_ Backend               = (*PostgresStore)(nil)
	_ pipe.Marks            = (*PostgresStore)(nil)
	_ pipe.DecisionRecorder = (*PostgresStore)(nil)
	_ pipe.DecisionHistory  = (*PostgresStore)(nil)
	_ pipe.Claims           = (*PostgresStore)(nil)
	_ pipe.FingerprintMarks = (*PostgresStore)(nil)
)

// pgMigrations[v] takes the PostgreSQL schema from version v to v+1; the
// version is kept in the schema_version table.
var pgMigrations = []string{
	`CREATE TABLE processed (
  key          TEXT PRIMARY KEY,
  processed_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE decisions (
  id            TEXT PRIMARY KEY,
  at            TIMESTAMPTZ NOT NULL,
  owner         TEXT NOT NULL,
  runner        TEXT NOT NULL,
  pipe          TEXT NOT NULL,
  ticket_system TEXT NOT NULL,
  ticket_id     TEXT NOT NULL,
  subject       TEXT NOT NULL,
  label         TEXT NOT NULL,
  confidence    DOUBLE PRECISION NOT NULL,
  predictions   TEXT NOT NULL,
  written       TEXT NOT NULL,
  changes       TEXT NOT NULL DEFAULT '[]',
  outcome       TEXT NOT NULL,
  error         TEXT NOT NULL,
  dry_run       BOOLEAN NOT NULL
);
CREATE INDEX decisions_at ON decisions(at);
CREATE INDEX decisions_ticket ON decisions(ticket_system, ticket_id);
CREATE TABLE corrections (
  decision_id   TEXT NOT NULL,
  field         TEXT NOT NULL,
  at            TIMESTAMPTZ NOT NULL,
  runner        TEXT NOT NULL,
  ticket_system TEXT NOT NULL,
  ticket_id     TEXT NOT NULL,
  otai          TEXT NOT NULL,
  agent         TEXT NOT NULL,
  subject       TEXT NOT NULL,
  body          TEXT NOT NULL,
  PRIMARY KEY (decision_id, field)
);
CREATE TABLE claims (
  key        TEXT PRIMARY KEY,
  owner      TEXT NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL
);`,
	`CREATE TABLE started (
  key        TEXT PRIMARY KEY,
  started_at TIMESTAMPTZ NOT NULL
);`,
	`ALTER TABLE processed ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';`,
}

// pgLockKey serialises migrations of replicas that start at once
// (pg_advisory_xact_lock; "otai" in ASCII).
const pgLockKey = 0x6f746169

// OpenPostgres connects to the PostgreSQL database dsn (a URL,
// postgres://user@host:5432/db?sslmode=..., or key=value pairs; the
// PG* environment variables and ~/.pgpass fill in what it leaves out) and
// brings its schema up to date. A password in dsn is redacted from logs
// and errors.
func OpenPostgres(ctx context.Context, dsn string) (*PostgresStore, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("state DSN: %s", secret.Redact(err.Error()))
	}
	if cfg.Password != "" {
		secret.Register(cfg.Password)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &PostgresStore{db: db}
	where := fmt.Sprintf("PostgreSQL state store at %s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to the %s: %s", where, secret.Redact(err.Error()))
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %s", where, secret.Redact(err.Error()))
	}
	return s, nil
}

// SetOwner names the process whose decisions this store records (the
// owner column of decisions; the lease owner, see pipe.NewOwner).
func (s *PostgresStore) SetOwner(owner string) { s.owner = owner }

func (s *PostgresStore) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", pgLockKey); err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"); err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	var v int
	err = tx.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_version(version) VALUES (0)"); err != nil {
			return fmt.Errorf("migrating: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if v > len(pgMigrations) {
		return fmt.Errorf("schema version %d is newer than this otai understands (%d): upgrade otai", v, len(pgMigrations))
	}
	for ; v < len(pgMigrations); v++ {
		if _, err := tx.ExecContext(ctx, pgMigrations[v]); err != nil {
			return fmt.Errorf("migrating to schema version %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE schema_version SET version = $1", v+1); err != nil {
			return fmt.Errorf("migrating to schema version %d: %w", v+1, err)
		}
	}
	return tx.Commit()
}

// Close closes the connections.
func (s *PostgresStore) Close() error { return s.db.Close() }

// Processed implements pipe.Marks.
func (s *PostgresStore) Processed(ctx context.Context, key string) (time.Time, bool, error) {
	m, ok, err := s.ProcessedMark(ctx, key)
	return m.At, ok, err
}

// ProcessedMark implements pipe.FingerprintMarks.
func (s *PostgresStore) ProcessedMark(ctx context.Context, key string) (pipe.Mark, bool, error) {
	var at time.Time
	var fp string
	err := s.db.QueryRowContext(ctx, "SELECT processed_at, fingerprint FROM processed WHERE key = $1", key).Scan(&at, &fp)
	if errors.Is(err, sql.ErrNoRows) {
		return pipe.Mark{}, false, nil
	}
	if err != nil {
		return pipe.Mark{}, false, fmt.Errorf("reading processed mark %s: %w", key, err)
	}
	return pipe.Mark{At: at.UTC(), Fingerprint: fp}, true, nil
}

// MarkProcessed implements pipe.Marks. It also ends key's started record
// (the for-each's journal), in the same transaction: a crash leaves a
// ticket either started or processed, never neither.
func (s *PostgresStore) MarkProcessed(ctx context.Context, key string, t time.Time) error {
	return s.MarkProcessedAs(ctx, key, pipe.Mark{At: t})
}

// MarkProcessedAs implements pipe.FingerprintMarks (see MarkProcessed).
func (s *PostgresStore) MarkProcessedAs(ctx context.Context, key string, m pipe.Mark) error {
	t := m.At
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recording processed mark %s: %w", key, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx,
		"INSERT INTO processed(key, processed_at, fingerprint) VALUES($1, $2, $3) ON CONFLICT(key) DO UPDATE SET processed_at = excluded.processed_at, fingerprint = excluded.fingerprint",
		key, t, m.Fingerprint); err != nil {
		return fmt.Errorf("recording processed mark %s: %w", key, err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM started WHERE key = $1", key); err != nil {
		return fmt.Errorf("recording processed mark %s: %w", key, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recording processed mark %s: %w", key, err)
	}
	return nil
}

// MarkStarted records that work on key began at t (the for-each's
// journal of tickets started and not finished, pipes.Journal). Replicas
// share it: a ticket a dead replica left half done is resumed by another
// once the dead one's lease on it has run out.
func (s *PostgresStore) MarkStarted(ctx context.Context, key string, t time.Time) error {
	_, err := s.db.ExecContext(ctx,
		"INSERT INTO started(key, started_at) VALUES($1, $2) ON CONFLICT(key) DO UPDATE SET started_at = excluded.started_at",
		key, t)
	if err != nil {
		return fmt.Errorf("recording that %s started: %w", key, err)
	}
	return nil
}

// Unfinished lists the started keys that begin with prefix, oldest first.
func (s *PostgresStore) Unfinished(ctx context.Context, prefix string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT key FROM started WHERE left(key, length($1)) = $1 ORDER BY started_at, key", prefix)
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
func (s *PostgresStore) Forget(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM started WHERE key = $1", key); err != nil {
		return fmt.Errorf("forgetting that %s started: %w", key, err)
	}
	return nil
}

// Claim implements pipe.Claims (see PostgresStore for why a lease); a
// lease whose holder is a process on this machine that is no longer
// running is taken over at once (pipe.OwnerGone).
func (s *PostgresStore) Claim(ctx context.Context, key, owner string, ttl time.Duration) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO claims(key, owner, expires_at)
  VALUES($1, $2, clock_timestamp() + $3 * interval '1 microsecond')
  ON CONFLICT(key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
  WHERE claims.expires_at < clock_timestamp() OR claims.owner = excluded.owner`,
		key, owner, ttl.Microseconds())
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
		return s.db.ExecContext(ctx, `UPDATE claims SET owner = $1, expires_at = clock_timestamp() + $2 * interval '1 microsecond'
  WHERE key = $3 AND owner = $4`, owner, ttl.Microseconds(), key, holder)
	}, "SELECT owner FROM claims WHERE key = $1")
}

// Release implements pipe.Claims.
func (s *PostgresStore) Release(ctx context.Context, key, owner string) error {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM claims WHERE key = $1 AND owner = $2", key, owner); err != nil {
		return fmt.Errorf("releasing %s: %w", key, err)
	}
	return nil
}

// RecordDecision implements pipe.DecisionRecorder, with the store's owner.
// Texts are redacted: no secret reaches the decision store.
func (s *PostgresStore) RecordDecision(ctx context.Context, d pipe.Decision) error {
	e, err := encodeDecision(d)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO decisions
  (id, at, owner, runner, pipe, ticket_system, ticket_id, subject, label, confidence, predictions, written, changes, outcome, error, dry_run)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
  ON CONFLICT(id) DO UPDATE SET written = excluded.written, changes = excluded.changes, outcome = excluded.outcome, error = excluded.error`,
		d.ID, d.At, s.owner, d.Runner, d.Pipe, d.TicketSystem, d.TicketID, e.subject, e.label, e.confidence,
		e.predictions, e.written, e.changes, string(d.Outcome), e.errText, d.DryRun)
	if err != nil {
		return fmt.Errorf("recording decision %s for ticket %s: %w", d.ID, d.TicketID, err)
	}
	return nil
}

// Decisions lists decisions matching f, newest first.
func (s *PostgresStore) Decisions(ctx context.Context, f Filter) ([]pipe.Decision, error) {
	q, args := decisionQuery(f, postgres)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing decisions: %w", err)
	}
	return scanDecisions(rows)
}

// Applied implements pipe.DecisionHistory: the newest value otai wrote per
// field of a ticket, from its non-dry-run decisions of any outcome (see
// Store.Applied).
func (s *PostgresStore) Applied(ctx context.Context, ticketSystem, ticketID string) (map[string]pipe.AppliedChange, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, changes FROM decisions
  WHERE ticket_system = $1 AND ticket_id = $2 AND NOT dry_run AND changes != '[]'
  ORDER BY at ASC, id ASC`, ticketSystem, ticketID)
	if err != nil {
		return nil, fmt.Errorf("reading decisions of ticket %s: %w", ticketID, err)
	}
	return scanApplied(rows)
}

// RecordCorrection implements pipe.DecisionHistory. A correction is kept
// once per decision and field.
func (s *PostgresStore) RecordCorrection(ctx context.Context, c pipe.Correction) error {
	_, err := s.db.ExecContext(ctx, "INSERT INTO corrections ("+correctionColumns+") VALUES ("+placeholders(postgres, 10)+
		") ON CONFLICT(decision_id, field) DO NOTHING", correctionArgs(c, postgres)...)
	if err != nil {
		return fmt.Errorf("recording a correction of ticket %s: %w", c.TicketID, err)
	}
	return nil
}

// Corrections lists corrections, oldest first; field "" means all.
func (s *PostgresStore) Corrections(ctx context.Context, field string, since time.Time) ([]pipe.Correction, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+correctionColumns+
		" FROM corrections WHERE ($1 = '' OR field = $1) AND at >= $2 ORDER BY at ASC", field, since)
	if err != nil {
		return nil, fmt.Errorf("listing corrections: %w", err)
	}
	return scanCorrections(rows)
}
