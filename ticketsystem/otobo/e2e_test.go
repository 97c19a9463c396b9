package otobo_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
	"github.com/otai-dev/otai/ticketsystem/otobo"
	"github.com/otai-dev/otai/ticketsystem/otobo/otobofake"
)

// systemFromRegistry builds the adapter the way a config does: through the
// registered id and its params struct.
func systemFromRegistry(t testing.TB, id string, srv *otobofake.Server, mod func(*otobo.Params)) ticket.System {
	t.Helper()
	spec, ok := registry.Lookup(id)
	if !ok {
		t.Fatalf("%s not registered", id)
	}
	p := spec.NewParams().(*otobo.Params)
	p.BaseURL = srv.BaseURL
	p.WebserviceName = "GenericTicketConnectorREST"
	p.Username, p.Password = srv.Login()
	if mod != nil {
		mod(p)
	}
	s, err := spec.NewService(context.Background(), p, registry.Env{})
	if err != nil {
		t.Fatal(err)
	}
	sys := s.(ticket.System)
	if c, ok := sys.(ticket.Closer); ok {
		t.Cleanup(func() { _ = c.Close() })
	}
	return sys
}

// classify is the test's stand-in for a model: keywords to queue and priority.
func classify(text string) (queue, priority string, confidence float64) {
	text = strings.ToLower(text)
	switch {
	case strings.Contains(text, "invoice"):
		return "Billing", "3 normal", 0.91
	case strings.Contains(text, "printer"), strings.Contains(text, "laptop"):
		return "Hardware", "4 high", 0.88
	}
	return "", "", 0.2
}

// TestEndToEndTriage runs one triage pass (fetch from a queue, classify,
// move and prioritise, add an internal note) and checks the help desk's
// final state.
func TestEndToEndTriage(t *testing.T) {
	ctx := context.Background()
	srv := newFake(t, otobofake.Options{})
	for _, q := range []string{"Inbox", "Billing", "Hardware"} {
		srv.AddQueue(q)
	}
	invoice := srv.AddTicket(otobofake.Ticket{Title: "Invoice 2024-113 wrong", Queue: "Inbox", Body: "The invoice lists two licences."})
	printer := srv.AddTicket(otobofake.Ticket{Title: "Printer on 3rd floor", Queue: "Inbox", Body: "It jams on every page."})
	unclear := srv.AddTicket(otobofake.Ticket{Title: "Question", Queue: "Inbox", Body: "Who do I ask about this?"})
	closed := srv.AddTicket(otobofake.Ticket{Title: "Old invoice", Queue: "Inbox", State: "closed successful"})
	other := srv.AddTicket(otobofake.Ticket{Title: "Laptop", Queue: "Misc"})

	sys := systemFromRegistry(t, "otobo:TicketSystem", srv, nil)
	tickets, err := sys.FindTickets(ctx, ticket.SearchCriteria{Queue: &ticket.Entity{Name: "Inbox"}, State: &ticket.Entity{Name: "new"}, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(tickets) != 3 {
		t.Fatalf("fetched %d tickets, want 3", len(tickets))
	}
	for _, tk := range tickets {
		queue, prio, conf := classify(tk.Text())
		if conf >= 0.7 {
			if err := sys.UpdateTicket(ctx, tk.ID, ticket.Update{Queue: &ticket.Entity{Name: queue}, Priority: &ticket.Entity{Name: prio}}); err != nil {
				t.Fatalf("moving %s: %v", tk.ID, err)
			}
		}
		if _, err := sys.AddNote(ctx, tk.ID, ticket.Note{Body: fmt.Sprintf("otai: %s (%.0f%%)", orNone(queue), conf*100)}); err != nil {
			t.Fatalf("noting %s: %v", tk.ID, err)
		}
	}

	want := map[string]struct{ queue, prio string }{
		invoice: {"Billing", "3 normal"}, printer: {"Hardware", "4 high"}, unclear: {"Inbox", "3 normal"},
	}
	for id, w := range want {
		st, _ := srv.Ticket(id)
		if st.Queue != w.queue || st.Priority != w.prio {
			t.Errorf("ticket %s in %s/%s, want %s/%s", id, st.Queue, st.Priority, w.queue, w.prio)
		}
		var internal []otobofake.Article
		for _, a := range st.Articles[1:] {
			if a.Channel != "Internal" || a.IsVisibleForCustomer || a.SenderType != "agent" {
				t.Errorf("ticket %s: article %+v is not an internal agent note", id, a)
			}
			internal = append(internal, a)
		}
		if len(internal) != 1 || !strings.HasPrefix(internal[0].Body, "otai: ") {
			t.Errorf("ticket %s: %d notes %+v, want exactly one internal otai note", id, len(internal), internal)
		}
	}
	for _, id := range []string{closed, other} {
		if st, _ := srv.Ticket(id); len(st.Articles) != 1 {
			t.Errorf("ticket %s outside the search was touched", id)
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "no confident label"
	}
	return s
}

// TestSpeedBatchedVsSequential fetches 1,000 tickets from the fake with 20 ms
// latency per request, batched and concurrent (FindTickets) against one
// TicketGet after another. It takes about 25 s, so it runs only with
// OTAI_SPEED=1:
//
//	OTAI_SPEED=1 go test -run TestSpeedBatchedVsSequential -v ./ticketsystem/otobo/
func TestSpeedBatchedVsSequential(t *testing.T) {
	if os.Getenv("OTAI_SPEED") == "" {
		t.Skip("set OTAI_SPEED=1 to measure (about 25 s)")
	}
	ctx := context.Background()
	srv := newFake(t, otobofake.Options{})
	for range 1000 {
		srv.AddTicket(otobofake.Ticket{Title: "t", Queue: "Inbox", Body: "body"})
	}
	c := newClient(t, srv, nil)
	if _, err := c.FindTickets(ctx, ticket.SearchCriteria{Limit: 1}); err != nil { // session, warm connections
		t.Fatal(err)
	}
	srv.SetLatency(20 * time.Millisecond)

	start := time.Now()
	ts, err := c.FindTickets(ctx, ticket.SearchCriteria{Queue: &ticket.Entity{Name: "Inbox"}, Limit: 1000})
	batched := time.Since(start)
	if err != nil || len(ts) != 1000 {
		t.Fatalf("batched: %d, %v", len(ts), err)
	}

	start = time.Now()
	ids, err := c.SearchTicketIDs(ctx, otobo.Query{Queues: []string{"Inbox"}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := c.GetTicket(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	sequential := time.Since(start)
	t.Logf("1000 tickets, 20 ms latency: batched+concurrent %v, sequential %v, ratio %.1fx",
		batched.Round(time.Millisecond), sequential.Round(time.Millisecond), float64(sequential)/float64(batched))
}
