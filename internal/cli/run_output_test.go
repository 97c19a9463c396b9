package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/ticket"
)

// TestRunJSONHasHTTPRetries: `otai run --output json` reports the run's
// HTTP retries, as /api/runs and the run's log line do.
func TestRunJSONHasHTTPRetries(t *testing.T) {
	var b strings.Builder
	printResults(&b, "json", []orchestrator.RunResult{{Runner: "triage", Started: time.Now(), Status: pipe.StatusSucceeded, HTTPRetries: 5}})
	var got map[string]any
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if n, ok := got["http_retries"].(float64); !ok || n != 5 {
		t.Errorf("http_retries = %v (%T), want 5:\n%s", got["http_retries"], got["http_retries"], b.String())
	}
}

// TestRunRejectsNegativeGrace: --grace -1s is a usage error, before
// anything is loaded or run.
func TestRunRejectsNegativeGrace(t *testing.T) {
	code, _, errs := otai(t, "run", "--once", "--grace", "-1s", "--data-dir", t.TempDir())
	if code != ExitUsage || !strings.Contains(errs, "--grace -1s") {
		t.Errorf("--grace -1s: exit %d, want %d\n%s", code, ExitUsage, errs)
	}
}

// TestRunJSONSummarisesTickets: the JSON result lists fetched tickets by
// id, subject, queue, priority and state, without bodies or notes, and the
// run's own result is left as it was.
func TestRunJSONSummarisesTickets(t *testing.T) {
	body := strings.Repeat("long body ", 1000)
	tickets := []ticket.Ticket{{ID: "7", Subject: "Printer", Body: body, Queue: ticket.Entity{Name: "Inbox"},
		Notes: []ticket.Note{{Body: "note text"}}, Customer: ticket.Entity{Name: "emily@example.com"}}}
	fetch := pipe.Result{Pipe: "fetch", Status: pipe.StatusSucceeded, Data: map[string]any{"tickets": tickets, "count": 1}}
	each := pipe.Result{Pipe: "each", Status: pipe.StatusSucceeded, Items: []pipe.ItemResult{{TicketID: "7",
		Steps: []pipe.Result{{Pipe: "inner", Data: map[string]any{"tickets": tickets}}}}}}
	r := orchestrator.RunResult{Runner: "triage", Status: pipe.StatusSucceeded, Steps: []pipe.Result{fetch, each}}
	var b strings.Builder
	printResults(&b, "json", []orchestrator.RunResult{r})
	out := b.String()
	for _, leak := range []string{"long body", "note text", "emily@example.com"} {
		if strings.Contains(out, leak) {
			t.Errorf("the JSON result carries %q", leak)
		}
	}
	for _, want := range []string{`"id":"7"`, `"subject":"Printer"`, `"queue":"Inbox"`, `"count":1`} {
		if !strings.Contains(out, want) {
			t.Errorf("the JSON result lacks %s:\n%s", want, out)
		}
	}
	if _, ok := r.Steps[0].Data["tickets"].([]ticket.Ticket); !ok {
		t.Error("printing changed the run's result")
	}
	if _, ok := r.Steps[1].Items[0].Steps[0].Data["tickets"].([]ticket.Ticket); !ok {
		t.Error("printing changed an item's steps")
	}
}
