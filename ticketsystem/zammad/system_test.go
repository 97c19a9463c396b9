package zammad_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
	"github.com/otai-dev/otai/ticketsystem/zammad"
	"github.com/otai-dev/otai/ticketsystem/zammad/zammadfake"
)

const token = "zmTOKEN-abcdef0123456789"
const password = "zm-Passw0rd-secret"

func noSleep(ctx context.Context, d time.Duration) error { return ctx.Err() }

func newSystem(t *testing.T, fake *zammadfake.Server, mod func(*zammad.Params)) (*zammad.Client, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	p := &zammad.Params{BaseURL: fake.URL(), Token: token, HTTP: &httpx.Options{Sleep: noSleep}}
	if mod != nil {
		mod(p)
	}
	c, err := zammad.New(p, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	return c, &logs
}

func seed(f *zammadfake.Server, n int) {
	subjects := []string{"Invoice is wrong", "Printer jams", "Refund please", "VPN down"}
	base := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		s := subjects[i%len(subjects)]
		f.AddTicket(zammadfake.Ticket{Title: fmt.Sprintf("%s #%d", s, i), StateID: 2, CreatedAt: base.Add(time.Duration(i) * time.Minute)}, s+", please help.")
	}
}

func TestRegistered(t *testing.T) {
	spec, ok := registry.Lookup(zammad.ID)
	if !ok {
		t.Fatal("not registered")
	}
	for _, f := range spec.Fields {
		if (f.Name == "token" || f.Name == "password") && !f.Secret {
			t.Errorf("%s not secret", f.Name)
		}
	}
}

func TestEndToEndTriage(t *testing.T) {
	fake := zammadfake.New(zammadfake.Options{Token: token})
	defer fake.Close()
	seed(fake, 230) // more than one page of search results
	sys, _ := newSystem(t, fake, nil)
	ctx := context.Background()
	ts, err := sys.FindTickets(ctx, ticket.SearchCriteria{State: &ticket.Entity{Name: "open"}, Queue: &ticket.Entity{Name: "Users"}})
	if err != nil || len(ts) != 230 {
		t.Fatalf("found %d: %v", len(ts), err)
	}
	for _, tk := range ts {
		q, p := "IT", "2 normal"
		if l := strings.ToLower(tk.Text()); strings.Contains(l, "invoice") || strings.Contains(l, "refund") {
			q, p = "Billing", "3 high"
		}
		if err := sys.UpdateTicket(ctx, tk.ID, ticket.Update{Queue: &ticket.Entity{Name: q}, Priority: &ticket.Entity{Name: p}, AddTags: []string{"otai"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := sys.AddNote(ctx, tk.ID, ticket.Note{Body: "otai: " + q + " (91%)"}); err != nil {
			t.Fatal(err)
		}
	}
	for id := int64(1); id <= 230; id++ {
		ft, arts := fake.Ticket(id)
		want := int64(3)
		if strings.Contains(ft.Title, "Invoice") || strings.Contains(ft.Title, "Refund") {
			want = 2
		}
		if ft.GroupID != want || len(ft.Tags) != 1 {
			t.Fatalf("ticket %d: %+v", id, ft)
		}
		var notes int
		for _, a := range arts[1:] {
			notes++
			if !a.Internal || a.Type != "note" || a.Sender != "Agent" {
				t.Fatalf("ticket %d: note %+v is not an internal agent note", id, a)
			}
		}
		if notes != 1 {
			t.Fatalf("ticket %d: %d notes", id, notes)
		}
	}
	got, err := sys.GetTicket(ctx, "1")
	if err != nil || got.Body != "Invoice is wrong, please help." || len(got.Notes) != 2 || got.Queue.Name != "Billing" || got.Tags[0] != "otai" {
		t.Fatalf("GetTicket = %+v %v", got, err)
	}
}

// TestFindTicketsShapesAndPaging runs against both kinds of server: with
// OldSearchShape (Zammad <= 6.4) a search without expand would answer
// {tickets, tickets_count, assets}, but the adapter always sends
// expand=true, which answers an array of tickets with names on every
// version (the API notes, 3.5). That the old shape decodes is
// TestOldSearchShapeFromTheFake's job.
func TestFindTicketsShapesAndPaging(t *testing.T) {
	for _, old := range []bool{false, true} {
		fake := zammadfake.New(zammadfake.Options{Token: token, OldSearchShape: old})
		var noExpand atomic.Int32
		fake.Use(func(r *http.Request) (int, string) {
			if r.URL.Path == "/api/v1/tickets/search" && r.URL.Query().Get("expand") != "true" {
				noExpand.Add(1)
			}
			return 0, ""
		})
		seed(fake, 12)
		sys, _ := newSystem(t, fake, nil)
		ctx := context.Background()
		ts, err := sys.FindTickets(ctx, ticket.SearchCriteria{Subject: "printer", Limit: 2, Offset: 1})
		if err != nil || len(ts) != 2 || ts[0].ID != "6" || ts[1].ID != "10" || ts[0].Body == "" || ts[0].Queue.Name != "Users" {
			t.Fatalf("old=%v: %v %+v", old, err, ts)
		}
		all, err := sys.FindTickets(ctx, ticket.SearchCriteria{})
		if err != nil || len(all) != 12 || fake.Requests()["GET /api/v1/tickets"] != 1 {
			t.Fatalf("list: %v %d %v", err, len(all), fake.Requests())
		}
		if ts, _ := sys.FindTickets(ctx, ticket.SearchCriteria{ID: "3"}); len(ts) != 1 {
			t.Fatalf("by id: %+v", ts)
		}
		if ts, err := sys.FindTickets(ctx, ticket.SearchCriteria{ID: "99"}); err != nil || len(ts) != 0 {
			t.Fatalf("missing id: %v %+v", err, ts)
		}
		if n := noExpand.Load(); n != 0 || fake.Requests()["GET /api/v1/tickets/search"] == 0 {
			t.Errorf("old=%v: %d searches without expand=true, %d searches", old, n, fake.Requests()["GET /api/v1/tickets/search"])
		}
		fake.Close()
	}
}

func TestCreateAndPublicNotes(t *testing.T) {
	fake := zammadfake.New(zammadfake.Options{User: "agent", Password: password})
	defer fake.Close()
	ctx := context.Background()
	sys, _ := newSystem(t, fake, func(p *zammad.Params) {
		p.Token, p.Username, p.Password, p.AllowPublicNotes = "", "agent", password, true
	})
	tk, err := sys.CreateTicket(ctx, ticket.NewTicket{Subject: "Help me!", Body: "I am a message!", Queue: ticket.Entity{Name: "IT"},
		Customer: ticket.Entity{Name: "david@example.com"}, Priority: ticket.Entity{Name: "3 high"}, Tags: []string{"a", "b"},
		CustomFields: map[string]any{"ai_category": "hardware"}})
	if err != nil || tk.Queue.Name != "IT" || tk.Priority.Name != "3 high" || tk.CustomFields["ai_category"] != "hardware" {
		t.Fatalf("create: %+v %v", tk, err)
	}
	if n, err := sys.AddNote(ctx, tk.ID, ticket.Note{Body: "visible", Internal: false}); err != nil || n.Internal {
		t.Fatalf("public note: %+v %v", n, err)
	}
	sub := "Renamed"
	if err := sys.UpdateTicket(ctx, tk.ID, ticket.Update{Subject: &sub, State: &ticket.Entity{ID: "4"}, Owner: &ticket.Entity{Name: "otai@example.com"},
		RemoveTags: []string{"a"}, CustomFields: map[string]any{"ai_category": "network"}}); err != nil {
		t.Fatal(err)
	}
	got, err := sys.GetTicket(ctx, tk.ID)
	if err != nil || got.Subject != sub || got.State.Name != "closed" || got.Owner.Name != "otai@example.com" ||
		strings.Join(got.Tags, ",") != "b" || got.CustomFields["ai_category"] != "network" || len(got.Notes) != 2 {
		t.Fatalf("after update: %+v %v", got, err)
	}
}

func TestErrorsMapped(t *testing.T) {
	fake := zammadfake.New(zammadfake.Options{Token: token})
	defer fake.Close()
	seed(fake, 1)
	ctx := context.Background()
	sys, _ := newSystem(t, fake, nil)
	bad, _ := newSystem(t, fake, func(p *zammad.Params) { p.Token = "wrong-token-123456" })
	tests := []struct {
		name string
		call func() error
		kind error
		msg  string
	}{
		{"401", func() error { _, err := bad.GetTicket(ctx, "1"); return err }, ticket.ErrAuth, "Can't find User for Token"},
		{"404", func() error { _, err := sys.GetTicket(ctx, "77"); return err }, ticket.ErrNotFound, "Couldn't find Ticket with 'id'=77"},
		{"422 group", func() error { return sys.UpdateTicket(ctx, "1", ticket.Update{Queue: &ticket.Entity{Name: "Nope"}}) }, ticket.ErrValidation, "No lookup value"},
		{"422 body", func() error {
			_, err := sys.CreateTicket(ctx, ticket.NewTicket{Subject: "x", Queue: ticket.Entity{Name: "IT"}, Customer: ticket.Entity{Name: "a@b.c"}})
			return err
		}, ticket.ErrValidation, "Need at least article"},
		{"empty note", func() error { _, err := sys.AddNote(ctx, "1", ticket.Note{}); return err }, ticket.ErrValidation, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %v with %q", err, tt.kind, tt.msg)
			}
		})
	}
}

func TestNoCredentialInErrorsOrLogs(t *testing.T) {
	fake := zammadfake.New(zammadfake.Options{Token: token, User: "agent", Password: password})
	defer fake.Close()
	ctx := context.Background()
	sys, logs := newSystem(t, fake, nil)
	wrong := "zmWRONG-token-987654"
	bad, badLogs := newSystem(t, fake, func(p *zammad.Params) { p.Token = wrong })
	badPw, _ := newSystem(t, fake, func(p *zammad.Params) { p.Token, p.Username, p.Password = "", "agent", "wrong-"+password })
	dead, _ := newSystem(t, fake, func(p *zammad.Params) { p.BaseURL = "http://agent:" + password + "@127.0.0.1:1/?token=" + token })
	var texts []string
	add := func(err error) {
		if err != nil {
			texts = append(texts, err.Error(), fmt.Sprintf("%#v", err))
		}
	}
	_, err := sys.GetTicket(ctx, "404")
	add(err)
	_, err = bad.FindTickets(ctx, ticket.SearchCriteria{})
	add(err)
	_, err = badPw.GetTicket(ctx, "1")
	add(err)
	_, err = dead.GetTicket(ctx, "1")
	add(err)
	for _, r := range bad.Check(ctx, ticket.CheckOptions{Queues: []string{"IT"}}) {
		texts = append(texts, r.Message)
	}
	texts = append(texts, logs.String(), badLogs.String())
	for _, s := range texts {
		for _, c := range []string{token, wrong, password} {
			if strings.Contains(s, c) {
				t.Fatalf("credential leaked: %s", s)
			}
		}
	}
	if len(texts) < 8 {
		t.Fatalf("too few texts: %d", len(texts))
	}
}

func TestCheck(t *testing.T) {
	fake := zammadfake.New(zammadfake.Options{Token: token})
	defer fake.Close()
	seed(fake, 1)
	sys, _ := newSystem(t, fake, nil)
	res := sys.Check(context.Background(), ticket.CheckOptions{Queues: []string{"Billing", "IT", "Nope"}})
	want := map[string]bool{"auth": true, "search": true, "get": true, "update permission on Billing": true,
		"update permission on IT": false, "update permission on Nope": false}
	if len(res) != len(want) {
		t.Fatalf("results = %+v", res)
	}
	for _, r := range res {
		if w, ok := want[r.Name]; !ok || w != r.OK {
			t.Errorf("%+v, want ok=%v", r, w)
		}
	}
	noAuth, _ := newSystem(t, fake, func(p *zammad.Params) {
		p.HTTP.Transport = stripAuth{}
	})
	if res := noAuth.Check(context.Background(), ticket.CheckOptions{}); len(res) != 1 || res[0].OK || !strings.Contains(res[0].Message, "Authentication required") {
		t.Fatalf("no auth: %+v", res)
	}
}
