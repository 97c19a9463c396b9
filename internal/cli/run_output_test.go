package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
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
