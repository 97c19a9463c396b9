package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/otai-dev/otai/ticket"
	"github.com/otai-dev/otai/ticketsystem/local"
)

// TestMain lets the test binary act as the otai binary, so tests can run
// it as a real process and send it signals.
func TestMain(m *testing.M) {
	if os.Getenv("OTAI_TEST_AS_MAIN") == "1" {
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func otaiProcess(t *testing.T, args ...string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "OTAI_TEST_AS_MAIN=1")
	out, errb := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, errb
	return cmd, out, errb
}

// TestRunStopsOnSIGINT starts `otai run` on an interval trigger, waits for
// the first run, sends SIGINT and expects a clean exit 0.
func TestRunStopsOnSIGINT(t *testing.T) {
	dir := demoDir(t)
	cmd, out, errb := otaiProcess(t, "run", "--data-dir", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "runner triage-inbox") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no run within 30s\nstdout: %s\nstderr: %s", out, errb)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("otai run exited with %v after SIGINT\nstderr: %s", err, errb)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("otai run did not stop after SIGINT\nstderr: %s", errb)
	}
	if !strings.Contains(errb.String(), "shutting down") {
		t.Errorf("no shutdown message in the log:\n%s", errb)
	}
}

// TestOddBodies puts a ticket with an empty body and one with a 5 MB body
// into the demo inbox: both are triaged, and the big body is intact.
func TestOddBodies(t *testing.T) {
	dir := demoDir(t)
	ctx := context.Background()
	st, err := local.Open(ctx, filepath.Join(dir, "tickets.db"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := local.SeedDemo(ctx, st); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("Our invoice total is wrong, please send a corrected invoice. ", 5<<20/61)
	empty, err := st.CreateTicket(ctx, ticket.NewTicket{Subject: "Refund for invoice 123", Queue: ticket.Entity{Name: "Inbox"}, State: ticket.Entity{Name: "new"}, Priority: ticket.Entity{Name: "normal"}})
	if err != nil {
		t.Fatal(err)
	}
	huge, err := st.CreateTicket(ctx, ticket.NewTicket{Subject: "Long one", Body: big, Queue: ticket.Entity{Name: "Inbox"}, State: ticket.Entity{Name: "new"}, Priority: ticket.Entity{Name: "normal"}})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	code, out, errs := otai(t, "run", "--once", "--data-dir", dir)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	st, err = local.Open(ctx, filepath.Join(dir, "tickets.db"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, id := range []string{empty.ID, huge.ID} {
		got, err := st.GetTicket(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Queue.Name != "Billing" {
			t.Errorf("ticket %s (%q) is in %q, want Billing", id, got.Subject, got.Queue.Name)
		}
		if len(got.Notes) != 1 {
			t.Errorf("ticket %s has %d notes, want 1", id, len(got.Notes))
		}
		if id == huge.ID && got.Body != big {
			t.Errorf("the 5 MB body changed: %d bytes, want %d", len(got.Body), len(big))
		}
	}
}
