package local

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unwritableDir returns an existing directory this process cannot write
// to: a read-only temp dir, or for root (who ignores permission bits) a
// system directory such as /sys.
func unwritableDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "readonly")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
	if checkWritableDir(dir) != nil {
		return dir
	}
	for _, d := range []string{"/sys", "/proc"} {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() && checkWritableDir(d) != nil {
			return d
		}
	}
	t.Skip("no unwritable directory available (running as root without /sys)")
	return ""
}

func wantErr(t *testing.T, err error, target error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", target)
	}
	if !errors.Is(err, target) {
		t.Fatalf("error %q is not %v", err, target)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func TestOpenNotWritable(t *testing.T) {
	dir := unwritableDir(t)
	path := filepath.Join(dir, "tickets.db")
	s, err := Open(context.Background(), path, Options{})
	if s != nil {
		s.Close()
	}
	wantErr(t, err, ErrNotWritable, dir, "not writable", "write access")
	if _, statErr := os.Stat(path); statErr == nil {
		t.Errorf("database file created in an unwritable directory")
	}
}

func TestOpenNotWritableSubdir(t *testing.T) {
	dir := unwritableDir(t)
	path := filepath.Join(dir, "otai-test-sub", "tickets.db")
	_, err := Open(context.Background(), path, Options{})
	wantErr(t, err, ErrNotWritable, filepath.Join(dir, "otai-test-sub"), "not writable")
}

func TestOpenGarbageFile(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 8192)
	for i := range garbage {
		garbage[i] = byte(r.IntN(256))
	}
	headerThenGarbage := append([]byte("SQLite format 3\x00"), garbage...)
	for _, tc := range []struct {
		name    string
		content []byte
	}{
		{"random bytes", garbage},
		{"text file", []byte("queues:\n  - Billing\n")},
		{"sqlite header then garbage", headerThenGarbage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tickets.db")
			if err := os.WriteFile(path, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), path, Options{})
			if s != nil {
				s.Close()
			}
			wantErr(t, err, ErrCorrupt, path, "corrupt or not an otai", "move it away")
			// The file is left alone.
			if b, _ := os.ReadFile(path); string(b) != string(tc.content) {
				t.Errorf("Open changed the bad file")
			}
		})
	}
}

func TestOpenForeignSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE photos (id INTEGER PRIMARY KEY, file TEXT)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(context.Background(), path, Options{})
	wantErr(t, err, ErrCorrupt, path, "another program", "move it away")

	// Another program's application id.
	path2 := filepath.Join(t.TempDir(), "app.db")
	db, _ = sql.Open("sqlite", path2)
	if _, err := db.Exec("PRAGMA application_id = 12345; CREATE TABLE x (y)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(context.Background(), path2, Options{})
	wantErr(t, err, ErrCorrupt, path2, "application id")
}

func TestOpenNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tickets.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(ctx, path, Options{})
	wantErr(t, err, ErrSchemaTooNew, path, "99", "upgrade otai")
}

func TestOpenDirectoryAsFile(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(context.Background(), dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("error = %v, want 'is a directory'", err)
	}
}

func TestOpenUnderAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), filepath.Join(file, "tickets.db"), Options{})
	if err == nil || !strings.Contains(err.Error(), "cannot create directory") {
		t.Errorf("error = %v", err)
	}
}

func TestOpenEmptyFileIsNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tickets.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestOpenMigratesOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tickets.db")
	for range 2 {
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var v, app int
		_ = s.DB().QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
		_ = s.DB().QueryRowContext(ctx, "PRAGMA application_id").Scan(&app)
		if v != len(migrations) || app != applicationID {
			t.Errorf("user_version %d application_id %#x", v, app)
		}
		qs, _ := s.Queues(ctx)
		if len(qs) != 1 {
			t.Errorf("queues = %v, want only the default", qs)
		}
		s.Close()
	}
}
