// Package sqlitextest tests what every otai SQLite database must survive:
// several processes creating the same new file at once.
package sqlitextest

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
)

// OpenAtOnce creates a new file named name in a temporary directory from
// openers goroutines at once, rounds times. open opens (creating if needed)
// the database at path and returns its handle; every open must succeed,
// and afterwards the file must be in WAL mode.
func OpenAtOnce(t *testing.T, name string, rounds, openers int, open func(ctx context.Context, path string) (*sql.DB, func() error, error)) {
	t.Helper()
	ctx := context.Background()
	for round := range rounds {
		path := filepath.Join(t.TempDir(), name)
		var wg sync.WaitGroup
		for range openers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, closeDB, err := open(ctx, path)
				if err != nil {
					t.Errorf("round %d: %v", round, err)
					return
				}
				closeDB()
			}()
		}
		wg.Wait()
		db, closeDB, err := open(ctx, path)
		if err != nil {
			t.Fatalf("round %d: opening once more: %v", round, err)
		}
		var mode string
		if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("round %d: journal_mode = %q, %v; want wal", round, mode, err)
		}
		closeDB()
	}
}
