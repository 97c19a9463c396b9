package local

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otai-dev/otai/internal/sqlitex/sqlitextest"
	"github.com/otai-dev/otai/ticket"
)

// clock is a test clock that advances by a millisecond on every read.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openTest(t *testing.T) (*Store, *clock) {
	t.Helper()
	c := newClock()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "tickets.db"), Options{Now: c.Now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, c
}

func mustCreate(t *testing.T, s *Store, nt ticket.NewTicket) *ticket.Ticket {
	t.Helper()
	tk, err := s.CreateTicket(context.Background(), nt)
	if err != nil {
		t.Fatalf("CreateTicket(%q): %v", nt.Subject, err)
	}
	return tk
}

// mustEnsure fails the test on err: mustEnsure(t)(s.EnsureQueue(ctx, "x")).
func mustEnsure(t *testing.T) func(ticket.Entity, error) ticket.Entity {
	return func(e ticket.Entity, err error) ticket.Entity {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
}

// wantKind checks err is a *ticket.Error of kind, for field (if not "").
func wantKind(t *testing.T, err error, kind error, field string) *ticket.Error {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want kind %v", err, kind)
	}
	var te *ticket.Error
	if !errors.As(err, &te) {
		t.Fatalf("error %v is not a *ticket.Error", err)
	}
	if field != "" && te.Field != field {
		t.Fatalf("error field = %q, want %q (%v)", te.Field, field, err)
	}
	return te
}

func TestCreateAndGetTicket(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	billing := mustEnsure(t)(s.EnsureQueue(ctx, "Billing"))
	mustEnsure(t)(s.EnsureType(ctx, "Incident"))
	agent := mustEnsure(t)(s.EnsureAgent(ctx, "maria.keller"))

	created := mustCreate(t, s, ticket.NewTicket{
		Subject: "Charged twice", Body: "Invoice INV-1 was charged twice.",
		Queue: ticket.Entity{Name: "billing"}, Priority: ticket.Entity{Name: "High"},
		State: ticket.Entity{Name: "open"}, Type: ticket.Entity{Name: "Incident"},
		Owner: ticket.Entity{ID: agent.ID}, Customer: ticket.Entity{Name: "emily@example.com"},
		Tags: []string{"vip", " ", "VIP", "refund"}, CustomFields: map[string]any{"contract": "C-9", "seats": 12},
	})
	got, err := s.GetTicket(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != created.ID || got.ID != "1" {
		t.Errorf("id = %q, created %q, want 1", got.ID, created.ID)
	}
	if !regexp.MustCompile(`^20261101\d{5}$`).MatchString(got.Number) {
		t.Errorf("number = %q, want date + sequence", got.Number)
	}
	checks := []struct{ name, got, want string }{
		{"subject", got.Subject, "Charged twice"},
		{"body", got.Body, "Invoice INV-1 was charged twice."},
		{"queue", got.Queue.Name, "Billing"},
		{"queue id", got.Queue.ID, billing.ID},
		{"priority", got.Priority.Name, "high"},
		{"state", got.State.Name, "open"},
		{"type", got.Type.Name, "Incident"},
		{"owner", got.Owner.Name, "maria.keller"},
		{"customer", got.Customer.Name, "emily@example.com"},
		{"tags", strings.Join(got.Tags, ","), "refund,vip"},
		{"custom contract", fmt.Sprint(got.CustomFields["contract"]), "C-9"},
		{"custom seats", fmt.Sprint(got.CustomFields["seats"]), "12"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if got.CreatedAt.IsZero() || got.CreatedAt.Location() != time.UTC || !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Errorf("times: created %v updated %v", got.CreatedAt, got.UpdatedAt)
	}
	if len(got.Notes) != 0 {
		t.Errorf("notes = %v, want none", got.Notes)
	}
}

func TestCreateTicketDefaults(t *testing.T) {
	s, _ := openTest(t)
	tk := mustCreate(t, s, ticket.NewTicket{Subject: "Only a subject"})
	if tk.Queue.Name != "Inbox" || tk.Priority.Name != "normal" || tk.State.Name != "new" {
		t.Errorf("defaults = %v/%v/%v, want Inbox/normal/new", tk.Queue, tk.Priority, tk.State)
	}
	if !tk.Type.IsZero() || !tk.Owner.IsZero() || !tk.Customer.IsZero() || tk.Tags != nil || tk.CustomFields != nil {
		t.Errorf("unexpected optional fields: %+v", tk)
	}
}

func TestCreateTicketValidation(t *testing.T) {
	s, _ := openTest(t)
	cases := []struct {
		name   string
		nt     ticket.NewTicket
		field  string
		listed string // a valid value the message must list
	}{
		{"unknown queue", ticket.NewTicket{Subject: "x", Queue: ticket.Entity{Name: "Nowhere"}}, "queue", "Inbox"},
		{"unknown queue id", ticket.NewTicket{Subject: "x", Queue: ticket.Entity{ID: "99"}}, "queue", "Inbox"},
		{"non-numeric queue id", ticket.NewTicket{Subject: "x", Queue: ticket.Entity{ID: "abc"}}, "queue", "Inbox"},
		{"unknown priority", ticket.NewTicket{Subject: "x", Priority: ticket.Entity{Name: "blocker"}}, "priority", "normal"},
		{"unknown state", ticket.NewTicket{Subject: "x", State: ticket.Entity{Name: "archived"}}, "state", "closed"},
		{"unknown type", ticket.NewTicket{Subject: "x", Type: ticket.Entity{Name: "Problem"}}, "type", ""},
		{"unknown owner", ticket.NewTicket{Subject: "x", Owner: ticket.Entity{Name: "ghost"}}, "owner", ""},
		{"empty subject", ticket.NewTicket{Subject: "  ", Body: "b"}, "subject", ""},
		{"bad content type", ticket.NewTicket{Subject: "x", ContentType: "application/pdf"}, "content_type", "text/html"},
		{"unencodable custom field", ticket.NewTicket{Subject: "x", CustomFields: map[string]any{"f": func() {}}}, "custom_fields", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.CreateTicket(context.Background(), c.nt)
			te := wantKind(t, err, ticket.ErrValidation, c.field)
			if c.listed != "" && !strings.Contains(te.Message, c.listed) {
				t.Errorf("message %q does not list %q", te.Message, c.listed)
			}
			if !strings.HasPrefix(err.Error(), "creating ticket") {
				t.Errorf("error %q lacks its operation", err)
			}
		})
	}
	if n, _ := s.Count(context.Background(), ticket.SearchCriteria{}); n != 0 {
		t.Errorf("failed creates left %d tickets", n)
	}
}

func TestNotFound(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	mustCreate(t, s, ticket.NewTicket{Subject: "exists"})
	for _, id := range []string{"2", "999", "abc", "", "-1", "0"} {
		t.Run(fmt.Sprintf("id %q", id), func(t *testing.T) {
			_, err := s.GetTicket(ctx, id)
			wantKind(t, err, ticket.ErrNotFound, "")
			if !strings.Contains(err.Error(), "getting ticket "+id) {
				t.Errorf("error %q lacks context", err)
			}
			subj := "new"
			err = s.UpdateTicket(ctx, id, ticket.Update{Subject: &subj})
			wantKind(t, err, ticket.ErrNotFound, "")
			err = s.UpdateTicket(ctx, id, ticket.Update{})
			wantKind(t, err, ticket.ErrNotFound, "")
			_, err = s.AddNote(ctx, id, ticket.Note{Body: "hi"})
			wantKind(t, err, ticket.ErrNotFound, "")
		})
	}
}

// fixture creates tickets for search tests and returns them by key.
func fixture(t *testing.T, s *Store, c *clock) map[string]*ticket.Ticket {
	ctx := context.Background()
	mustEnsure(t)(s.EnsureQueue(ctx, "Billing"))
	mustEnsure(t)(s.EnsureQueue(ctx, "Technical Support"))
	mustEnsure(t)(s.EnsureAgent(ctx, "anna"))
	mustEnsure(t)(s.EnsureAgent(ctx, "tom"))
	out := map[string]*ticket.Ticket{}
	for _, f := range []struct {
		key string
		nt  ticket.NewTicket
	}{
		{"b1", ticket.NewTicket{Subject: "Invoice wrong", Queue: ticket.Entity{Name: "Billing"}, Owner: ticket.Entity{Name: "anna"}}},
		{"t1", ticket.NewTicket{Subject: "VPN drops", Queue: ticket.Entity{Name: "Technical Support"}, State: ticket.Entity{Name: "open"}}},
		{"b2", ticket.NewTicket{Subject: "Ärger mit der Rechnung", Queue: ticket.Entity{Name: "Billing"}, State: ticket.Entity{Name: "closed"}, Owner: ticket.Entity{Name: "tom"}}},
		{"i1", ticket.NewTicket{Subject: "Hello INVOICE team"}},
		{"t2", ticket.NewTicket{Subject: "Printer offline", Queue: ticket.Entity{Name: "Technical Support"}, Owner: ticket.Entity{Name: "anna"}}},
	} {
		c.Advance(time.Hour)
		out[f.key] = mustCreate(t, s, f.nt)
	}
	return out
}

func ids(ts []ticket.Ticket) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestFindTickets(t *testing.T) {
	ctx := context.Background()
	s, c := openTest(t)
	fx := fixture(t, s, c)
	id := func(keys ...string) []string {
		out := []string{}
		for _, k := range keys {
			out = append(out, fx[k].ID)
		}
		return out
	}
	billing, _ := s.FindFirstTicket(ctx, ticket.SearchCriteria{ID: fx["b1"].ID})
	anna := fx["b1"].Owner

	cases := []struct {
		name string
		c    ticket.SearchCriteria
		want []string
	}{
		{"all, oldest first", ticket.SearchCriteria{}, id("b1", "t1", "b2", "i1", "t2")},
		{"by id", ticket.SearchCriteria{ID: fx["b2"].ID}, id("b2")},
		{"by missing id", ticket.SearchCriteria{ID: "999"}, id()},
		{"by non-numeric id", ticket.SearchCriteria{ID: "x"}, id()},
		{"subject substring, case-insensitive", ticket.SearchCriteria{Subject: "invoice"}, id("b1", "i1")},
		{"subject with umlaut, case-insensitive", ticket.SearchCriteria{Subject: "ärger"}, id("b2")},
		{"subject no match", ticket.SearchCriteria{Subject: "zebra"}, id()},
		{"queue by name", ticket.SearchCriteria{Queue: &ticket.Entity{Name: "billing"}}, id("b1", "b2")},
		{"queue by id", ticket.SearchCriteria{Queue: &ticket.Entity{ID: billing.Queue.ID}}, id("b1", "b2")},
		{"queue unknown", ticket.SearchCriteria{Queue: &ticket.Entity{Name: "Sales"}}, id()},
		{"queue empty entity ignored", ticket.SearchCriteria{Queue: &ticket.Entity{}}, id("b1", "t1", "b2", "i1", "t2")},
		{"state by name", ticket.SearchCriteria{State: &ticket.Entity{Name: "new"}}, id("b1", "i1", "t2")},
		{"state by id", ticket.SearchCriteria{State: &ticket.Entity{ID: fx["t1"].State.ID}}, id("t1")},
		{"owner by name", ticket.SearchCriteria{Owner: &ticket.Entity{Name: "anna"}}, id("b1", "t2")},
		{"owner by id", ticket.SearchCriteria{Owner: &ticket.Entity{ID: anna.ID}}, id("b1", "t2")},
		{"queue and state", ticket.SearchCriteria{Queue: &ticket.Entity{Name: "Billing"}, State: &ticket.Entity{Name: "closed"}}, id("b2")},
		{"updated since", ticket.SearchCriteria{UpdatedSince: fx["b2"].UpdatedAt}, id("b2", "i1", "t2")},
		{"limit", ticket.SearchCriteria{Limit: 2}, id("b1", "t1")},
		{"offset", ticket.SearchCriteria{Offset: 3}, id("i1", "t2")},
		{"limit and offset", ticket.SearchCriteria{Limit: 2, Offset: 1}, id("t1", "b2")},
		{"offset past end", ticket.SearchCriteria{Offset: 10}, id()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.FindTickets(ctx, tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("got %v, want %v", ids(got), tc.want)
			}
			n, err := s.Count(ctx, tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if tc.c.Limit == 0 && tc.c.Offset == 0 && n != len(tc.want) {
				t.Errorf("Count = %d, want %d", n, len(tc.want))
			}
		})
	}

	// Results carry entities and body but no notes.
	if _, err := s.AddNote(ctx, fx["b1"].ID, ticket.Note{Body: "note"}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.FindTickets(ctx, ticket.SearchCriteria{ID: fx["b1"].ID})
	if len(got) != 1 || got[0].Queue.Name != "Billing" || got[0].Owner.Name != "anna" || len(got[0].Notes) != 0 {
		t.Errorf("found %+v", got)
	}
}

func TestFindTicketsOrderTiesByID(t *testing.T) {
	ctx := context.Background()
	fixed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"), Options{Now: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 3 {
		mustCreate(t, s, ticket.NewTicket{Subject: fmt.Sprint("same time ", i)})
	}
	got, _ := s.FindTickets(ctx, ticket.SearchCriteria{})
	if !slices.Equal(ids(got), []string{"1", "2", "3"}) {
		t.Errorf("order = %v", ids(got))
	}
	// An older imported ticket sorts first although its id is higher.
	if _, err := s.Import(ctx, []ticket.Ticket{{Subject: "old", CreatedAt: fixed.Add(-time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.FindTickets(ctx, ticket.SearchCriteria{})
	if !slices.Equal(ids(got), []string{"4", "1", "2", "3"}) {
		t.Errorf("order = %v", ids(got))
	}
}

func TestFindFirstTicket(t *testing.T) {
	ctx := context.Background()
	s, c := openTest(t)
	fx := fixture(t, s, c)
	got, err := s.FindFirstTicket(ctx, ticket.SearchCriteria{Queue: &ticket.Entity{Name: "Technical Support"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != fx["t1"].ID {
		t.Errorf("first = %s, want %s", got.ID, fx["t1"].ID)
	}
	_, err = s.FindFirstTicket(ctx, ticket.SearchCriteria{Subject: "nothing like this"})
	wantKind(t, err, ticket.ErrNotFound, "")
}

func TestUpdateTicket(t *testing.T) {
	ctx := context.Background()
	s, c := openTest(t)
	fx := fixture(t, s, c)
	mustEnsure(t)(s.EnsureType(ctx, "Incident"))
	id := fx["i1"].ID
	get := func() *ticket.Ticket {
		t.Helper()
		tk, err := s.GetTicket(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	ptr := func(e ticket.Entity) *ticket.Entity { return &e }
	str := func(s string) *string { return &s }

	steps := []struct {
		name  string
		u     ticket.Update
		check func(tk *ticket.Ticket) string
	}{
		{"queue by name", ticket.Update{Queue: ptr(ticket.Entity{Name: "billing"})}, func(tk *ticket.Ticket) string { return tk.Queue.Name + "=Billing" }},
		{"queue by id", ticket.Update{Queue: ptr(ticket.Entity{ID: fx["t1"].Queue.ID})}, func(tk *ticket.Ticket) string { return tk.Queue.Name + "=Technical Support" }},
		{"priority", ticket.Update{Priority: ptr(ticket.Entity{Name: "HIGH"})}, func(tk *ticket.Ticket) string { return tk.Priority.Name + "=high" }},
		{"state", ticket.Update{State: ptr(ticket.Entity{Name: "closed"})}, func(tk *ticket.Ticket) string { return tk.State.Name + "=closed" }},
		{"type", ticket.Update{Type: ptr(ticket.Entity{Name: "Incident"})}, func(tk *ticket.Ticket) string { return tk.Type.Name + "=Incident" }},
		{"type cleared", ticket.Update{Type: ptr(ticket.Entity{})}, func(tk *ticket.Ticket) string { return tk.Type.Name + "=" }},
		{"owner by name", ticket.Update{Owner: ptr(ticket.Entity{Name: "tom"})}, func(tk *ticket.Ticket) string { return tk.Owner.Name + "=tom" }},
		{"owner by id", ticket.Update{Owner: ptr(ticket.Entity{ID: fx["b1"].Owner.ID})}, func(tk *ticket.Ticket) string { return tk.Owner.Name + "=anna" }},
		{"owner cleared", ticket.Update{Owner: ptr(ticket.Entity{})}, func(tk *ticket.Ticket) string { return tk.Owner.Name + "=" }},
		{"subject", ticket.Update{Subject: str("Renamed")}, func(tk *ticket.Ticket) string { return tk.Subject + "=Renamed" }},
		{"add tags", ticket.Update{AddTags: []string{"b", "a", "B", ""}}, func(tk *ticket.Ticket) string { return strings.Join(tk.Tags, ",") + "=a,b" }},
		{"add and remove tags", ticket.Update{AddTags: []string{"c"}, RemoveTags: []string{"A", "missing"}}, func(tk *ticket.Ticket) string { return strings.Join(tk.Tags, ",") + "=b,c" }},
		{"custom fields set", ticket.Update{CustomFields: map[string]any{"k1": "v1", "k2": 2.5}}, func(tk *ticket.Ticket) string {
			return fmt.Sprintf("%v %v", tk.CustomFields["k1"], tk.CustomFields["k2"]) + "=v1 2.5"
		}},
		{"custom fields merged", ticket.Update{CustomFields: map[string]any{"k2": nil, "k3": []any{"x"}}}, func(tk *ticket.Ticket) string {
			return fmt.Sprintf("%v %v %v", len(tk.CustomFields), tk.CustomFields["k1"], tk.CustomFields["k3"]) + "=2 v1 [x]"
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := get().UpdatedAt
			c.Advance(time.Minute)
			if err := s.UpdateTicket(ctx, id, st.u); err != nil {
				t.Fatal(err)
			}
			tk := get()
			got, want, _ := strings.Cut(st.check(tk), "=")
			if got != want {
				t.Errorf("got %q, want %q", got, want)
			}
			if !tk.UpdatedAt.After(before) {
				t.Errorf("updated_at %v not bumped from %v", tk.UpdatedAt, before)
			}
		})
	}

	t.Run("empty update changes nothing", func(t *testing.T) {
		before := get()
		if err := s.UpdateTicket(ctx, id, ticket.Update{}); err != nil {
			t.Fatal(err)
		}
		if after := get(); !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("empty update bumped updated_at")
		}
	})

	invalid := []struct {
		name   string
		u      ticket.Update
		field  string
		listed string
	}{
		{"unknown queue", ticket.Update{Queue: ptr(ticket.Entity{Name: "Sales"})}, "queue", "Billing (2), Technical Support (3)"},
		{"unknown queue id", ticket.Update{Queue: ptr(ticket.Entity{ID: "42"})}, "queue", "Inbox (1)"},
		{"empty queue", ticket.Update{Queue: ptr(ticket.Entity{})}, "queue", "Inbox"},
		{"unknown priority", ticket.Update{Priority: ptr(ticket.Entity{Name: "urgent"})}, "priority", "low (1), normal (2), high (3)"},
		{"unknown state", ticket.Update{State: ptr(ticket.Entity{Name: "pending"})}, "state", "new (1), open (2), closed (3)"},
		{"unknown state id", ticket.Update{State: ptr(ticket.Entity{ID: "9"})}, "state", "closed"},
		{"unknown type", ticket.Update{Type: ptr(ticket.Entity{Name: "Problem"})}, "type", "Incident"},
		{"unknown owner", ticket.Update{Owner: ptr(ticket.Entity{Name: "ghost"})}, "owner", "anna"},
		{"customer is not an agent", ticket.Update{Owner: ptr(ticket.Entity{Name: "nobody@example.com"})}, "owner", "tom"},
		{"empty subject", ticket.Update{Subject: str("")}, "subject", ""},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			before := get()
			err := s.UpdateTicket(ctx, id, tc.u)
			te := wantKind(t, err, ticket.ErrValidation, tc.field)
			if tc.listed != "" && !strings.Contains(te.Message, tc.listed) {
				t.Errorf("message %q does not list %q", te.Message, tc.listed)
			}
			if !strings.HasPrefix(err.Error(), "updating ticket "+id) {
				t.Errorf("error %q lacks its operation", err)
			}
			if after := get(); !after.UpdatedAt.Equal(before.UpdatedAt) || after.Queue != before.Queue {
				t.Errorf("failed update changed the ticket")
			}
		})
	}

	t.Run("several fields at once", func(t *testing.T) {
		err := s.UpdateTicket(ctx, id, ticket.Update{Queue: ptr(ticket.Entity{Name: "Billing"}),
			Priority: ptr(ticket.Entity{Name: "low"}), State: ptr(ticket.Entity{Name: "open"}), AddTags: []string{"triaged"}})
		if err != nil {
			t.Fatal(err)
		}
		tk := get()
		if tk.Queue.Name != "Billing" || tk.Priority.Name != "low" || tk.State.Name != "open" || !tk.HasTag("triaged") {
			t.Errorf("got %v %v %v %v", tk.Queue, tk.Priority, tk.State, tk.Tags)
		}
	})
}

func TestAddNote(t *testing.T) {
	ctx := context.Background()
	s, c := openTest(t)
	tk := mustCreate(t, s, ticket.NewTicket{Subject: "needs notes"})
	c.Advance(time.Minute)
	n1, err := s.AddNote(ctx, tk.ID, ticket.Note{Body: "first", Internal: true, Author: "otai"})
	if err != nil {
		t.Fatal(err)
	}
	if n1.ID == "" || n1.ContentType != ticket.ContentTypePlain || n1.CreatedAt.IsZero() || !n1.Internal {
		t.Errorf("note = %+v", n1)
	}
	c.Advance(time.Minute)
	n2, err := s.AddNote(ctx, tk.ID, ticket.Note{Subject: "html", Body: "<p>second</p>", ContentType: "text/html; charset=utf-8"})
	if err != nil {
		t.Fatal(err)
	}
	if n2.ContentType != ticket.ContentTypeHTML {
		t.Errorf("content type = %q", n2.ContentType)
	}
	got, err := s.GetTicket(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Notes) != 2 || got.Notes[0].ID != n1.ID || got.Notes[1].ID != n2.ID {
		t.Fatalf("notes = %+v", got.Notes)
	}
	if got.Notes[0].Body != "first" || got.Notes[0].Author != "otai" || !got.Notes[0].Internal || got.Notes[1].Subject != "html" || got.Notes[1].Internal {
		t.Errorf("notes = %+v", got.Notes)
	}
	if !got.Notes[0].CreatedAt.Equal(n1.CreatedAt) {
		t.Errorf("note time %v, returned %v", got.Notes[0].CreatedAt, n1.CreatedAt)
	}
	if !got.UpdatedAt.Equal(n2.CreatedAt) {
		t.Errorf("ticket updated_at %v, want the last note's time %v", got.UpdatedAt, n2.CreatedAt)
	}
	_, err = s.AddNote(ctx, tk.ID, ticket.Note{Body: "x", ContentType: "image/png"})
	wantKind(t, err, ticket.ErrValidation, "content_type")
}

func TestBodies(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	big := strings.Repeat("Grüße aus der Buchhaltung, ticket 42 — ", 5<<20/40)
	for _, tc := range []struct{ name, body string }{
		{"empty", ""},
		{"5 MB", big},
		{"unicode and NUL-free control chars", "line1\r\nline2\t✓ 🎫 'quotes' \"double\" ; DROP TABLE tickets; --"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := mustCreate(t, s, ticket.NewTicket{Subject: "body " + tc.name, Body: tc.body})
			got, err := s.GetTicket(ctx, tk.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Body != tc.body {
				t.Errorf("body of %d bytes came back as %d bytes", len(tc.body), len(got.Body))
			}
			if got.Text() == "" {
				t.Errorf("empty text")
			}
			n, err := s.AddNote(ctx, tk.ID, ticket.Note{Body: tc.body})
			if err != nil {
				t.Fatal(err)
			}
			got, _ = s.GetTicket(ctx, tk.ID)
			if got.Notes[0].Body != tc.body || got.Notes[0].ID != n.ID {
				t.Errorf("note body did not round-trip")
			}
		})
	}
	if len(big) < 5<<20-100 {
		t.Fatalf("big body is only %d bytes", len(big))
	}
}

func TestConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tickets.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A second Store on the same file stands in for a second process.
	s2, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	mustEnsure(t)(s.EnsureQueue(ctx, "Billing"))
	tk := mustCreate(t, s, ticket.NewTicket{Subject: "hot ticket"})

	const workers, each = 12, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*2)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := s
			if w%3 == 0 {
				st = s2
			}
			for i := range each {
				q := "Billing"
				if i%2 == 0 {
					q = "Inbox"
				}
				if err := st.UpdateTicket(ctx, tk.ID, ticket.Update{Queue: &ticket.Entity{Name: q},
					AddTags: []string{fmt.Sprintf("w%d", w)}, CustomFields: map[string]any{fmt.Sprintf("w%d", w): i}}); err != nil {
					errs <- err
				}
				if _, err := st.AddNote(ctx, tk.ID, ticket.Note{Body: fmt.Sprintf("worker %d note %d", w, i)}); err != nil {
					errs <- err
				}
				if _, err := st.FindTickets(ctx, ticket.SearchCriteria{Queue: &ticket.Entity{Name: q}}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.GetTicket(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Notes) != workers*each {
		t.Errorf("notes = %d, want %d", len(got.Notes), workers*each)
	}
	if len(got.Tags) != workers || len(got.CustomFields) != workers {
		t.Errorf("tags = %v, custom fields = %v: want %d of each", got.Tags, got.CustomFields, workers)
	}
	for k, v := range got.CustomFields {
		if v != float64(each-1) {
			t.Errorf("custom field %s = %v, want %d (lost update)", k, v, each-1)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "dir", "tickets.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustEnsure(t)(s.EnsureQueue(ctx, "Sales"))
	tk := mustCreate(t, s, ticket.NewTicket{Subject: "persist me", Queue: ticket.Entity{Name: "Sales"}, Tags: []string{"keep"}})
	if _, err := s.AddNote(ctx, tk.ID, ticket.Note{Body: "and me"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.GetTicket(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "persist me" || got.Queue.Name != "Sales" || !got.HasTag("keep") || len(got.Notes) != 1 {
		t.Errorf("after reopen: %+v", got)
	}
	var mode string
	if err := s.DB().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
}

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, MemoryPath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tk := mustCreate(t, s, ticket.NewTicket{Subject: "in memory"})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.AddNote(ctx, tk.ID, ticket.Note{Body: fmt.Sprint(i)}); err != nil {
				t.Error(err)
			}
			if _, err := s.GetTicket(ctx, tk.ID); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ := s.GetTicket(ctx, tk.ID)
	if len(got.Notes) != 8 {
		t.Errorf("notes = %d", len(got.Notes))
	}
}

func TestEntities(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	a := mustEnsure(t)(s.EnsureQueue(ctx, "Returns"))
	b := mustEnsure(t)(s.EnsureQueue(ctx, "returns"))
	if a != b || a.Name != "Returns" {
		t.Errorf("EnsureQueue not idempotent: %v %v", a, b)
	}
	mustEnsure(t)(s.EnsurePriority(ctx, "urgent", 4))
	mustEnsure(t)(s.EnsurePriority(ctx, "trivial", 0))
	ps, err := s.Priorities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "trivial,low,normal,high,urgent" {
		t.Errorf("priorities = %v", names)
	}
	mustEnsure(t)(s.EnsureState(ctx, "waiting", StateTypePending))
	if _, err := s.EnsureState(ctx, "weird", "sideways"); !errors.Is(err, ticket.ErrValidation) {
		t.Errorf("bad state type: %v", err)
	}
	if _, err := s.EnsureQueue(ctx, " "); !errors.Is(err, ticket.ErrValidation) {
		t.Errorf("empty queue name: %v", err)
	}
	sts, err := s.States(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []State{{ticket.Entity{ID: "1", Name: "new"}, StateTypeNew}, {ticket.Entity{ID: "2", Name: "open"}, StateTypeOpen},
		{ticket.Entity{ID: "3", Name: "closed"}, StateTypeClosed}, {ticket.Entity{ID: "4", Name: "waiting"}, StateTypePending}}
	if !slices.Equal(sts, want) {
		t.Errorf("states = %v", sts)
	}
	qs, _ := s.Queues(ctx)
	if len(qs) != 2 || qs[0].Name != "Inbox" || qs[1].Name != "Returns" {
		t.Errorf("queues = %v", qs)
	}
	mustEnsure(t)(s.EnsureAgent(ctx, "zoe"))
	// A customer who becomes an agent keeps one user row.
	mustCreate(t, s, ticket.NewTicket{Subject: "x", Customer: ticket.Entity{Name: "max"}})
	mustEnsure(t)(s.EnsureAgent(ctx, "Max"))
	ag, _ := s.Agents(ctx)
	if len(ag) != 2 || ag[0].Name != "zoe" || ag[1].Name != "max" {
		t.Errorf("agents = %v", ag)
	}
	ty, _ := s.Types(ctx)
	if len(ty) != 0 {
		t.Errorf("types = %v", ty)
	}
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	at := time.Date(2025, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CEST", 2*3600))
	got, err := s.Import(ctx, []ticket.Ticket{{
		Number: "A-1", Subject: "imported", Body: "b", State: ticket.Entity{Name: "closed"},
		Owner: ticket.Entity{Name: "new.agent"}, CreatedAt: at, UpdatedAt: at.Add(time.Hour),
		Notes: []ticket.Note{{Body: "n1", CreatedAt: at.Add(time.Minute)}, {Body: "n0", CreatedAt: at.Add(time.Second)}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := s.GetTicket(ctx, got[0])
	if err != nil {
		t.Fatal(err)
	}
	if tk.Number != "A-1" || !tk.CreatedAt.Equal(at) || tk.CreatedAt.Location() != time.UTC || !tk.UpdatedAt.Equal(at.Add(time.Hour)) || tk.Owner.Name != "new.agent" {
		t.Errorf("imported %+v", tk)
	}
	if len(tk.Notes) != 2 || tk.Notes[0].Body != "n0" {
		t.Errorf("notes not ordered by time: %+v", tk.Notes)
	}
	_, err = s.Import(ctx, []ticket.Ticket{{Subject: "ok"}, {Number: "A-1", Subject: "dup"}})
	wantKind(t, err, ticket.ErrValidation, "number")
	if n, _ := s.Count(ctx, ticket.SearchCriteria{}); n != 1 {
		t.Errorf("failed import left %d tickets, want 1 (all or nothing)", n)
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	mustEnsure(t)(s.EnsureQueue(ctx, "Billing"))
	res := s.Check(ctx, ticket.CheckOptions{Queues: []string{"billing", "Sales"}})
	byName := map[string]ticket.CheckResult{}
	for _, r := range res {
		byName[r.Name] = r
	}
	if !byName["open"].OK || !byName["search"].OK || !byName["queue billing"].OK {
		t.Errorf("results = %+v", res)
	}
	if r := byName["queue Sales"]; r.OK || !strings.Contains(r.Message, "does not exist") || !strings.Contains(r.Message, "Billing") {
		t.Errorf("missing queue result = %+v", r)
	}
	mustCreate(t, s, ticket.NewTicket{Subject: "x"})
	res = s.Check(ctx, ticket.CheckOptions{})
	if len(res) != 3 || !res[2].OK || res[2].Name != "get" {
		t.Errorf("results = %+v", res)
	}
	_ = s.Close()
	res = s.Check(ctx, ticket.CheckOptions{})
	if len(res) == 0 || res[0].OK {
		t.Errorf("closed store checks OK: %+v", res)
	}
}

func TestContextCanceled(t *testing.T) {
	s, _ := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.FindTickets(ctx, ticket.SearchCriteria{}); !errors.Is(err, context.Canceled) {
		t.Errorf("FindTickets = %v, want context.Canceled", err)
	}
	if _, err := s.CreateTicket(ctx, ticket.NewTicket{Subject: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateTicket = %v, want context.Canceled", err)
	}
}

// TestConcurrentOpen: processes that open a new ticket store at once (the
// demo started twice) set it up one after the other; none fails with
// "database is locked", and the file ends in WAL mode.
func TestConcurrentOpen(t *testing.T) {
	sqlitextest.OpenAtOnce(t, "tickets.db", 5, 4, func(ctx context.Context, path string) (*sql.DB, func() error, error) {
		s, err := Open(ctx, path, Options{})
		if err != nil {
			return nil, nil, err
		}
		return s.DB(), s.Close, nil
	})
}
