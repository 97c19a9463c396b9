package state

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMarks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "state.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Processed(ctx, "r/p/1"); ok || err != nil {
		t.Fatalf("fresh store has a mark: %v %v", ok, err)
	}
	t1 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	if err := s.MarkProcessed(ctx, "r/p/1", t1); err != nil {
		t.Fatal(err)
	}
	t2 := t1.Add(time.Hour)
	if err := s.MarkProcessed(ctx, "r/p/1", t2); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(ctx, path) // survives a restart
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, ok, err := s.Processed(ctx, "r/p/1")
	if !ok || err != nil || !got.Equal(t2) {
		t.Fatalf("Processed = %v %v %v, want %v", got, ok, err, t2)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.MarkProcessed(ctx, "k"+string(rune('a'+i)), time.Now()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

func TestCorruptStateDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	os.WriteFile(path, []byte(strings.Repeat("garbage ", 1000)), 0o644)
	_, err := Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "move it away") {
		t.Fatalf("err = %v", err)
	}
}
