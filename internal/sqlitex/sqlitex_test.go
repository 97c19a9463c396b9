package sqlitex

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/otai-dev/otai/internal/sqlitex/sqlitextest"
)

func open(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestEnableWALConcurrent(t *testing.T) {
	sqlitextest.OpenAtOnce(t, "x.db", 10, 4, func(ctx context.Context, path string) (*sql.DB, func() error, error) {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
		if err != nil {
			return nil, nil, err
		}
		if err := EnableWAL(ctx, db, 5*time.Second); err != nil {
			db.Close()
			return nil, nil, err
		}
		return db, db.Close, nil
	})
}

// TestEnableWALGivesUp: a file held exclusively by another connection is
// reported as busy once the wait is over, not retried forever.
func TestEnableWALGivesUp(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	holder := open(t, path)
	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "CREATE TABLE t(x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	err = EnableWAL(ctx, db, 200*time.Millisecond)
	if !IsBusy(err) {
		t.Fatalf("EnableWAL = %v, want busy", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 5*time.Second {
		t.Errorf("gave up after %v, want about 200ms", d)
	}
	conn.ExecContext(ctx, "ROLLBACK")
}

func TestCode(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "x.db"))
	_, err := db.Exec("INSERT INTO nowhere VALUES (1)")
	if got := Code(err); got != sqlite3.SQLITE_ERROR {
		t.Errorf("Code(%v) = %d, want SQLITE_ERROR", err, got)
	}
	if got := Code(fmt.Errorf("wrapped: %w", errors.New("plain"))); got != 0 {
		t.Errorf("Code(plain) = %d, want 0", got)
	}
	if Code(nil) != 0 || IsBusy(nil) {
		t.Error("nil error has a code")
	}
}
