package cli

import (
	"context"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/classify"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/state"
)

// recordDecisions writes n decisions (tickets 0..n-1, a minute apart)
// into <dir>/state.db.
func recordDecisions(t *testing.T, dir string, n int) {
	t.Helper()
	ctx := context.Background()
	st, err := state.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	base := time.Now().Add(-time.Duration(n+1) * time.Minute).UTC()
	for i := range n {
		at := base.Add(time.Duration(i) * time.Minute)
		d := pipe.Decision{ID: pipe.NewDecisionID(at), At: at, Runner: "triage", Pipe: "each", TicketSystem: "desk",
			TicketID: fmt.Sprint(i), Subject: "Invoice", Outcome: pipe.StatusSucceeded,
			Predictions: []pipe.Prediction{{Step: "classify", Model: "linear/queue", ModelVersion: "v7", Label: "Billing", Confidence: 0.79,
				TopK: []classify.Prediction{{Label: "Billing", Confidence: 0.79}, {Label: "Technical", Confidence: 0.12}}}},
			Written: []string{"set queue Inbox -> Billing", "noted"},
			Changes: []pipe.Change{{Field: "queue", From: "Inbox", To: "Billing"}, {Field: "tag", To: "+ai"}}}
		if err := st.RecordDecision(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDecisionsExportIsComplete: csv and jsonl export every decision
// unless --limit is given; the table shows the newest 100; a limit that
// cuts the output says so on stderr.
func TestDecisionsExportIsComplete(t *testing.T) {
	dir := t.TempDir()
	recordDecisions(t, dir, 150)
	const cut = "only the newest"
	for _, tt := range []struct {
		args  []string
		lines int // of stdout
		cut   bool
	}{
		{[]string{"--format", "csv"}, 151, false},
		{[]string{"--format", "jsonl"}, 150, false},
		{[]string{"--format", "jsonl", "--limit", "0"}, 150, false},
		{[]string{"--format", "jsonl", "--limit", "150"}, 150, false},
		{[]string{"--format", "csv", "--limit", "10"}, 11, true},
		{nil, 101, true}, // the table: a header and the newest 100
		{[]string{"--limit", "200"}, 151, false},
	} {
		args := append([]string{"decisions", "--data-dir", dir}, tt.args...)
		code, out, errs := otai(t, args...)
		if code != ExitOK {
			t.Errorf("%v: exit %d\n%s", tt.args, code, errs)
			continue
		}
		if got := strings.Count(out, "\n"); got != tt.lines {
			t.Errorf("%v: %d lines, want %d", tt.args, got, tt.lines)
		}
		if strings.Contains(errs, cut) != tt.cut {
			t.Errorf("%v: stderr %q; want a note that the limit cut the output: %v", tt.args, errs, tt.cut)
		}
	}
	if code, _, errs := otai(t, "decisions", "--data-dir", dir, "--limit", "-1"); code != ExitUsage || !strings.Contains(errs, "--limit -1") {
		t.Errorf("--limit -1: exit %d, %s", code, errs)
	}

	_, out, _ := otai(t, "decisions", "--data-dir", dir, "--format", "csv", "--limit", "1")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("csv: %v\n%s", err, out)
	}
	got := map[string]string{}
	for i, h := range rows[0] {
		got[h] = rows[1][i]
	}
	for col, want := range map[string]string{
		"ticket_id": "149", "pipe": "each", "model": "linear/queue", "model_version": "v7",
		"top_k": "Billing 79%; Technical 12%", "changes": "queue Inbox -> Billing; tag +ai", "label": "Billing",
	} {
		if got[col] != want {
			t.Errorf("csv column %s = %q, want %q (header %v)", col, got[col], want, rows[0])
		}
	}
}
