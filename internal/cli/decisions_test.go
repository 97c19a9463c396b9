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
	"github.com/otai-dev/otai/ticket"
	"github.com/otai-dev/otai/ticketsystem/local"
)

// recordDecisions writes n decisions (tickets 0..n-1, a minute apart)
// into <dir>/state.db.
func recordDecisions(t *testing.T, dir string, n int) {
	t.Helper()
	ctx := context.Background()
	st := openStateDB(t, dir)
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

// TestShadowReportJudgesTheFirstShadowDecision: after an agent moved a
// ticket elsewhere, a later shadow run plans a move from the agent's
// queue; the report must still count the agent's disagreement with the
// first shadow decision, not call the ticket not yet handled.
func TestShadowReportJudgesTheFirstShadowDecision(t *testing.T) {
	dir := demoDir(t)
	if code, out, errs := otai(t, "run", "--once", "--dry-run", "--data-dir", dir); code != ExitOK {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errs)
	}
	ctx := context.Background()
	sdb, err := state.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	yes := true
	ds, err := sdb.Decisions(ctx, state.Filter{DryRun: &yes, Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	var first *pipe.Decision
	var move pipe.Change
	for i := range ds {
		for _, c := range ds[i].Changes {
			if c.Field == "queue" && c.From != "" {
				first, move = &ds[i], c
			}
		}
	}
	if first == nil {
		t.Fatalf("the demo's dry run planned no queue move: %+v", ds)
	}
	other := "Sales"
	if move.To == "Sales" {
		other = "Billing"
	}
	st, err := local.Open(ctx, filepath.Join(dir, "tickets.db"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.UpdateTicket(ctx, first.TicketID, ticket.Update{Queue: &ticket.Entity{Name: other}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The next shadow run, after the agent: it would move the ticket back.
	later := *first
	later.At = first.At.Add(time.Minute)
	later.ID = pipe.NewDecisionID(later.At)
	later.Changes = []pipe.Change{{Field: "queue", From: other, To: move.To}}
	if err := sdb.RecordDecision(ctx, later); err != nil {
		t.Fatal(err)
	}

	code, out, errs := otai(t, "decisions", "--shadow-report", "--data-dir", dir, "--ticket", first.TicketID)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// planned 1, agreed 0, otherwise 1, not yet handled 0, gone 0
	if want := "queue 1 0 1 0 0 0% of 1 handled"; !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
		t.Errorf("report lacks %q:\n%s", want, out)
	}
}
