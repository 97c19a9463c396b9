package otobo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/ticket"
	"github.com/otai-dev/otai/ticketsystem/otobo"
	"github.com/otai-dev/otai/ticketsystem/otobo/otobofake"
)

func results(res []ticket.CheckResult) map[string]ticket.CheckResult {
	m := map[string]ticket.CheckResult{}
	for _, r := range res {
		m[r.Name] = r
	}
	return m
}

// TestFakeChecksMoveOnCurrentQueue: like the GI, the fake checks the move
// permission on the queue the ticket is in, not on the target.
func TestFakeChecksMoveOnCurrentQueue(t *testing.T) {
	ctx := context.Background()
	srv := newFake(t, otobofake.Options{})
	srv.AddQueue("Billing")
	in := srv.AddTicket(otobofake.Ticket{Title: "a", Queue: "Inbox"})
	srv.SetPermissions(otobofake.DefaultAgent, "Billing", otobofake.PermRO)
	c := newClient(t, srv, nil)
	if err := c.UpdateTicket(ctx, in, ticket.Update{Queue: &ticket.Entity{Name: "Billing"}}); err != nil {
		t.Fatalf("move out of Inbox (rw) into Billing (ro): %v", err)
	}
	// Now in Billing, where the agent has only ro: it may not move it back.
	err := c.UpdateTicket(ctx, in, ticket.Update{Queue: &ticket.Entity{Name: "Inbox"}})
	if kindOf(err) != ticket.ErrForbidden || !strings.Contains(err.Error(), "update queue") {
		t.Fatalf("move out of Billing (ro): %v", err)
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	srv := newFake(t, otobofake.Options{})
	srv.AddQueue("Empty")
	created := time.Now().Add(-time.Hour).Truncate(time.Second)
	srv.AddTicket(otobofake.Ticket{Title: "in", Queue: "Inbox", Created: created})
	srv.AddTicket(otobofake.Ticket{Title: "ro", Queue: "ReadOnly", Created: created})
	srv.AddTicket(otobofake.Ticket{Title: "bill", Queue: "Billing", Created: created})
	// rw on Inbox, only ro on Billing and ReadOnly: moving Inbox -> Billing
	// works on the real server (move is checked on Inbox), moving out of
	// ReadOnly does not.
	srv.SetPermissions(otobofake.DefaultAgent, "Billing", otobofake.PermRO)
	srv.SetPermissions(otobofake.DefaultAgent, "ReadOnly", otobofake.PermRO, otobofake.PermMoveInto)
	before := srv.Tickets()
	c := newClient(t, srv, nil)
	res := c.Check(ctx, ticket.CheckOptions{
		SourceQueues: []string{"Inbox", "ReadOnly", "Empty"},
		Queues:       []string{"Billing", "Nope"},
	})
	type want struct{ ok, warn bool }
	wants := map[string]want{
		"auth": {true, false}, "search": {true, false}, "get": {true, false},
		"moving tickets out of Inbox":    {true, false},
		"moving tickets out of ReadOnly": {false, false},
		"moving tickets out of Empty":    {true, true},
		"target queue Billing":           {true, false},
		"target queue Nope":              {true, true},
	}
	got := results(res)
	if len(res) != len(wants) {
		t.Fatalf("results: %+v", res)
	}
	for name, w := range wants {
		r, ok := got[name]
		if !ok || r.OK != w.ok || r.Warn != w.warn || r.Message == "" {
			t.Errorf("%s: %+v, want ok=%v warn=%v", name, r, w.ok, w.warn)
		}
	}
	if m := got["moving tickets out of ReadOnly"].Message; !strings.Contains(m, "rw on the group of \"ReadOnly\"") {
		t.Errorf("advice for a missing move permission: %s", m)
	}
	if m := got["target queue Nope"].Message; !strings.Contains(m, "not verified") || !strings.Contains(m, "does not exist") {
		t.Errorf("unknown target queue: %s", m)
	}
	if m := got["target queue Billing"].Message; !strings.Contains(m, "not verified without writing") || !strings.Contains(m, "note") {
		t.Errorf("target queue: %s", m)
	}
	// Nothing changed: no queue, no article, no change time.
	after := srv.Tickets()
	for i := range before {
		b, a := before[i], after[i]
		if a.Queue != b.Queue || len(a.Articles) != len(b.Articles) || !a.Changed.Equal(b.Changed) {
			t.Errorf("check changed ticket %s: %+v -> %+v", b.ID, b, a)
		}
	}
	for _, r := range srv.Requests() {
		if r.Operation == "TicketUpdate" {
			tk, _ := r.Data["Ticket"].(map[string]any)
			if len(r.Data) != 3 || len(tk) != 1 || tk["Queue"] == nil { // TicketID, SessionID, Ticket{Queue}
				t.Errorf("check sent more than a queue no-op: %v", r.Data)
			}
		}
	}

	bad := newClient(t, srv, func(p *otobo.Params) { p.Password = "not-the-password" })
	res = bad.Check(ctx, ticket.CheckOptions{})
	if len(res) != 1 || res[0].OK || !strings.Contains(res[0].Message, "Agents") {
		t.Errorf("bad password: %+v", res)
	}
	if n := strings.Count(res[0].Message, "check username"); n != 1 {
		t.Errorf("bad password: the advice is given %d times: %s", n, res[0].Message)
	}
	badPR := newClient(t, srv, func(p *otobo.Params) { p.Password = "not-the-password"; p.Auth = otobo.AuthPerRequest })
	res = badPR.Check(ctx, ticket.CheckOptions{})
	if len(res) != 1 || res[0].OK || strings.Count(res[0].Message, "check username") != 1 {
		t.Errorf("bad password, per request: %+v", res)
	}
	wrongWS := newClient(t, srv, func(p *otobo.Params) { p.WebserviceName = "Nope"; p.MaxRetries = -1 })
	res = wrongWS.Check(ctx, ticket.CheckOptions{})
	if len(res) != 1 || res[0].OK || !strings.Contains(res[0].Message, "webservice_name") {
		t.Errorf("wrong web service: %+v", res)
	}
}

// TestCheckPerRequestAuthNotVerified: in per_request mode a search that
// fails for another reason says nothing about the credentials.
func TestCheckPerRequestAuthNotVerified(t *testing.T) {
	srv := newFake(t, otobofake.Options{})
	srv.Use(func(r *otobofake.Request) *otobofake.Reply {
		if r.Operation == "TicketSearch" {
			return otobofake.Fault("TicketSearch: database unavailable")
		}
		return nil
	})
	c := newClient(t, srv, func(p *otobo.Params) { p.Auth = otobo.AuthPerRequest; p.MaxRetries = -1 })
	got := results(c.Check(context.Background(), ticket.CheckOptions{}))
	if a := got["auth"]; !a.Warn || !strings.Contains(a.Message, "not verified") || strings.Contains(a.Message, "accepted") {
		t.Errorf("auth: %+v", a)
	}
	if s := got["search"]; s.OK {
		t.Errorf("search: %+v", s)
	}
}
