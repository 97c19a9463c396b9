// Package local is otai's embedded ticket store: a real ticket system on a
// single SQLite file (pure Go, via modernc.org/sqlite), used as the default
// ticket system, for demos and as a faithful adapter in tests.
//
// A Store implements ticket.System, ticket.Checker and ticket.Closer. Ids
// are integers rendered as decimal strings; times are stored in UTC. The
// database runs in WAL mode with a busy timeout, so several goroutines and
// several processes can use one file at once.
//
// SeedDemo fills a new store with a bilingual (English and German) demo
// history of closed tickets and an inbox of new ones; DemoInbox lists the
// inbox with the queue and priority each ticket should get.
package local

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/otai-dev/otai/internal/sqlitex"
	"github.com/otai-dev/otai/ticket"
)

// Interface guards.
var (
	_ ticket.System  = (*Store)(nil)
	_ ticket.Checker = (*Store)(nil)
	_ ticket.Closer  = (*Store)(nil)
)

// Errors Open returns for bad environments; test with errors.Is.
var (
	// ErrNotWritable: the database's directory or file cannot be written.
	ErrNotWritable = errors.New("not writable")
	// ErrCorrupt: the file is not a SQLite database, is damaged, or is a
	// SQLite database of some other program.
	ErrCorrupt = errors.New("corrupt or not an otai ticket database")
	// ErrSchemaTooNew: the database was written by a newer otai.
	ErrSchemaTooNew = errors.New("schema is newer than this otai supports")
)

// MemoryPath opens a private in-memory store that never touches disk.
const MemoryPath = ":memory:"

// applicationID marks otai ticket databases in the SQLite header ("otai").
const applicationID = 0x6f746169

// timeLayout is fixed-width so that stored times sort as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// Options tune Open. The zero value is fine.
type Options struct {
	// BusyTimeout is how long a write waits for another process's write
	// to finish before failing with ticket.ErrUnavailable. Default 10s.
	BusyTimeout time.Duration
	// Logger receives schema migrations and similar events. Default: discard.
	Logger *slog.Logger
	// Now is the clock for created/updated times. Default time.Now.
	Now func() time.Time
}

// Store is a ticket system on one SQLite database. It is safe for
// concurrent use.
type Store struct {
	db     *sql.DB
	path   string
	log    *slog.Logger
	now    func() time.Time
	memory bool
	busy   time.Duration // how long to wait for another process's lock
	// writeMu serialises this process's write transactions, so that
	// goroutines queue here instead of polling SQLite's busy handler;
	// other processes are handled by busy_timeout.
	writeMu sync.Mutex
	closed  atomic.Bool
}

func init() {
	// otai_contains(text, needle) is a Unicode-aware, case-insensitive
	// substring test: SQLite's lower() and LIKE fold ASCII only (German
	// subjects need Ä to match ä), and instr() stops at NUL bytes.
	_ = sqlite.RegisterDeterministicScalarFunction("otai_contains", 2,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			text, needle := sqlText(args[0]), sqlText(args[1])
			return strings.Contains(strings.ToLower(text), strings.ToLower(needle)), nil
		})
}

func sqlText(v driver.Value) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// Open opens the ticket store at path, creating the file, its directory
// and the schema as needed, and migrating an older schema. path may be
// MemoryPath for a private in-memory store.
//
// It fails with an error wrapping ErrNotWritable, ErrCorrupt or
// ErrSchemaTooNew, naming the path and saying what to do, when the
// environment is wrong.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	s := &Store{path: path, log: opts.Logger, now: opts.Now}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 10 * time.Second
	}
	s.busy = busy
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")

	var dsn string
	if path == MemoryPath || path == "" {
		s.memory, s.path = true, MemoryPath
		dsn = "file::memory:?" + q.Encode()
	} else {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("opening ticket store %s: %w", path, err)
		}
		s.path = abs
		if err := prepareFile(abs); err != nil {
			return nil, err
		}
		// WAL mode is set once in init, after the file is known to be
		// ours (sqlitex.EnableWAL says why not here).
		q.Add("_pragma", "synchronous(NORMAL)")
		u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
		dsn = u.String()
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening ticket store %s: %w", s.path, err)
	}
	s.db = db
	if s.memory {
		// A memory database belongs to one connection: use exactly one,
		// forever.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
	}
	if err := s.init(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// prepareFile makes sure path's directory exists and is writable and that
// an existing file at path at least looks like a SQLite database.
func prepareFile(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		if errors.Is(err, os.ErrPermission) || isReadOnlyFS(err) {
			return fmt.Errorf("opening ticket store %s: cannot create directory %s: %w (%v): give the user running otai write access, or set path to a writable location",
				path, dir, ErrNotWritable, err)
		}
		return fmt.Errorf("opening ticket store %s: cannot create directory %s: %w", path, dir, err)
	}
	if err := checkWritableDir(dir); err != nil {
		return fmt.Errorf("opening ticket store %s: directory %s is %w (%v): give the user running otai write access to it, or set path to a writable location",
			path, dir, ErrNotWritable, err)
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("opening ticket store %s: %w", path, err)
	case fi.IsDir():
		return fmt.Errorf("opening ticket store %s: it is a directory, not a database file: set path to a file name", path)
	case fi.Size() == 0:
		return nil // SQLite treats an empty file as a new database
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, os.ErrPermission) || isReadOnlyFS(err) {
			return fmt.Errorf("opening ticket store %s: the file is %w (%v): give the user running otai write access to it", path, ErrNotWritable, err)
		}
		return fmt.Errorf("opening ticket store %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, 16)
	n, _ := io.ReadFull(f, head)
	if n < 16 || string(head) != "SQLite format 3\x00" {
		return corruptError(path, "the file has no SQLite header")
	}
	return nil
}

func checkWritableDir(dir string) error {
	f, err := os.CreateTemp(dir, ".otai-write-test-*")
	if err != nil {
		return err
	}
	name := f.Name()
	_ = f.Close()
	return os.Remove(name)
}

func isReadOnlyFS(err error) bool {
	var pe *os.PathError
	return errors.As(err, &pe) && strings.Contains(strings.ToLower(pe.Err.Error()), "read-only file system")
}

func corruptError(path, why string) error {
	return fmt.Errorf("opening ticket store %s: the file is %w (%s): move it away (for example: mv %q %q) and otai will create a new one, or set path to the right file",
		path, ErrCorrupt, why, path, path+".bad")
}

// sqliteCode returns the primary SQLite result code in err, or 0.
func sqliteCode(err error) int { return sqlitex.Code(err) }

// init checks the database is ours and brings its schema up to date.
func (s *Store) init(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return s.openError(err)
	}
	// One statement, so one snapshot: read one after the other, another
	// process's first migration could commit in between, and its tables
	// would be seen without its marker (a "foreign" database).
	var appID, version, tables int
	if err := s.db.QueryRowContext(ctx, "SELECT (SELECT application_id FROM pragma_application_id), "+
		"(SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_master)").Scan(&appID, &version, &tables); err != nil {
		return s.openError(err)
	}
	switch {
	case appID != 0 && appID != applicationID:
		return corruptError(s.path, fmt.Sprintf("it belongs to another program: application id %#x", appID))
	case appID == 0 && tables > 0:
		return corruptError(s.path, "it is a SQLite database of another program: it has tables but no otai marker")
	case version > len(migrations):
		return fmt.Errorf("opening ticket store %s: %w: the database has schema version %d and this otai knows up to %d: upgrade otai, or move the file away to start a new store",
			s.path, ErrSchemaTooNew, version, len(migrations))
	}
	if !s.memory {
		if err := sqlitex.EnableWAL(ctx, s.db, s.busy); err != nil {
			return s.openError(err)
		}
	}
	if version == len(migrations) {
		return nil
	}
	return s.migrate(ctx)
}

func (s *Store) openError(err error) error {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return corruptError(s.path, err.Error())
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_CANTOPEN:
		return fmt.Errorf("opening ticket store %s: %w (%v): give the user running otai write access to the file and its directory", s.path, ErrNotWritable, err)
	}
	return fmt.Errorf("opening ticket store %s: %w", s.path, err)
}

// migrate applies the missing migrations in one transaction.
func (s *Store) migrate(ctx context.Context) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var version int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
			return s.openError(err)
		}
		if version > len(migrations) {
			return fmt.Errorf("opening ticket store %s: %w: schema version %d, this otai knows up to %d", s.path, ErrSchemaTooNew, version, len(migrations))
		}
		for i := version; i < len(migrations); i++ {
			if err := migrations[i](ctx, tx); err != nil {
				return fmt.Errorf("migrating ticket store %s to schema version %d: %w", s.path, i+1, s.openError(err))
			}
			// A memory store (validate mode, tests) is new every time:
			// setting it up is not news.
			level := slog.LevelInfo
			if s.memory {
				level = slog.LevelDebug
			}
			s.log.Log(ctx, level, "migrated ticket store", "path", s.path, "version", i+1)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
			return s.openError(err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
			return s.openError(err)
		}
		return nil
	})
}

// Path returns the database file's absolute path, or MemoryPath.
func (s *Store) Path() string { return s.path }

// DB returns the underlying database handle, for tools that need more
// than the Store offers. Callers must not change the schema.
func (s *Store) DB() *sql.DB { return s.db }

// Close releases the database. Calling it twice is harmless.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("closing ticket store %s: %w", s.path, err)
	}
	return nil
}

// write runs fn in an IMMEDIATE transaction, serialised with this
// process's other writes.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *Store) nowUTC() time.Time { return s.now().UTC() }

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(v string) time.Time {
	t, err := time.Parse(timeLayout, v)
	if err != nil {
		t, _ = time.Parse(time.RFC3339Nano, v)
	}
	return t.UTC()
}
