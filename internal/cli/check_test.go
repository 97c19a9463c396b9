package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otai-dev/otai/ticketsystem/otobo/otobofake"
)

// exampleAgainstFake writes examples/otobo.yml pointed at srv into a temp
// directory and returns its path.
func exampleAgainstFake(t *testing.T, srv *otobofake.Server) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "otobo.yml"))
	if err != nil {
		t.Fatal(err)
	}
	const base = "https://helpdesk.example.com/otobo/nph-genericinterface.pl"
	if !strings.Contains(string(b), base) {
		t.Fatalf("examples/otobo.yml no longer has base_url %s", base)
	}
	cfg := strings.Replace(string(b), base, srv.BaseURL, 1)
	path := filepath.Join(t.TempDir(), "otobo.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, pw := srv.Login()
	t.Setenv("OTAI_SECRET_OTOBO_PASSWORD", pw)
	return path
}

// TestCheckExampleBeforeTraining: check runs against examples/otobo.yml
// before the queue model exists (it starts only ticket systems), probes
// the move permission on the fetch pipe's queue (Inbox) and reports the
// target queues.
func TestCheckExampleBeforeTraining(t *testing.T) {
	srv := otobofake.New(otobofake.Options{})
	defer srv.Close()
	srv.AddTicket(otobofake.Ticket{Title: "printer", Queue: "Inbox"})
	srv.AddTicket(otobofake.Ticket{Title: "invoice", Queue: "Billing"})
	srv.SetPermissions(otobofake.DefaultAgent, "Billing", otobofake.PermRO)
	cfg := exampleAgainstFake(t, srv)
	dir := t.TempDir()

	code, out, errs := otai(t, "check", "--config", cfg, "--data-dir", dir, "--queue", "Billing", "--queue", "Nope")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, want := range []string{
		"ok   moving tickets out of Inbox",
		"ok   target queue Billing",
		"warn target queue Nope: not verified",
		"queue-model (base:LinearClassifier)\n  warn model: " + filepath.Join(dir, "queue.model") + " does not exist yet: train one with 'otai train ... -o",
		"2 check(s) could not be verified",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "queue.model")); err == nil {
		t.Error("check created a model file")
	}

	// Only ro on the source queue: moving out of it fails, and so does check.
	srv.SetPermissions(otobofake.DefaultAgent, "Inbox", otobofake.PermRO)
	code, out, _ = otai(t, "check", "--config", cfg, "--data-dir", dir)
	if code != ExitFailure || !strings.Contains(out, "FAIL moving tickets out of Inbox") {
		t.Errorf("ro on Inbox: exit %d\n%s", code, out)
	}
	// --source-queue adds a queue to probe.
	srv.AddTicket(otobofake.Ticket{Title: "other", Queue: "Misc"})
	code, out, _ = otai(t, "check", "--config", cfg, "--data-dir", dir, "--source-queue", "Misc")
	if !strings.Contains(out, "ok   moving tickets out of Misc") || code != ExitFailure {
		t.Errorf("--source-queue Misc: exit %d\n%s", code, out)
	}
}

// TestCheckClassifiers: check reports each classifier's model (the demo's,
// trained at the first run), fails on a damaged model file without
// stopping, and trains nothing.
func TestCheckClassifiers(t *testing.T) {
	dir := demoDir(t)
	code, out, errs := otai(t, "check", "--data-dir", dir)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{
		"queue-model (base:LinearClassifier)\n  ok   model: " + filepath.Join(dir, "models", "queue.model") + ": 5 labels (Billing, Human Resources, Returns, Sales, Technical Support)",
		"  ok   trained: ",
		" on 360 examples; held out ",
		"priority-model (base:LinearClassifier)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "bad.model"), []byte("OTAILIN\x00garbage"), 0o644)
	cfg := writeFile(t, bad, "c.yml", "services:\n  - id: desk\n    use: local:TicketSystem\n  - id: clf\n    use: base:LinearClassifier\n    params: {model: bad.model}\n  - id: later\n    use: base:LinearClassifier\n    params: {model: later.model, train: {ticket_system: desk}}\n")
	code, out, errs = otai(t, "check", "--config", cfg, "--data-dir", bad)
	if code != ExitFailure || !strings.Contains(out, "clf (base:LinearClassifier)\n  FAIL start: ") || !strings.Contains(out, "model file is truncated") ||
		!strings.Contains(out, "later (base:LinearClassifier)\n  warn model: "+filepath.Join(bad, "later.model")+" does not exist yet: it is trained at start-up from the closed tickets of desk") {
		t.Errorf("damaged model: exit %d\n%s\n%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(bad, "later.model")); err == nil {
		t.Error("check trained a model")
	}
}
