package local

import (
	"context"
	"database/sql"
)

// migrations bring the schema from version i to i+1 (PRAGMA user_version).
// Append only: never change a migration that has shipped.
var migrations = []func(ctx context.Context, tx *sql.Tx) error{
	migrate1,
}

func execAll(ctx context.Context, tx *sql.Tx, stmts ...string) error {
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// migrate1 creates the tables and the default queue, priorities and states.
func migrate1(ctx context.Context, tx *sql.Tx) error {
	return execAll(ctx, tx,
		`CREATE TABLE queues (
			id   INTEGER PRIMARY KEY,
			name TEXT NOT NULL UNIQUE COLLATE NOCASE
		)`,
		`CREATE TABLE priorities (
			id   INTEGER PRIMARY KEY,
			name TEXT NOT NULL UNIQUE COLLATE NOCASE,
			rank INTEGER NOT NULL DEFAULT 0
		)`,
		`CREATE TABLE states (
			id   INTEGER PRIMARY KEY,
			name TEXT NOT NULL UNIQUE COLLATE NOCASE,
			type TEXT NOT NULL CHECK (type IN ('new', 'open', 'pending', 'closed'))
		)`,
		`CREATE TABLE types (
			id   INTEGER PRIMARY KEY,
			name TEXT NOT NULL UNIQUE COLLATE NOCASE
		)`,
		// users are agents (who may own tickets) and customers.
		`CREATE TABLE users (
			id    INTEGER PRIMARY KEY,
			name  TEXT NOT NULL UNIQUE COLLATE NOCASE,
			agent INTEGER NOT NULL DEFAULT 0
		)`,
		`CREATE TABLE tickets (
			id            INTEGER PRIMARY KEY,
			number        TEXT NOT NULL UNIQUE,
			subject       TEXT NOT NULL,
			body          TEXT NOT NULL DEFAULT '',
			content_type  TEXT NOT NULL DEFAULT 'text/plain',
			queue_id      INTEGER NOT NULL REFERENCES queues(id),
			priority_id   INTEGER NOT NULL REFERENCES priorities(id),
			state_id      INTEGER NOT NULL REFERENCES states(id),
			type_id       INTEGER REFERENCES types(id),
			owner_id      INTEGER REFERENCES users(id),
			customer_id   INTEGER REFERENCES users(id),
			custom_fields TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(custom_fields)),
			created_at    TEXT NOT NULL,
			updated_at    TEXT NOT NULL
		)`,
		`CREATE INDEX tickets_created ON tickets (created_at, id)`,
		`CREATE INDEX tickets_queue ON tickets (queue_id, created_at)`,
		`CREATE INDEX tickets_state ON tickets (state_id, created_at)`,
		`CREATE INDEX tickets_owner ON tickets (owner_id)`,
		`CREATE INDEX tickets_updated ON tickets (updated_at)`,
		`CREATE TABLE ticket_tags (
			ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
			tag       TEXT NOT NULL COLLATE NOCASE,
			PRIMARY KEY (ticket_id, tag)
		) WITHOUT ROWID`,
		`CREATE INDEX ticket_tags_tag ON ticket_tags (tag)`,
		`CREATE TABLE notes (
			id           INTEGER PRIMARY KEY,
			ticket_id    INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
			subject      TEXT NOT NULL DEFAULT '',
			body         TEXT NOT NULL DEFAULT '',
			content_type TEXT NOT NULL DEFAULT 'text/plain',
			internal     INTEGER NOT NULL DEFAULT 0,
			author       TEXT NOT NULL DEFAULT '',
			created_at   TEXT NOT NULL
		)`,
		`CREATE INDEX notes_ticket ON notes (ticket_id, created_at, id)`,
		`INSERT INTO queues (name) VALUES ('Inbox')`,
		`INSERT INTO priorities (name, rank) VALUES ('low', 1), ('normal', 2), ('high', 3)`,
		`INSERT INTO states (name, type) VALUES ('new', 'new'), ('open', 'open'), ('closed', 'closed')`,
	)
}
