package otobo_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
	"github.com/otai-dev/otai/ticketsystem/otobo"
	"github.com/otai-dev/otai/ticketsystem/otobo/otobofake"
)

func newFake(t testing.TB, opts otobofake.Options) *otobofake.Server {
	t.Helper()
	srv := otobofake.New(opts)
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t testing.TB, srv *otobofake.Server, mod func(*otobo.Params)) *otobo.Client {
	t.Helper()
	user, pw := srv.Login()
	p := &otobo.Params{BaseURL: srv.BaseURL, Username: user, Password: pw, Timeout: 5 * time.Second}
	if mod != nil {
		mod(p)
	}
	c, err := otobo.New(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func kindOf(err error) error {
	for _, k := range []error{ticket.ErrNotFound, ticket.ErrAuth, ticket.ErrForbidden, ticket.ErrValidation, ticket.ErrRateLimited, ticket.ErrUnavailable} {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}

func TestRegistered(t *testing.T) {
	for _, id := range append([]string{otobo.ID}, otobo.Aliases...) {
		s, ok := registry.Lookup(id)
		if !ok || s.ID != otobo.ID || s.Kind != registry.KindTicketSystem {
			t.Fatalf("%s: not registered as the otobo ticket system", id)
		}
	}
	s, _ := registry.Lookup(otobo.ID)
	names := map[string]registry.Field{}
	for _, f := range s.Fields {
		names[f.Name] = f
	}
	for _, n := range []string{"base_url", "webservice_name", "username", "password", "auth", "route_preset", "routes", "timeout", "tls_verify", "tls_ca_file", "time_zone"} {
		if _, ok := names[n]; !ok {
			t.Errorf("param %s missing", n)
		}
	}
	if !names["password"].Secret || !names["password"].Required {
		t.Error("password must be required and secret")
	}
}

func TestSixMethods(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts otobofake.Options
		mod  func(*otobo.Params)
	}{
		{"classic/session", otobofake.Options{}, nil},
		{"classic/per-request/string-ids", otobofake.Options{StringIDs: true}, func(p *otobo.Params) { p.Auth = otobo.AuthPerRequest }},
		{"znuny7", otobofake.Options{Preset: otobofake.PresetZnuny7, Prefix: "/znuny/nph-genericinterface.pl"}, func(p *otobo.Params) { p.RoutePreset = otobo.PresetZnuny7 }},
		{"custom routes", otobofake.Options{Preset: otobofake.PresetZnuny7}, func(p *otobo.Params) {
			p.RoutePreset = otobo.PresetCustom
			p.Routes = map[string]string{"TicketSearch": "POST /Ticket/Search", "TicketGetList": "", "TicketHistoryGet": "GET /Ticket/History/:TicketID"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			srv := newFake(t, tc.opts)
			srv.AddQueue("Inbox")
			old := time.Now().Add(-time.Hour)
			id1 := srv.AddTicket(otobofake.Ticket{Title: "Printer jams", Queue: "Inbox", Body: "paper stuck", Created: old})
			id2 := srv.AddTicket(otobofake.Ticket{Title: "VPN down", Queue: "Inbox", Body: "cannot connect", State: "open"})
			srv.AddTicket(otobofake.Ticket{Title: "Elsewhere", Queue: "Misc"})
			c := newClient(t, srv, tc.mod)

			ts, err := c.FindTickets(ctx, ticket.SearchCriteria{Queue: &ticket.Entity{Name: "Inbox"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(ts) != 2 || ts[0].ID != id1 || ts[1].ID != id2 {
				t.Fatalf("FindTickets = %+v, want %s then %s (oldest first)", ts, id1, id2)
			}
			if ts[0].Body != "paper stuck" || ts[0].Queue.Name != "Inbox" || ts[0].Queue.ID == "" || ts[0].Number == "" || ts[0].CreatedAt.IsZero() {
				t.Errorf("incomplete ticket %+v", ts[0])
			}
			for _, crit := range []ticket.SearchCriteria{
				{Queue: &ticket.Entity{Name: "Inbox"}, State: &ticket.Entity{Name: "open"}},
				{Queue: &ticket.Entity{Name: "Inbox"}, State: &ticket.Entity{Name: "type:open"}},
				{Subject: "vpn"},
				{Queue: &ticket.Entity{Name: "Inbox"}, Offset: 1, Limit: 1},
				{ID: id2},
			} {
				got, err := c.FindTickets(ctx, crit)
				if err != nil || len(got) != 1 || got[0].ID != id2 {
					t.Errorf("FindTickets(%+v) = %v, %v; want ticket %s", crit, got, err, id2)
				}
			}
			first, err := c.FindFirstTicket(ctx, ticket.SearchCriteria{Queue: &ticket.Entity{Name: "Inbox"}})
			if err != nil || first.ID != id1 {
				t.Fatalf("FindFirstTicket = %v, %v", first, err)
			}
			if _, err := c.FindFirstTicket(ctx, ticket.SearchCriteria{Subject: "nothing like this"}); !errors.Is(err, ticket.ErrNotFound) {
				t.Errorf("FindFirstTicket on no match: %v", err)
			}
			if got, err := c.FindTickets(ctx, ticket.SearchCriteria{Subject: "nothing like this"}); err != nil || len(got) != 0 {
				t.Errorf("no match: %v, %v", got, err)
			}

			nt, err := c.CreateTicket(ctx, ticket.NewTicket{Subject: "New one", Body: "hello", Queue: ticket.Entity{Name: "Raw"},
				Customer: ticket.Entity{ID: "jdoe@example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			if nt.ID == "" || nt.Body != "hello" || nt.State.Name != "new" || nt.Priority.Name != "3 normal" {
				t.Errorf("created %+v", nt)
			}

			if err := c.UpdateTicket(ctx, id1, ticket.Update{Queue: &ticket.Entity{Name: "Misc"}, Priority: &ticket.Entity{Name: "4 high"},
				State: &ticket.Entity{ID: "4"}, Subject: ptr("Printer jams (3rd floor)")}); err != nil {
				t.Fatal(err)
			}
			n, err := c.AddNote(ctx, id1, ticket.Note{Body: "otai: Hardware (93%)"})
			if err != nil || n.ID == "" || !n.Internal {
				t.Fatalf("AddNote = %+v, %v", n, err)
			}
			got, err := c.GetTicket(ctx, id1)
			if err != nil {
				t.Fatal(err)
			}
			if got.Queue.Name != "Misc" || got.Priority.Name != "4 high" || got.State.Name != "open" || got.Subject != "Printer jams (3rd floor)" {
				t.Errorf("after update: %+v", got)
			}
			if len(got.Notes) != 2 || !got.Notes[1].Internal || got.Notes[1].Body != "otai: Hardware (93%)" || got.Notes[1].ID != n.ID {
				t.Errorf("notes after AddNote: %+v", got.Notes)
			}
			st, _ := srv.Ticket(id1)
			if a := st.Articles[len(st.Articles)-1]; a.IsVisibleForCustomer || a.Channel != "Internal" {
				t.Errorf("note stored as %+v, want internal", a)
			}

			for _, id := range []string{"999999", "abc", "1,2", ""} {
				if _, err := c.GetTicket(ctx, id); !errors.Is(err, ticket.ErrNotFound) {
					t.Errorf("GetTicket(%q) = %v, want ErrNotFound", id, err)
				}
			}
			if err := c.UpdateTicket(ctx, "999999", ticket.Update{Priority: &ticket.Entity{Name: "2 low"}}); !errors.Is(err, ticket.ErrNotFound) {
				t.Errorf("UpdateTicket(missing) = %v", err)
			}
			err = c.UpdateTicket(ctx, id1, ticket.Update{Queue: &ticket.Entity{Name: "NoSuchQueue"}})
			var te *ticket.Error
			if !errors.As(err, &te) || te.Kind != ticket.ErrValidation || te.Field != "Queue" || !strings.Contains(te.Op, "updating ticket "+id1) {
				t.Errorf("invalid queue: %#v", err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestDynamicFieldSearchNeedsPOSTRoute(t *testing.T) {
	ctx := context.Background()
	for _, preset := range []string{otobofake.PresetClassic, otobofake.PresetZnuny7} {
		srv := newFake(t, otobofake.Options{Preset: preset})
		srv.AddDynamicField("AICategory")
		id := srv.AddTicket(otobofake.Ticket{Title: "a", DynamicFields: map[string]any{"AICategory": "Hardware"}})
		srv.AddTicket(otobofake.Ticket{Title: "b"})
		c := newClient(t, srv, func(p *otobo.Params) { p.RoutePreset = preset })
		ids, err := c.SearchTicketIDs(ctx, otobo.Query{DynamicFields: []otobo.DynamicFieldFilter{{Name: "AICategory", Equals: []string{"Hardware"}}}})
		if preset == otobofake.PresetClassic {
			if !errors.Is(err, ticket.ErrValidation) || !strings.Contains(err.Error(), "POST search route") {
				t.Errorf("classic: %v, want a validation error naming the fix", err)
			}
			continue
		}
		if err != nil || len(ids) != 1 || ids[0] != id {
			t.Errorf("znuny7: %v, %v", ids, err)
		}
		// Setting and reading dynamic fields.
		if err := c.UpdateTicket(ctx, id, ticket.Update{CustomFields: map[string]any{"AICategory": "Network"}}); err != nil {
			t.Fatal(err)
		}
		got, _ := c.GetTicket(ctx, id)
		if got.CustomFields["AICategory"] != "Network" {
			t.Errorf("custom fields: %v", got.CustomFields)
		}
	}
}

func TestSessionReuseAndRelogin(t *testing.T) {
	ctx := context.Background()
	srv := newFake(t, otobofake.Options{})
	id := srv.AddTicket(otobofake.Ticket{Title: "x"})
	c := newClient(t, srv, nil)
	for range 3 {
		if _, err := c.GetTicket(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Calls("SessionCreate"); n != 1 {
		t.Errorf("SessionCreate called %d times, want 1", n)
	}
	srv.ExpireSessions()
	if _, err := c.GetTicket(ctx, id); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if n := srv.Calls("SessionCreate"); n != 2 {
		t.Errorf("SessionCreate called %d times, want 2", n)
	}
	// Per-request mode never creates a session.
	c2 := newClient(t, srv, func(p *otobo.Params) { p.Auth = otobo.AuthPerRequest })
	if _, err := c2.GetTicket(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls("SessionCreate"); n != 2 {
		t.Errorf("per_request created a session")
	}
}

func TestErrorsCarryNoCredentials(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	srv := newFake(t, otobofake.Options{})
	id := srv.AddTicket(otobofake.Ticket{Title: "x"})
	user, _ := srv.Login()
	const pw = "s3cret-Pa55word-for-test"
	srv.AddAgent("bob", pw)
	srv.Use(func(r *otobofake.Request) *otobofake.Reply {
		// A broken server that echoes what it got.
		if r.Operation == "TicketGet" {
			return &otobofake.Reply{Status: 500, ContentType: "text/plain", Body: "boom: " + r.Path + " " + fmtData(r.Data)}
		}
		return nil
	})
	for _, auth := range []string{otobo.AuthSession, otobo.AuthPerRequest} {
		c, err := otobo.New(&otobo.Params{BaseURL: srv.BaseURL, Username: "bob", Password: pw, Auth: auth, MaxRetries: -1},
			slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetTicket(ctx, id)
		if err == nil {
			t.Fatal("want an error")
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("%s: password in error: %v", auth, err)
		}
		for _, r := range srv.Requests() {
			if sid, ok := r.Data["SessionID"].(string); ok && sid != "" && (strings.Contains(err.Error(), sid) || strings.Contains(logs.String(), sid)) {
				t.Errorf("%s: session id leaked: %v", auth, err)
			}
		}
	}
	// Wrong password and a closed server.
	c, _ := otobo.New(&otobo.Params{BaseURL: srv.BaseURL, Username: user, Password: "wrong-password-123"}, nil)
	if _, err := c.GetTicket(ctx, id); !errors.Is(err, ticket.ErrAuth) || strings.Contains(err.Error(), "wrong-password-123") {
		t.Errorf("bad password: %v", err)
	}
	srv.Close()
	c, _ = otobo.New(&otobo.Params{BaseURL: srv.BaseURL, Username: "bob", Password: pw, Auth: otobo.AuthPerRequest, MaxRetries: -1}, nil)
	_, err := c.FindTickets(ctx, ticket.SearchCriteria{})
	if !errors.Is(err, ticket.ErrUnavailable) || strings.Contains(err.Error(), pw) {
		t.Errorf("closed server: %v", err)
	}
	if strings.Contains(logs.String(), pw) {
		t.Errorf("password in logs")
	}
}

func fmtData(d map[string]any) string {
	var b strings.Builder
	for k, v := range d {
		b.WriteString(k + "=")
		if s, ok := v.(string); ok {
			b.WriteString(s)
		}
		b.WriteString(" ")
	}
	return b.String()
}

func TestServerFailures(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		reply *otobofake.Reply
		kind  error
	}{
		{"fault", otobofake.Fault("Article could not be created, please contact the system administrator"), ticket.ErrUnavailable},
		{"text 500", &otobofake.Reply{Status: 500, ContentType: "text/plain", Body: "HTTP::REST Error while determine Operation for request URI '/Ticket/1'."}, ticket.ErrValidation},
		{"business error", otobofake.GIError("TicketUpdate.AccessDenied", "TicketUpdate: Does not have permissions to update queue!"), ticket.ErrForbidden},
		{"rate limited", &otobofake.Reply{Status: 429, Body: "slow", Header: map[string][]string{"Retry-After": {"600"}}}, ticket.ErrRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t, otobofake.Options{})
			id := srv.AddTicket(otobofake.Ticket{Title: "x"})
			srv.Use(func(r *otobofake.Request) *otobofake.Reply {
				if r.Operation == "TicketUpdate" {
					return tt.reply
				}
				return nil
			})
			c := newClient(t, srv, nil)
			err := c.UpdateTicket(ctx, id, ticket.Update{Queue: &ticket.Entity{Name: "Misc"}})
			if kindOf(err) != tt.kind {
				t.Fatalf("got %v, want %v", err, tt.kind)
			}
			var te *ticket.Error
			if !errors.As(err, &te) || te.Op != "updating ticket "+id {
				t.Errorf("op: %#v", err)
			}
		})
	}
}

func TestBatchedFetch(t *testing.T) {
	ctx := context.Background()
	srv := newFake(t, otobofake.Options{})
	for i := range 25 {
		srv.AddTicket(otobofake.Ticket{Title: "t", Queue: "Inbox", Created: time.Now().Add(time.Duration(i-100) * time.Minute)})
	}
	// A ticket that vanishes between search and get: the batch falls back.
	c := newClient(t, srv, func(p *otobo.Params) { p.BatchSize = 10; p.Concurrency = 3 })
	ts, err := c.FindTickets(ctx, ticket.SearchCriteria{Queue: &ticket.Entity{Name: "Inbox"}})
	if err != nil || len(ts) != 25 {
		t.Fatalf("%d tickets, %v", len(ts), err)
	}
	if n := srv.Calls("TicketGetList"); n != 3 {
		t.Errorf("TicketGetList calls = %d, want 3", n)
	}
	for i := 1; i < len(ts); i++ {
		if ts[i].CreatedAt.Before(ts[i-1].CreatedAt) {
			t.Fatal("not oldest first")
		}
	}
	srv.SetPermissions("otai-agent", "Inbox") // no access at all any more
	srv.AddTicket(otobofake.Ticket{Title: "t", Queue: "Raw"})
	hidden := 0
	srv.Use(func(r *otobofake.Request) *otobofake.Reply {
		if r.Operation == "TicketSearch" && hidden == 0 {
			hidden++
			return &otobofake.Reply{Status: 200, Body: `{"TicketID":["1","26"]}`}
		}
		return nil
	})
	ts, err = c.FindTickets(ctx, ticket.SearchCriteria{})
	if err != nil || len(ts) != 1 || ts[0].ID != "26" {
		t.Fatalf("vanished ticket: %v, %v", ts, err)
	}
}
