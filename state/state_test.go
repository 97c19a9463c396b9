package state

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otai-dev/otai/classify"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/secret"
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

func TestDecisions(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	secret.Register("hunter2-secret")
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	mk := func(i int, outcome pipe.Status, dry bool) pipe.Decision {
		at := base.Add(time.Duration(i) * time.Minute)
		return pipe.Decision{ID: pipe.NewDecisionID(at), At: at, Runner: "r", Pipe: "each", TicketSystem: "hd",
			TicketID: fmt.Sprint(i), Subject: "subject with hunter2-secret", Outcome: outcome, DryRun: dry,
			Predictions: []pipe.Prediction{{Step: "q", Label: "Billing", Confidence: 0.9,
				TopK: []classify.Prediction{{Label: "Billing", Confidence: 0.9}}}},
			Written: []string{"noted"}, Error: map[bool]string{true: "boom hunter2-secret"}[outcome == pipe.StatusFailed]}
	}
	for i := range 10 {
		o := pipe.StatusSucceeded
		if i%3 == 0 {
			o = pipe.StatusFailed
		}
		if err := s.RecordDecision(ctx, mk(i, o, i == 9)); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Decisions(ctx, Filter{})
	if err != nil || len(all) != 10 {
		t.Fatalf("%d decisions, %v", len(all), err)
	}
	if all[0].TicketID != "9" || all[9].TicketID != "0" {
		t.Errorf("not newest first: %s ... %s", all[0].TicketID, all[9].TicketID)
	}
	if l, c := all[0].Label(); l != "Billing" || c != 0.9 || len(all[0].Predictions[0].TopK) != 1 {
		t.Errorf("round trip lost predictions: %+v", all[0])
	}
	for _, d := range all {
		if strings.Contains(d.Subject+d.Error, "hunter2-secret") {
			t.Fatalf("a secret reached the decision store: %+v", d)
		}
	}
	yes := true
	tests := []struct {
		f    Filter
		want int
	}{
		{Filter{Outcome: "failed"}, 4},
		{Filter{Since: base.Add(5 * time.Minute)}, 5},
		{Filter{Until: base.Add(2 * time.Minute)}, 2},
		{Filter{TicketID: "3"}, 1},
		{Filter{DryRun: &yes}, 1},
		{Filter{Limit: 3}, 3},
		{Filter{Runner: "other"}, 0},
	}
	for _, tt := range tests {
		got, err := s.Decisions(ctx, tt.f)
		if err != nil || len(got) != tt.want {
			t.Errorf("%+v: %d decisions (%v), want %d", tt.f, len(got), err, tt.want)
		}
	}
}
