package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	demoOnce sync.Once
	demoTmpl string
	demoErr  string
)

// demoDir returns a fresh data directory holding the seeded demo store and
// the demo's trained models, but no state: as if otai had started once and
// remembered nothing. Training is done once per test binary (it dominates a
// cold start, and is slow under -race); TestDemoEndToEnd still starts cold.
func demoDir(t *testing.T) string {
	t.Helper()
	demoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "otai-demo-template-")
		if err != nil {
			demoErr = err.Error()
			return
		}
		var out, errb strings.Builder
		if code := MainContext(context.Background(), []string{"run", "--once", "--dry-run", "--data-dir", dir}, strings.NewReader(""), &out, &errb); code != ExitOK {
			demoErr = "seeding the demo template: " + errb.String()
			return
		}
		for _, f := range []string{"state.db", "state.db-wal", "state.db-shm"} {
			os.Remove(filepath.Join(dir, f))
		}
		demoTmpl = dir
	})
	if demoErr != "" {
		t.Fatal(demoErr)
	}
	dst := t.TempDir()
	err := filepath.WalkDir(demoTmpl, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(demoTmpl, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, src); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
