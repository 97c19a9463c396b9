package freshdesk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
	"github.com/otai-dev/otai/ticketsystem/freshdesk"
	"github.com/otai-dev/otai/ticketsystem/freshdesk/freshdeskfake"
)

const apiKey = "fdKEY-0123456789abcdef"

// clock is a virtual clock shared by the fake and the client: sleeping
// advances it instantly, so Retry-After and rate-limit waits cost nothing.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return t0.Add(c.off) }

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.off += max(d, 0)
	c.mu.Unlock()
	return ctx.Err()
}

var testClock = &clock{}

func newFake(o freshdeskfake.Options) *freshdeskfake.Server {
	o.APIKey = apiKey
	o.Now = testClock.Now
	return freshdeskfake.New(o)
}

func newSystem(t *testing.T, fake *freshdeskfake.Server, mod func(*freshdesk.Params)) (*freshdesk.Client, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	p := &freshdesk.Params{BaseURL: fake.URL(), APIKey: apiKey, MaxRetries: 3,
		HTTP: &httpx.Options{Sleep: testClock.Sleep, Now: testClock.Now, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}}
	if mod != nil {
		mod(p)
	}
	c, err := freshdesk.New(p, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	return c, &logs
}

func seed(fake *freshdeskfake.Server, n int) {
	base := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	subjects := []string{"Invoice is wrong", "Printer jams", "Refund for order", "VPN does not connect"}
	for i := 0; i < n; i++ {
		s := subjects[i%len(subjects)]
		fake.AddTicket(freshdeskfake.Ticket{Subject: fmt.Sprintf("%s #%d", s, i), Description: "<div>" + s + ", please help.</div>",
			GroupID: 1, CreatedAt: base.Add(time.Duration(i) * time.Minute)})
	}
}

func TestRegistered(t *testing.T) {
	for _, id := range []string{freshdesk.ID, "freshdesk:FreshdeskAdapter"} {
		spec, ok := registry.Lookup(id)
		if !ok || spec.Kind != registry.KindTicketSystem {
			t.Fatalf("%s not registered", id)
		}
	}
	spec, _ := registry.Lookup(freshdesk.ID)
	names := map[string]registry.Field{}
	for _, f := range spec.Fields {
		names[f.Name] = f
	}
	if !names["api_key"].Secret || !names["api_key"].Required || names["domain"].Aliases[0] != "freshdesk_domain" ||
		names["api_key"].Aliases[0] != "freshdesk_api_key" {
		t.Fatalf("fields = %+v", spec.Fields)
	}
}

func TestDomainURL(t *testing.T) {
	for _, d := range []string{"acme", "acme.freshdesk.com", "https://acme.freshdesk.com/"} {
		if _, err := freshdesk.New(&freshdesk.Params{Domain: d, APIKey: apiKey}, nil); err != nil {
			t.Errorf("domain %q: %v", d, err)
		}
	}
	if _, err := freshdesk.New(&freshdesk.Params{Domain: "evil.com/x", APIKey: apiKey}, nil); err == nil {
		t.Error("bad domain accepted")
	}
}

// classify is the test's trivial classifier.
func classify(text string) (queue, priority string) {
	switch t := strings.ToLower(text); {
	case strings.Contains(t, "invoice"), strings.Contains(t, "refund"):
		return "Billing", "High"
	default:
		return "IT", "Medium"
	}
}

// triage is what the engine's fetch/classify/update/note pipes do.
func triage(ctx context.Context, sys ticket.System, crit ticket.SearchCriteria, workers int) (int, error) {
	ts, err := sys.FindTickets(ctx, crit)
	if err != nil {
		return 0, fmt.Errorf("finding tickets: %w", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	ch := make(chan ticket.Ticket)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tk := range ch {
				q, p := classify(tk.Text())
				err := sys.UpdateTicket(ctx, tk.ID, ticket.Update{Queue: &ticket.Entity{Name: q}, Priority: &ticket.Entity{Name: p}})
				if err == nil {
					_, err = sys.AddNote(ctx, tk.ID, ticket.Note{Body: "otai: " + q + " (91%)"})
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, tk := range ts {
		ch <- tk
	}
	close(ch)
	wg.Wait()
	return len(ts), first
}

func TestEndToEndTriage(t *testing.T) {
	fake := newFake(freshdeskfake.Options{})
	defer fake.Close()
	seed(fake, 130) // more than one list page
	fake.Fail429(2) // the first calls are rate limited
	sys, _ := newSystem(t, fake, nil)
	ctx := context.Background()
	n, err := triage(ctx, sys, ticket.SearchCriteria{State: &ticket.Entity{Name: "Open"}}, 4)
	if err != nil || n != 130 {
		t.Fatalf("triaged %d: %v", n, err)
	}
	for id := int64(1); id <= 130; id++ {
		tk, _ := fake.Ticket(id)
		wantGroup, wantPrio := int64(3), 2
		if q, _ := classify(tk.Subject); q == "Billing" {
			wantGroup, wantPrio = 2, 3
		}
		if tk.GroupID != wantGroup || tk.Priority != wantPrio {
			t.Fatalf("ticket %d: group %d priority %d, want %d %d", id, tk.GroupID, tk.Priority, wantGroup, wantPrio)
		}
		if len(tk.Conversations) != 1 || !tk.Conversations[0].Private {
			t.Fatalf("ticket %d: notes %+v, want exactly one private note", id, tk.Conversations)
		}
	}
	st := fake.Stats()
	if st.ByRoute["GET /tickets"]-st.RateLimited != 2 || st.RateLimited != 2 || st.ByRoute["GET /groups"] != 1 {
		t.Errorf("routes = %v", st.ByRoute)
	}
	// Reading back through the system gives the unified view.
	got, err := sys.GetTicket(ctx, "5")
	if err != nil || got.Queue.Name == "" || len(got.Notes) != 1 || !got.Notes[0].Internal || got.Body == "" {
		t.Fatalf("GetTicket = %+v, %v", got, err)
	}
}

func TestFindTicketsModes(t *testing.T) {
	fake := newFake(freshdeskfake.Options{})
	defer fake.Close()
	seed(fake, 75)
	for id := int64(1); id <= 75; id += 3 {
		fake.AddTicket(freshdeskfake.Ticket{ID: id, Subject: fmt.Sprintf("Billing question %d", id), Description: "<p>x</p>", GroupID: 2,
			Status: 3, CreatedAt: time.Date(2025, 3, 1, 8, int(id), 0, 0, time.UTC)})
	}
	sys, _ := newSystem(t, fake, nil)
	ctx := context.Background()
	// Filter + small window: the search API, sorted oldest first, bodies filled.
	ts, err := sys.FindTickets(ctx, ticket.SearchCriteria{Queue: &ticket.Entity{Name: "billing"}, State: &ticket.Entity{Name: "Pending"}, Limit: 5, Offset: 2})
	if err != nil || len(ts) != 5 || ts[0].ID != "7" || ts[4].ID != "19" || ts[0].Body != "x" || ts[0].Queue.Name != "Billing" {
		t.Fatalf("search: %v %+v", err, ts)
	}
	st := fake.Stats()
	if st.ByRoute["GET /search/tickets"] != 1 || st.ByRoute["GET /tickets"] != 0 {
		t.Fatalf("routes = %v", st.ByRoute)
	}
	// No filter: the list endpoint; subject filtered on the client.
	ts, err = sys.FindTickets(ctx, ticket.SearchCriteria{Subject: "printer"})
	if err != nil || len(ts) == 0 {
		t.Fatalf("list: %v %d", err, len(ts))
	}
	for _, tk := range ts {
		if !strings.Contains(tk.Subject, "Printer") {
			t.Fatalf("subject filter let %q through", tk.Subject)
		}
	}
	// A filter whose window exceeds 300 results falls back to the list.
	ts, err = sys.FindTickets(ctx, ticket.SearchCriteria{State: &ticket.Entity{ID: "2"}})
	if err != nil || len(ts) != 50 {
		t.Fatalf("fallback: %v %d", err, len(ts))
	}
	// By id.
	ts, err = sys.FindTickets(ctx, ticket.SearchCriteria{ID: "4"})
	if err != nil || len(ts) != 1 || ts[0].ID != "4" {
		t.Fatalf("by id: %v %+v", err, ts)
	}
	if ts, err = sys.FindTickets(ctx, ticket.SearchCriteria{ID: "999"}); err != nil || len(ts) != 0 {
		t.Fatalf("missing id: %v %+v", err, ts)
	}
	first, err := sys.FindFirstTicket(ctx, ticket.SearchCriteria{State: &ticket.Entity{Name: "pending"}})
	if err != nil || first.ID != "1" {
		t.Fatalf("first: %v %+v", err, first)
	}
}

func TestCreateUpdateNote(t *testing.T) {
	fake := newFake(freshdeskfake.Options{})
	defer fake.Close()
	ctx := context.Background()
	sys, _ := newSystem(t, fake, func(p *freshdesk.Params) { p.AllowPublicNotes = true })
	tk, err := sys.CreateTicket(ctx, ticket.NewTicket{Subject: "Printer jams", Body: "Since <this> morning", Customer: ticket.Entity{Name: "jdoe@example.com"},
		Queue: ticket.Entity{Name: "IT"}, Priority: ticket.Entity{Name: "High"}, Type: ticket.Entity{Name: "Incident"}, Tags: []string{"printer"},
		CustomFields: map[string]any{"cf_ai_category": "Hardware"}})
	if err != nil || tk.ID == "" || tk.Queue.Name != "IT" || tk.Priority.Name != "High" || tk.Body != "Since <this> morning" {
		t.Fatalf("create: %+v %v", tk, err)
	}
	sub := "Printer jams on floor 2"
	err = sys.UpdateTicket(ctx, tk.ID, ticket.Update{Subject: &sub, State: &ticket.Entity{Name: "Pending"}, Type: &ticket.Entity{Name: "Problem"},
		Owner: &ticket.Entity{Name: "otai@example.com"}, AddTags: []string{"floor2", "PRINTER"}, RemoveTags: []string{"nothing"},
		CustomFields: map[string]any{"cf_ai_category": "Printers"}})
	if err != nil {
		t.Fatal(err)
	}
	ft, _ := fake.Ticket(1)
	if ft.Subject != sub || ft.Status != 3 || ft.Type != "Problem" || ft.ResponderID != 100 || strings.Join(ft.Tags, ",") != "printer,floor2" ||
		ft.CustomFields["cf_ai_category"] != "Printers" {
		t.Fatalf("fake ticket = %+v", ft)
	}
	// A public note is possible when allowed, and false is really sent.
	n, err := sys.AddNote(ctx, tk.ID, ticket.Note{Body: "We are on it", Internal: false})
	if err != nil || n.Internal || n.ID == "" {
		t.Fatalf("public note: %+v %v", n, err)
	}
	n, err = sys.AddNote(ctx, tk.ID, ticket.Note{Body: "AI: Printers", Internal: true})
	if err != nil || !n.Internal {
		t.Fatalf("private note: %+v %v", n, err)
	}
	ft, _ = fake.Ticket(1)
	if len(ft.Conversations) != 2 || ft.Conversations[0].Private || !ft.Conversations[1].Private {
		t.Fatalf("conversations = %+v", ft.Conversations)
	}
	// Without allow_public_notes every note is private.
	strict, _ := newSystem(t, fake, nil)
	if n, err := strict.AddNote(ctx, tk.ID, ticket.Note{Body: "x"}); err != nil || !n.Internal {
		t.Fatalf("default note: %+v %v", n, err)
	}
	if err := sys.UpdateTicket(ctx, tk.ID, ticket.Update{}); err != nil {
		t.Fatal(err)
	}
}

// A note POST whose answer is lost (502 after the server stored it) is not
// posted twice; one that provably did not land is.
func TestNoteNotDuplicated(t *testing.T) {
	fake := newFake(freshdeskfake.Options{})
	defer fake.Close()
	seed(fake, 1)
	sys, _ := newSystem(t, fake, nil)
	fake.FailAfterProcessing(1, 502)
	_, err := sys.AddNote(context.Background(), "1", ticket.Note{Body: "otai: IT"})
	if !errors.Is(err, ticket.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if ft, _ := fake.Ticket(1); len(ft.Conversations) != 1 {
		t.Fatalf("%d notes, want 1", len(ft.Conversations))
	}
}

func TestErrorsMapped(t *testing.T) {
	fake := newFake(freshdeskfake.Options{})
	defer fake.Close()
	seed(fake, 1)
	ctx := context.Background()
	sys, _ := newSystem(t, fake, nil)
	bad, _ := newSystem(t, fake, func(p *freshdesk.Params) { p.APIKey = "wrong-key-but-long" })
	limited, _ := newSystem(t, fake, func(p *freshdesk.Params) { p.MaxRetries = -1 })
	tests := []struct {
		name  string
		call  func() error
		kind  error
		field string
	}{
		{"401", func() error { _, err := bad.GetTicket(ctx, "1"); return err }, ticket.ErrAuth, ""},
		{"404", func() error { _, err := sys.GetTicket(ctx, "999"); return err }, ticket.ErrNotFound, ""},
		{"bad id", func() error { _, err := sys.GetTicket(ctx, "abc"); return err }, ticket.ErrNotFound, ""},
		{"400 priority", func() error { return sys.UpdateTicket(ctx, "1", ticket.Update{Priority: &ticket.Entity{ID: "9"}}) }, ticket.ErrValidation, "priority"},
		{"400 type", func() error { return sys.UpdateTicket(ctx, "1", ticket.Update{Type: &ticket.Entity{Name: "Nope"}}) }, ticket.ErrValidation, "type"},
		{"unknown group", func() error { return sys.UpdateTicket(ctx, "1", ticket.Update{Queue: &ticket.Entity{Name: "Nope"}}) }, ticket.ErrValidation, "group"},
		{"group id", func() error { return sys.UpdateTicket(ctx, "1", ticket.Update{Queue: &ticket.Entity{ID: "99"}}) }, ticket.ErrValidation, "group_id"},
		{"no requester", func() error { _, err := sys.CreateTicket(ctx, ticket.NewTicket{Subject: "x"}); return err }, ticket.ErrValidation, "email"},
		{"429", func() error { fake.Fail429(1); _, err := limited.GetTicket(ctx, "1"); return err }, ticket.ErrRateLimited, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var te *ticket.Error
			if !errors.Is(err, tt.kind) || !errors.As(err, &te) || te.Field != tt.field {
				t.Fatalf("err = %v (%#v), want %v field %q", err, err, tt.kind, tt.field)
			}
			if tt.kind == ticket.ErrRateLimited && te.RetryAfter <= 0 {
				t.Errorf("RetryAfter not set: %#v", te)
			}
		})
	}
}

// TestForbiddenMapped: a 403 {code: access_denied, message} is
// ticket.ErrForbidden with Freshdesk's code and message, and is not
// retried.
func TestForbiddenMapped(t *testing.T) {
	fake := newFake(freshdeskfake.Options{})
	defer fake.Close()
	seed(fake, 1)
	fake.Use(freshdeskfake.Deny(func(r *http.Request) bool {
		return r.Method == http.MethodPut || r.URL.Path == "/api/v2/tickets/1/notes"
	}))
	ctx := context.Background()
	sys, _ := newSystem(t, fake, nil)
	for name, call := range map[string]func() error{
		"update": func() error { return sys.UpdateTicket(ctx, "1", ticket.Update{Priority: &ticket.Entity{Name: "High"}}) },
		"note":   func() error { _, err := sys.AddNote(ctx, "1", ticket.Note{Body: "x"}); return err },
	} {
		t.Run(name, func(t *testing.T) {
			before := fake.Stats().Requests
			err := call()
			var te *ticket.Error
			if !errors.Is(err, ticket.ErrForbidden) || !errors.As(err, &te) {
				t.Fatalf("err = %v (%#v), want ErrForbidden", err, err)
			}
			if te.Status != http.StatusForbidden || te.Code != "access_denied" || te.Message != freshdeskfake.AccessDeniedMessage ||
				!strings.Contains(err.Error(), freshdeskfake.AccessDeniedMessage) {
				t.Errorf("error %q: status %d, code %q, message %q", err, te.Status, te.Code, te.Message)
			}
			if n := fake.Stats().Requests - before; n != 1 {
				t.Errorf("%d requests, want 1 (a 403 is not retried)", n)
			}
		})
	}
	if _, err := sys.GetTicket(ctx, "1"); err != nil {
		t.Errorf("reads are allowed: %v", err)
	}
}

func TestNoCredentialInErrorsOrLogs(t *testing.T) {
	fake := newFake(freshdeskfake.Options{})
	defer fake.Close()
	ctx := context.Background()
	sys, logs := newSystem(t, fake, nil)
	var texts []string
	collect := func(err error) {
		if err != nil {
			texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		}
	}
	_, err := sys.GetTicket(ctx, "404")
	collect(err)
	collect(sys.UpdateTicket(ctx, "1", ticket.Update{Priority: &ticket.Entity{ID: "9"}}))
	fake.Fail429(10)
	_, err = sys.GetTicket(ctx, "1")
	collect(err)
	// A wrong key is a credential too.
	wrong := "fdWRONG-key-123456789"
	badSys, badLogs := newSystem(t, fake, func(p *freshdesk.Params) { p.APIKey = wrong })
	_, err = badSys.FindTickets(ctx, ticket.SearchCriteria{})
	collect(err)
	for _, r := range badSys.Check(ctx, ticket.CheckOptions{}) {
		texts = append(texts, r.Message)
	}
	// A dead server: transport errors carry URLs.
	dead, _ := newSystem(t, fake, func(p *freshdesk.Params) { p.BaseURL = "http://" + apiKey + ":X@127.0.0.1:1/api/v2?api_key=" + apiKey })
	_, err = dead.GetTicket(ctx, "1")
	collect(err)
	texts = append(texts, logs.String(), badLogs.String())
	if len(texts) < 10 {
		t.Fatalf("too few errors collected: %d", len(texts))
	}
	for _, s := range texts {
		if strings.Contains(s, apiKey) || strings.Contains(s, wrong) {
			t.Fatalf("credential leaked: %s", s)
		}
	}
}

func TestCheck(t *testing.T) {
	fake := newFake(freshdeskfake.Options{
		Agents: []freshdeskfake.Agent{{ID: 100, Email: "otai@example.com", TicketScope: 2, GroupIDs: []int64{1, 2}}}})
	defer fake.Close()
	seed(fake, 2)
	sys, _ := newSystem(t, fake, nil)
	res := sys.Check(context.Background(), ticket.CheckOptions{Queues: []string{"Billing", "IT", "Nope"}})
	want := map[string]bool{"auth": true, "search": true, "get": true, "update permission on Billing": true,
		"update permission on IT": false, "update permission on Nope": false}
	if len(res) != len(want) {
		t.Fatalf("results = %+v", res)
	}
	for _, r := range res {
		if w, ok := want[r.Name]; !ok || w != r.OK || r.Message == "" {
			t.Errorf("%+v, want ok=%v", r, w)
		}
	}
	bad, _ := newSystem(t, fake, func(p *freshdesk.Params) { p.APIKey = "nope-nope-nope" })
	if res := bad.Check(context.Background(), ticket.CheckOptions{}); len(res) != 1 || res[0].OK || !strings.Contains(res[0].Message, "API key") {
		t.Fatalf("bad key: %+v", res)
	}
}
