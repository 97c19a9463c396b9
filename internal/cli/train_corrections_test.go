package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/classify/linear"
	"github.com/otai-dev/otai/internal/replicatest/pgtest"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/state"
)

// recordCorrections writes corrections into <dir>/state.db.
func recordCorrections(t *testing.T, dir string, cs ...pipe.Correction) {
	t.Helper()
	ctx := context.Background()
	st := openStateDB(t, dir)
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for i, c := range cs {
		c.DecisionID = fmt.Sprintf("d%d", i)
		c.Runner = "test"
		c.TicketID = fmt.Sprint(100 + i)
		c.At = at.Add(time.Duration(i) * time.Minute)
		if err := st.RecordCorrection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTrainCorrections(t *testing.T) {
	dir := t.TempDir()
	data := labelledCSV(t, dir, 150, 1)
	model := filepath.Join(dir, "queue.model")
	rows, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	// The first data row, as a ticket text (subject + " " + body).
	var subject, body string
	first := strings.Split(string(rows), "\n")[1]
	subject, rest, _ := strings.Cut(first, ",")
	body = strings.ReplaceAll(rest[1:strings.LastIndex(rest, `"`)], `\n`, "\n")

	// No state.db: an environment error.
	code, _, errs := otai(t, "train", "--data", data, "--label", "queue", "--corrections", "--data-dir", dir, "-o", model)
	if code != ExitEnv || !strings.Contains(errs, "state.db does not exist") {
		t.Fatalf("without state.db: exit %d, want %d\n%s", code, ExitEnv, errs)
	}

	recordCorrections(t, dir,
		// "zorblax" occurs only in corrections, always corrected to Sales.
		pipe.Correction{Field: "queue", Otai: "Technical", Agent: "Sales", Subject: "zorblax gadget", Body: "The zorblax unit stopped"},
		pipe.Correction{Field: "queue", Otai: "Billing", Agent: "Sales", Subject: "zorblax order", Body: "Two more zorblax please"},
		pipe.Correction{Field: "queue", Otai: "Technical", Agent: "Billing", Subject: "zorblax invoice", Body: "zorblax was charged twice"},
		// corrected twice: the newest (Sales) wins
		pipe.Correction{Field: "queue", Otai: "Technical", Agent: "Billing", Subject: "zorblax invoice", Body: "zorblax  was charged twice"},
		pipe.Correction{Field: "queue", Otai: "Billing", Agent: "Sales", Subject: "zorblax invoice", Body: "zorblax was charged twice"},
		// the same text as a file row: replaces it
		pipe.Correction{Field: "queue", Otai: "Billing", Agent: "Technical", Subject: subject, Body: body},
		// another field: not used
		pipe.Correction{Field: "priority", Otai: "low", Agent: "high", Subject: "zorblax", Body: "Billing Rechnung"},
	)

	code, out, errs := otai(t, "train", "--data", data, "--label", "queue", "--corrections", "--data-dir", dir, "-o", model)
	if code != ExitOK {
		t.Fatalf("train --corrections: exit %d\n%s\n%s", code, out, errs)
	}
	want := "added 4 corrections of queue from " + filepath.Join(dir, "state.db") + " as 8 examples (weight 2; 1 earlier examples of the same text replaced, 2 older corrections of the same text superseded)"
	if !strings.Contains(errs, want) {
		t.Errorf("train --corrections printed\n%s\nwant %q", errs, want)
	}
	if !strings.Contains(out, "trained on 157 examples") || !strings.Contains(out, "and 4 corrections") {
		t.Errorf("train --corrections: %s", out)
	}
	m, err := linear.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Predict("zorblax", 1)[0].Label; got != "Sales" {
		t.Errorf("a word only the corrections have maps to %q, want the agents' Sales (%v)", got, m.Predict("zorblax", 0))
	}
	if m.Meta.Field != "queue" || m.Meta.ClassCounts["Sales"] < 6 {
		t.Errorf("metadata: field %q, counts %v", m.Meta.Field, m.Meta.ClassCounts)
	}

	// Weight 3: each correction counts three times.
	code, out, errs = otai(t, "train", "--data", data, "--label", "queue", "--corrections", "--corrections-weight", "3", "--data-dir", dir, "-o", model)
	if code != ExitOK || !strings.Contains(errs, "as 12 examples (weight 3;") || !strings.Contains(out, "trained on 161 examples") {
		t.Errorf("--corrections-weight 3: exit %d\n%s\n%s", code, out, errs)
	}
	code, _, errs = otai(t, "train", "--data", data, "--label", "queue", "--corrections", "--corrections-weight", "0", "--data-dir", dir, "-o", model)
	if code != ExitUsage || !strings.Contains(errs, "--corrections-weight 0") {
		t.Errorf("--corrections-weight 0: exit %d\n%s", code, errs)
	}
	code, _, errs = otai(t, "train", "--data", data, "--label", "queue", "--corrections-weight", "3", "--data-dir", dir, "-o", model)
	if code != ExitUsage || !strings.Contains(errs, "needs --corrections") {
		t.Errorf("--corrections-weight without --corrections: exit %d\n%s", code, errs)
	}

	// A data dir whose state.db has no queue corrections: not an error.
	dir2 := t.TempDir()
	recordCorrections(t, dir2, pipe.Correction{Field: "priority", Otai: "low", Agent: "high", Subject: "s", Body: "b"})
	code, out, errs = otai(t, "train", "--data", data, "--label", "queue", "--corrections", "--data-dir", dir2, "-o", model)
	if code != ExitOK || !strings.Contains(errs, "no corrections recorded for queue") || !strings.Contains(out, "trained on 150 examples") {
		t.Errorf("no corrections: exit %d\n%s\n%s", code, out, errs)
	}
}

// TestTrainCorrectionsPostgres: with OTAI_STATE_DSN set, 'otai run'
// records corrections in PostgreSQL, so 'otai train --corrections' must
// read them there (the data directory has no state.db at all).
func TestTrainCorrectionsPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	ctx := context.Background()
	st, err := state.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for i, c := range []pipe.Correction{
		{Field: "queue", Otai: "Technical", Agent: "Sales", Subject: "zorblax gadget", Body: "The zorblax unit stopped"},
		{Field: "queue", Otai: "Billing", Agent: "Sales", Subject: "zorblax order", Body: "Two more zorblax please"},
		{Field: "priority", Otai: "low", Agent: "high", Subject: "zorblax", Body: "Billing Rechnung"},
	} {
		c.DecisionID, c.Runner, c.TicketID, c.At = fmt.Sprintf("d%d", i), "test", fmt.Sprint(100+i), at.Add(time.Duration(i)*time.Minute)
		if err := st.RecordCorrection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	dir := t.TempDir()
	data := labelledCSV(t, dir, 150, 1)
	t.Setenv(StateDSNEnv, dsn)
	code, out, errs := otai(t, "train", "--data", data, "--label", "queue", "--corrections", "--data-dir", dir, "-o", filepath.Join(dir, "queue.model"))
	if code != ExitOK {
		t.Fatalf("train --corrections with %s: exit %d\n%s\n%s", StateDSNEnv, code, out, errs)
	}
	if !strings.Contains(errs, "added 2 corrections of queue from the PostgreSQL state store") || !strings.Contains(out, "and 2 corrections") {
		t.Errorf("train --corrections with %s did not read PostgreSQL:\n%s\n%s", StateDSNEnv, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "state.db")); err == nil {
		t.Error("train --corrections created state.db although the state store is PostgreSQL")
	}
}

func TestMergeCorrections(t *testing.T) {
	ex := []linear.Example{{Text: "a b", Label: "x"}, {Text: "c  d", Label: "x"}, {Text: "e", Label: "y"}}
	cs := []pipe.Correction{
		{Agent: "y", Subject: "c", Body: "d"},
		{Agent: "z", Subject: "f", Body: ""},
		{Agent: "", Subject: "g", Body: "h"}, // no agent value: ignored
		{Agent: "x", Subject: "c", Body: "d\n"},
	}
	out, ms := mergeCorrections(ex, cs, 2)
	if ms != (mergeStats{Added: 2, Replaced: 1, Superseded: 1}) {
		t.Errorf("stats %+v", ms)
	}
	want := []linear.Example{{Text: "a b", Label: "x"}, {Text: "e", Label: "y"},
		{Text: "c d\n", Label: "x"}, {Text: "c d\n", Label: "x"}, {Text: "f ", Label: "z"}, {Text: "f ", Label: "z"}}
	if fmt.Sprint(out) != fmt.Sprint(want) {
		t.Errorf("merged\n%v\nwant\n%v", out, want)
	}
}

func TestTrainFromSystemCorrections(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "queue.model")
	code, _, errs := otai(t, "train", "--from", "local", "--field", "queue", "--corrections", "--data-dir", dir, "-o", model)
	if code != ExitEnv || !strings.Contains(errs, "state.db does not exist") {
		t.Fatalf("without state.db: exit %d\n%s", code, errs)
	}
	recordCorrections(t, dir,
		pipe.Correction{Field: "queue", Otai: "Billing", Agent: "Sales", Subject: "quuxotic", Body: "quuxotic bundle"},
		pipe.Correction{Field: "queue", Otai: "Billing", Agent: "Sales", Subject: "quuxotic upgrade", Body: "more quuxotic"})
	code, out, errs := otai(t, "train", "--from", "local", "--field", "queue", "--corrections", "--corrections-weight", "3", "--data-dir", dir, "-o", model)
	if code != ExitOK || !strings.Contains(errs, "added 2 corrections of queue") || !strings.Contains(errs, "as 6 examples") ||
		!strings.Contains(out, "from ticket system local and 2 corrections") {
		t.Fatalf("--from local --corrections: exit %d\n%s\n%s", code, out, errs)
	}
	m, err := linear.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Predict("quuxotic", 1)[0].Label; got != "Sales" {
		t.Errorf("quuxotic -> %q, want Sales", got)
	}
}

// TestTrainFromBeforeAnyModel: training from a help desk works with a
// config whose classifier has no model yet (the one being trained).
func TestTrainFromBeforeAnyModel(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "c.yml", `
services:
  - id: desk
    use: local:TicketSystem
    params: { path: desk.db, demo: true }
  - id: queue-model
    use: base:LinearClassifier
    params: { model: models/queue.model }
`)
	model := filepath.Join(dir, "models", "queue.model")
	code, out, errs := otai(t, "train", "--config", cfg, "--from", "desk", "--field", "queue", "--data-dir", dir, "-o", model)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if _, err := linear.Load(model); err != nil {
		t.Fatal(err)
	}
}

// openStateDB opens <dir>/state.db for the test, closed at its end.
func openStateDB(t *testing.T, dir string) *state.Store {
	t.Helper()
	st, err := state.Open(context.Background(), filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestTrainLeavesOutSentBack: a correction an older otai recorded for a
// ticket an agent sent back to where it was before otai (the Inbox) names
// no label; train leaves it out and says so. A real correction of another
// ticket stays.
func TestTrainLeavesOutSentBack(t *testing.T) {
	dir := t.TempDir()
	data := labelledCSV(t, dir, 60, 6)
	ctx := context.Background()
	st := openStateDB(t, dir)
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for i, d := range []pipe.Decision{
		{ID: "d-back", At: at, Runner: "test", Pipe: "each", TicketID: "7", Outcome: pipe.StatusSucceeded,
			Changes: []pipe.Change{{Field: "queue", From: "Inbox", To: "Billing"}}},
		{ID: "d-moved", At: at, Runner: "test", Pipe: "each", TicketID: "8", Outcome: pipe.StatusSucceeded,
			Changes: []pipe.Change{{Field: "queue", From: "Inbox", To: "Billing"}}},
	} {
		if err := st.RecordDecision(ctx, d); err != nil {
			t.Fatal(err)
		}
		c := pipe.Correction{At: at.Add(time.Duration(i+1) * time.Minute), Runner: "test", TicketID: d.TicketID, Field: "queue",
			Otai: "Billing", Agent: []string{"inbox", "Sales"}[i], DecisionID: d.ID, Subject: "zorblax " + d.TicketID, Body: "text"}
		if err := st.RecordCorrection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs := otai(t, "train", "--data", data, "--label", "queue", "--corrections", "--data-dir", dir, "-o", filepath.Join(dir, "q.model"))
	if code != ExitOK || !strings.Contains(errs, "left out 1 correction that only sent a ticket back to its value before otai") ||
		!strings.Contains(errs, "added 1 correction of queue") {
		t.Errorf("exit %d\n%s\n%s", code, out, errs)
	}
	m, err := linear.Load(filepath.Join(dir, "q.model"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Labels {
		if strings.EqualFold(l, "Inbox") {
			t.Errorf("the model learned %q as a label: %v", l, m.Labels)
		}
	}
}
