package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/state"
	"github.com/otai-dev/otai/ticket"
	"github.com/otai-dev/otai/ticketsystem/local"
)

// otai runs the CLI in-process and returns exit code, stdout and stderr.
func otai(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := MainContext(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestDemoEndToEnd runs the embedded default config twice in a fresh data
// directory and checks what was written to the store.
func TestDemoEndToEnd(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := otai(t, "run", "--once", "--data-dir", dir)
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.Contains(out, "runner triage-inbox: succeeded") || !strings.Contains(out, "TICKET") {
		t.Errorf("summary missing:\n%s", out)
	}

	ctx := context.Background()
	st, err := local.Open(ctx, filepath.Join(dir, "tickets.db"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	inbox := local.DemoInbox()
	moved, right := 0, 0
	notesAfterFirst := map[string]int{}
	for i := range inbox {
		ts, err := st.FindTickets(ctx, ticket.SearchCriteria{Subject: inbox[i].Subject, State: &ticket.Entity{Name: "new"}, Limit: 2})
		if err != nil || len(ts) != 1 {
			t.Fatalf("finding demo ticket %q: %v (%d found)", inbox[i].Subject, err, len(ts))
		}
		full, err := st.GetTicket(ctx, ts[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if full.Queue.Name != "Inbox" {
			moved++
			if full.Queue.Name == inbox[i].Queue || full.Queue.Name == inbox[i].AltQueue {
				right++
			}
		}
		otaiNotes := 0
		for _, n := range full.Notes {
			if strings.Contains(n.Body, "otai-ref:") {
				otaiNotes++
				if !n.Internal {
					t.Errorf("ticket %s: the otai note is not internal", full.ID)
				}
			}
		}
		if otaiNotes != 1 {
			t.Errorf("ticket %s: %d otai notes after the first run, want 1", full.ID, otaiNotes)
		}
		notesAfterFirst[full.ID] = len(full.Notes)
	}
	if moved < len(inbox)/2 {
		t.Errorf("only %d of %d inbox tickets were moved", moved, len(inbox))
	}
	if right < moved*3/4 {
		t.Errorf("only %d of %d moves went to the right queue", right, moved)
	}

	// A second run re-triages and re-notes nothing.
	code, out, errs = otai(t, "run", "--once", "--data-dir", dir)
	if code != ExitOK {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, " 0 triaged") {
		t.Errorf("second run triaged again:\n%s", out)
	}
	for id, n := range notesAfterFirst {
		full, err := st.GetTicket(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(full.Notes) != n {
			t.Errorf("ticket %s: %d notes after the second run, %d after the first", id, len(full.Notes), n)
		}
	}
}

func TestDecisionsCommand(t *testing.T) {
	dir := demoDir(t) // no state.db yet
	if code, _, errs := otai(t, "decisions", "--data-dir", dir); code != ExitEnv || !strings.Contains(errs, "no decisions yet") {
		t.Errorf("before any run: exit %d, %s", code, errs)
	}
	if code, _, errs := otai(t, "run", "--once", "--data-dir", dir); code != ExitOK {
		t.Fatalf("run: %d %s", code, errs)
	}
	code, out, _ := otai(t, "decisions", "--data-dir", dir, "--format", "jsonl", "--since", "1h")
	if code != ExitOK || strings.Count(out, "\n") != len(local.DemoInbox()) {
		t.Errorf("exit %d, %d decisions, want %d:\n%s", code, strings.Count(out, "\n"), len(local.DemoInbox()), out)
	}
	if !strings.Contains(out, `"written":["set queue Inbox -\u003e`) || !strings.Contains(out, `"model":"linear/queue"`) {
		t.Errorf("decisions lack the write-back or the model:\n%s", out)
	}
	code, out, _ = otai(t, "decisions", "--data-dir", dir, "--format", "csv", "--limit", "2")
	if code != ExitOK || strings.Count(out, "\n") != 3 || !strings.HasPrefix(out, "id,at,runner") {
		t.Errorf("csv: exit %d:\n%s", code, out)
	}
	if code, out, _ = otai(t, "decisions", "--data-dir", dir, "--outcome", "failed"); code != ExitOK || !strings.Contains(out, "no decisions match") {
		t.Errorf("failed filter: exit %d: %s", code, out)
	}
	if code, _, _ = otai(t, "decisions", "--data-dir", dir, "--since", "yesterday-ish"); code != ExitUsage {
		t.Errorf("bad --since: exit %d", code)
	}
}

func TestRunJSONOutput(t *testing.T) {
	code, out, errs := otai(t, "run", "--once", "--output", "json", "--data-dir", demoDir(t), "--log-format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Runner string         `json:"runner"`
		Status string         `json:"status"`
		Counts map[string]int `json:"counts"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout is not one JSON result: %v\n%s", err, out)
	}
	if res.Runner != "triage-inbox" || res.Status != "succeeded" || res.Counts["succeeded"] != len(local.DemoInbox()) {
		t.Errorf("result = %+v", res)
	}
	for _, line := range strings.Split(strings.TrimSpace(errs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line is not JSON: %q", line)
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yml", "services:\n  - id: x\n    use: local:TicketSystm\n")
	good := writeFile(t, dir, "good.yml", "services:\n  - id: x\n    use: local:TicketSystem\n")
	emptyUse := writeFile(t, dir, "empty.yml", "pipes:\n  - id: a\n    use: ''\n")
	notDir := writeFile(t, dir, "file", "")
	corrupt := filepath.Join(dir, "corrupt")
	os.MkdirAll(corrupt, 0o755)
	writeFile(t, corrupt, "tickets.db", strings.Repeat("this is not a database ", 400))

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
		stdout string
	}{
		{"help", []string{"--help"}, ExitOK, "", "Exit codes"},
		{"version", []string{"version"}, ExitOK, "", "otai "},
		{"unknown flag", []string{"run", "--bogus"}, ExitUsage, "unknown flag: --bogus", ""},
		{"unknown command", []string{"frobnicate"}, ExitUsage, "unknown command", ""},
		{"bad log level", []string{"version", "--log-level", "loud"}, ExitUsage, "--log-level", ""},
		{"validate bad", []string{"validate", bad}, ExitFailure, "bad.yml:3:10: services[0].use: unknown component \"local:TicketSystm\" (did you mean \"local:TicketSystem\"?)", ""},
		{"validate empty use", []string{"validate", emptyUse}, ExitFailure, "empty.yml:3:10: pipes[0].use: must not be empty\notai: 1 problem in", ""},
		{"validate good", []string{"validate", good}, ExitOK, "", "good.yml: valid (1 service, 0 pipes, 0 runners)"},
		{"validate default", []string{"validate"}, ExitOK, "", "valid"},
		{"validate missing file", []string{"validate", filepath.Join(dir, "nope.yml")}, ExitEnv, "reading config", ""},
		{"data dir under a file", []string{"run", "--once", "--data-dir", filepath.Join(notDir, "sub")}, ExitEnv, "cannot be created", ""},
		{"corrupt database", []string{"run", "--once", "--data-dir", corrupt}, ExitEnv, "tickets.db", ""},
		{"run nothing", []string{"run", "--once", "--config", good, "--data-dir", dir}, ExitFailure, "nothing to run", ""},
		{"unknown runner", []string{"run", "--once", "--runner", "nope", "--data-dir", dir}, ExitUsage, "no such runner", ""},
		{"schema list", []string{"schema", "--list"}, ExitOK, "", "base:FetchTicketsPipe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := otai(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errs)
			}
			if !strings.Contains(errs, tt.stderr) {
				t.Errorf("stderr %q does not contain %q", errs, tt.stderr)
			}
			if !strings.Contains(out, tt.stdout) {
				t.Errorf("stdout %q does not contain %q", out, tt.stdout)
			}
		})
	}
}

func TestSchemaIsJSONSchema(t *testing.T) {
	code, out, _ := otai(t, "schema")
	if code != ExitOK {
		t.Fatal(code)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"base:FetchTicketsPipe", "local:TicketSystem", "base:RuleClassifier", "otai_base:pipes.ticket_system_pipes.FetchTicketsPipe"} {
		if !strings.Contains(out, id) {
			t.Errorf("schema lacks %s", id)
		}
	}
}

// TestSecretNeverLogged runs a config whose secret shows up in a param, a
// failing template and a ticket system error, with debug JSON logs, and
// checks that the value appears nowhere in the output.
func TestSecretNeverLogged(t *testing.T) {
	const value = "pa55-W0rd-very-secret"
	t.Setenv("OTAI_SECRET_DEMO_PASSWORD", value)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "c.yml", `
services:
  - id: store
    use: local:TicketSystem
    params:
      path: 'store-${{ secrets.DEMO_PASSWORD }}.db'
      demo: true
pipes:
  - id: fetch
    use: base:FetchTicketsPipe
    params:
      ticket_search_criteria: { queue: { name: Inbox }, limit: 2 }
  - id: each
    use: base:ForEachTicketPipe
    params: { tickets: '{{ pipes.fetch.tickets }}' }
    steps:
      - id: move
        use: base:UpdateTicketPipe
        params:
          updates: { queue: 'Nowhere ${{ secrets.DEMO_PASSWORD }}' }
`)
	code, out, errs := otai(t, "run", "--once", "--config", cfg, "--data-dir", dir, "--log-level", "debug", "--log-format", "json")
	if code != ExitFailure {
		t.Errorf("exit %d, want %d (the move must fail)\n%s\n%s", code, ExitFailure, out, errs)
	}
	all := out + errs
	if strings.Contains(all, value) {
		t.Fatalf("the secret leaked:\n%s", all)
	}
	if !strings.Contains(all, "[REDACTED]") {
		t.Errorf("expected a redacted mention of the secret in the failure output:\n%s", all)
	}
	// nor the decision store
	code, out, errs = otai(t, "decisions", "--data-dir", dir, "--format", "jsonl")
	if code != ExitOK || !strings.Contains(out, `"outcome":"failed"`) || strings.Contains(out+errs, value) {
		t.Errorf("decisions: exit %d, output:\n%s%s", code, out, errs)
	}
	db, _ := os.ReadFile(filepath.Join(dir, "state.db"))
	wal, _ := os.ReadFile(filepath.Join(dir, "state.db-wal"))
	if strings.Contains(string(db)+string(wal), value) {
		t.Errorf("the secret is in state.db")
	}
	code, out, errs = otai(t, "validate", cfg)
	if code != ExitOK || strings.Contains(out+errs, value) {
		t.Errorf("validate: exit %d, output:\n%s%s", code, out, errs)
	}
}

func TestMissingSecretIsAConfigError(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "c.yml", "services:\n  - id: s\n    use: local:TicketSystem\n    params:\n      path: '${{ secrets.NOT_SET_ANYWHERE }}'\n")
	code, _, errs := otai(t, "validate", cfg, "--secrets-dir", dir)
	if code != ExitFailure || !strings.Contains(errs, "c.yml:5:14: services[0].params.path: secret NOT_SET_ANYWHERE: secret not set") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

// TestShadowReport runs the demo dry, lets "agents" route some tickets the
// way otai would have and some otherwise, and checks the report's counts.
func TestShadowReport(t *testing.T) {
	dir := demoDir(t)
	if code, out, errs := otai(t, "run", "--once", "--dry-run", "--data-dir", dir); code != ExitOK || !strings.Contains(out, "dry run: nothing written") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ := otai(t, "decisions", "--data-dir", dir, "--format", "jsonl", "--dry-run", "true")
	if code != ExitOK {
		t.Fatal(code)
	}
	type dec struct {
		TicketID string `json:"ticket_id"`
		Changes  []struct{ Field, From, To string }
	}
	var planned []dec
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var d dec
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatal(err)
		}
		planned = append(planned, d)
	}
	ctx := context.Background()
	st, err := local.Open(ctx, filepath.Join(dir, "tickets.db"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	agreed, otherwise, queueMoves := 0, 0, 0
	for _, d := range planned {
		for _, c := range d.Changes {
			if c.Field != "queue" {
				continue
			}
			queueMoves++
			switch queueMoves % 3 {
			case 0: // untouched
			case 1:
				agreed++
				st.UpdateTicket(ctx, d.TicketID, ticket.Update{Queue: &ticket.Entity{Name: c.To}})
			case 2:
				otherwise++
				other := "Sales"
				if c.To == "Sales" {
					other = "Billing"
				}
				st.UpdateTicket(ctx, d.TicketID, ticket.Update{Queue: &ticket.Entity{Name: other}})
			}
		}
	}
	st.Close()
	if queueMoves < 6 {
		t.Fatalf("only %d planned queue moves", queueMoves)
	}
	code, out, errs := otai(t, "decisions", "--shadow-report", "--data-dir", dir)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := fmt.Sprintf("queue     %d        %d       %d          %d", queueMoves, agreed, otherwise, queueMoves-agreed-otherwise)
	if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
		t.Errorf("report lacks %q:\n%s", want, out)
	}
}

// TestRespectHumans: otai moves invoices to Billing; an agent moves one of
// them on to Sales; the next run keeps Sales, records the correction, and
// writes no second note.
func TestRespectHumans(t *testing.T) {
	dir := demoDir(t)
	cfg := writeFile(t, dir, "c.yml", `
services:
  - id: store
    use: local:TicketSystem
    params: { path: tickets.db, demo: true }
  - id: rules
    use: base:RuleClassifier
    params:
      rules:
        - { label: Billing, keywords: [invoice, refund, charged, Rechnung, Rechnungskorrektur], confidence: 0.9 }
pipes:
  - id: fetch
    use: base:FetchTicketsPipe
    params: { ticket_search_criteria: { state: new, limit: 100 } }
  - id: each
    use: base:ForEachTicketPipe
    params: { tickets: '{{ pipes.fetch.tickets }}' }
    steps:
      - id: classify
        use: base:ClassifyPipe
        params: { threshold: 0.5 }
      - id: move
        use: base:UpdateTicketPipe
        params: { updates: { queue: "{{ pipes.classify.above_threshold ? pipes.classify.label : '' }}" } }
      - id: note
        use: base:AddNotePipe
        if: pipes.classify.label != ''
        params: { note: { body: "otai: {{ pipes.classify.label }}" } }
`)
	if code, out, errs := otai(t, "run", "--once", "--config", cfg, "--data-dir", dir); code != ExitOK {
		t.Fatalf("first run: %d\n%s\n%s", code, out, errs)
	}
	ctx := context.Background()
	st, err := local.Open(ctx, filepath.Join(dir, "tickets.db"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	billing, err := st.FindTickets(ctx, ticket.SearchCriteria{Queue: &ticket.Entity{Name: "Billing"}, State: &ticket.Entity{Name: "new"}})
	if err != nil || len(billing) < 2 {
		t.Fatalf("expected invoices moved to Billing, got %d (%v)", len(billing), err)
	}
	moved := billing[0].ID
	time.Sleep(10 * time.Millisecond) // the agent acts after otai
	if err := st.UpdateTicket(ctx, moved, ticket.Update{Queue: &ticket.Entity{Name: "Sales"}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	code, out, errs := otai(t, "run", "--once", "--config", cfg, "--data-dir", dir)
	if code != ExitOK || !strings.Contains(out, "kept queue Sales (agent)") {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errs)
	}
	st, err = local.Open(ctx, filepath.Join(dir, "tickets.db"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.GetTicket(ctx, moved)
	if err != nil {
		t.Fatal(err)
	}
	if got.Queue.Name != "Sales" {
		t.Errorf("otai overrode the agent: queue %q", got.Queue.Name)
	}
	notes := 0
	for _, n := range got.Notes {
		if strings.Contains(n.Body, "otai-ref:") {
			notes++
		}
	}
	if notes != 1 {
		t.Errorf("%d otai notes, want 1", notes)
	}
	sdb, err := state.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	cs, err := sdb.Corrections(ctx, "queue", time.Time{})
	if err != nil || len(cs) != 1 || cs[0].TicketID != moved || cs[0].Otai != "Billing" || cs[0].Agent != "Sales" || cs[0].Subject == "" {
		t.Fatalf("corrections = %+v, %v", cs, err)
	}
	// A third run finds nothing changed: no new correction, no write.
	if code, out, _ := otai(t, "run", "--once", "--config", cfg, "--data-dir", dir); code != ExitOK || !strings.Contains(out, " 0 triaged") {
		t.Errorf("third run: exit %d\n%s", code, out)
	}
}

// TestShortSecretWarned: a secret too short to be redacted is used, but the
// user is told that it will show in the output.
func TestShortSecretWarned(t *testing.T) {
	t.Setenv("OTAI_SECRET_PIN", "xyz")
	dir := t.TempDir()
	cfg := writeFile(t, dir, "c.yml", `
services:
  - id: store
    use: local:TicketSystem
    params: { path: 'store-${{ secrets.PIN }}.db', demo: true }
pipes:
  - id: fetch
    use: base:FetchTicketsPipe
    params:
      ticket_search_criteria: { queue: { name: '${{ secrets.PIN }}' }, limit: 1 }
`)
	code, out, errs := otai(t, "validate", cfg)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if n := strings.Count(errs, "secret PIN is shorter than 4 characters"); n != 1 {
		t.Errorf("warned %d times, want once:\n%s", n, errs)
	}
}
