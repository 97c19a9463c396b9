package otobo_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/ticket"
	"github.com/otai-dev/otai/ticketsystem/otobo"
	"github.com/otai-dev/otai/ticketsystem/otobo/otobofake"
)

func ticketIDs(ts []ticket.Ticket) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

// seedCriteria adds five tickets an hour apart (a..e) with dynamic fields,
// and changes b later.
func seedCriteria(srv *otobofake.Server, base time.Time) map[string]string {
	srv.AddDynamicField("AICategory")
	ids := map[string]string{}
	for i, f := range []struct {
		key string
		df  map[string]any
	}{
		{"a", map[string]any{"AICategory": "Hardware"}},
		{"b", map[string]any{"AICategory": "hardware"}},
		{"c", map[string]any{"AICategory": []string{"Billing", "Hardware"}}},
		{"d", nil},
		{"e", map[string]any{"AICategory": "Billing"}},
	} {
		created := base.Add(time.Duration(i) * time.Hour)
		changed := created
		if f.key == "b" {
			changed = base.Add(10 * time.Hour)
		}
		ids[f.key] = srv.AddTicket(otobofake.Ticket{Title: f.key, Queue: "Inbox", Created: created, Changed: changed, DynamicFields: f.df})
	}
	return ids
}

func TestFindTicketsTimeAndDynamicFields(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	for _, preset := range []string{otobo.PresetClassic, otobo.PresetZnuny7} {
		t.Run(preset, func(t *testing.T) {
			srv := newFake(t, otobofake.Options{Preset: preset})
			ids := seedCriteria(srv, base)
			c := newClient(t, srv, func(p *otobo.Params) { p.RoutePreset = preset })
			id := func(keys ...string) []string {
				out := []string{}
				for _, k := range keys {
					out = append(out, ids[k])
				}
				return out
			}
			h := func(n float64) time.Time { return base.Add(time.Duration(n * float64(time.Hour))) }
			cases := []struct {
				name  string
				c     ticket.SearchCriteria
				want  []string
				query map[string]string // wire parameters the search must carry
				post  bool              // needs a POST search route
			}{
				{name: "created since, inclusive", c: ticket.SearchCriteria{CreatedSince: h(2)}, want: id("c", "d", "e"),
					query: map[string]string{"TicketCreateTimeNewerDate": "2026-03-02 10:00:00"}},
				{name: "created since, fraction rounds up", c: ticket.SearchCriteria{CreatedSince: h(2).Add(time.Millisecond)}, want: id("d", "e"),
					query: map[string]string{"TicketCreateTimeNewerDate": "2026-03-02 10:00:01"}},
				{name: "created before, exclusive", c: ticket.SearchCriteria{CreatedBefore: h(2)}, want: id("a", "b"),
					query: map[string]string{"TicketCreateTimeOlderDate": "2026-03-02 09:59:59"}},
				{name: "created window", c: ticket.SearchCriteria{CreatedSince: h(1), CreatedBefore: h(3)}, want: id("b", "c")},
				{name: "updated before", c: ticket.SearchCriteria{UpdatedBefore: h(4)}, want: id("a", "c", "d"),
					query: map[string]string{"TicketLastChangeTimeOlderDate": "2026-03-02 11:59:59"}},
				{name: "updated since and before", c: ticket.SearchCriteria{UpdatedSince: h(3), UpdatedBefore: h(11)}, want: id("b", "d", "e")},
				{name: "dynamic field equals", c: ticket.SearchCriteria{CustomFields: map[string]string{"AICategory": "Hardware"}}, want: id("a", "c"), post: true},
				{name: "dynamic field multiselect", c: ticket.SearchCriteria{CustomFields: map[string]string{"AICategory": "Billing"}}, want: id("c", "e"), post: true},
				{name: "dynamic field and created before", c: ticket.SearchCriteria{CustomFields: map[string]string{"AICategory": "Billing"}, CreatedBefore: h(4)}, want: id("c"), post: true},
				{name: "dynamic field with limit", c: ticket.SearchCriteria{CustomFields: map[string]string{"AICategory": "Hardware"}, Limit: 1}, want: id("a"), post: true},
				{name: "by id, checked on the client", c: ticket.SearchCriteria{ID: ids["c"], CustomFields: map[string]string{"AICategory": "Hardware"}, CreatedSince: h(2)}, want: id("c")},
				{name: "by id, not matching", c: ticket.SearchCriteria{ID: ids["a"], CustomFields: map[string]string{"AICategory": "Billing"}}, want: id()},
				{name: "by id, outside the window", c: ticket.SearchCriteria{ID: ids["a"], CreatedSince: h(1)}, want: id()},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					before := len(srv.Requests())
					got, err := c.FindTickets(ctx, tc.c)
					if tc.post && preset == otobo.PresetClassic {
						var te *ticket.Error
						if !errors.As(err, &te) || !errors.Is(err, ticket.ErrValidation) || te.Field != "custom_fields" {
							t.Fatalf("err = %v, want ErrValidation on custom_fields", err)
						}
						for _, hint := range []string{"znuny7", "POST"} {
							if !strings.Contains(err.Error(), hint) {
								t.Errorf("error %q does not name the fix (%s)", err, hint)
							}
						}
						if n := len(srv.Requests()) - before; n != 0 {
							t.Errorf("refused search still sent %d requests", n)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(ticketIDs(got), tc.want) {
						t.Errorf("got %v, want %v", ticketIDs(got), tc.want)
					}
					if tc.query == nil {
						return
					}
					var search *otobofake.Request
					for _, r := range srv.Requests()[before:] {
						if r.Operation == "TicketSearch" {
							search = &r
						}
					}
					if search == nil {
						t.Fatal("no TicketSearch sent")
					}
					for k, v := range tc.query {
						if got := search.Data[k]; got != v {
							t.Errorf("%s = %v, want %q", k, got, v)
						}
					}
				})
			}
			_, err := c.FindTickets(ctx, ticket.SearchCriteria{CustomFields: map[string]string{"AICategory": ""}})
			if !errors.Is(err, ticket.ErrValidation) {
				t.Errorf("empty value: err = %v, want ErrValidation", err)
			}
		})
	}
}

// A custom POST search route on the classic layout can filter by dynamic
// fields too.
func TestFindTicketsDynamicFieldsCustomRoute(t *testing.T) {
	ctx := context.Background()
	srv := newFake(t, otobofake.Options{Preset: otobofake.PresetZnuny7})
	ids := seedCriteria(srv, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	c := newClient(t, srv, func(p *otobo.Params) {
		p.RoutePreset = otobo.PresetCustom
		p.Routes = map[string]string{"TicketSearch": "POST /Ticket/Search", "TicketGetList": "-", "TicketHistoryGet": "-"}
	})
	got, err := c.FindTickets(ctx, ticket.SearchCriteria{CustomFields: map[string]string{"AICategory": "Hardware"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{ids["a"], ids["c"]}; !slices.Equal(ticketIDs(got), want) {
		t.Errorf("got %v, want %v", ticketIDs(got), want)
	}
}

// TestFindTicketsByIDAppliesFilters: with an id, the other criteria still
// have to match (state by name, id or type; subject; owner; priority; queue).
func TestFindTicketsByIDAppliesFilters(t *testing.T) {
	ctx := context.Background()
	srv := newFake(t, otobofake.Options{})
	closed := srv.AddTicket(otobofake.Ticket{Title: "Printer jams again", Queue: "Inbox", State: "closed successful",
		Priority: "4 high", Owner: otobofake.DefaultAgent})
	c := newClient(t, srv, nil)
	e := func(name string) *ticket.Entity { return &ticket.Entity{Name: name} }
	for _, tc := range []struct {
		name string
		sc   ticket.SearchCriteria
		hit  bool
	}{
		{"id only", ticket.SearchCriteria{}, true},
		{"state name", ticket.SearchCriteria{State: e("new")}, false},
		{"state name matches", ticket.SearchCriteria{State: e("Closed Successful")}, true},
		{"state id", ticket.SearchCriteria{State: &ticket.Entity{ID: "1"}}, false},
		{"state id matches", ticket.SearchCriteria{State: &ticket.Entity{ID: "2"}}, true},
		{"state type open", ticket.SearchCriteria{State: e("type:Open")}, false},
		{"state type closed", ticket.SearchCriteria{State: e("type:Closed")}, true},
		{"subject", ticket.SearchCriteria{Subject: "invoice"}, false},
		{"subject matches", ticket.SearchCriteria{Subject: "printer JAMS"}, true},
		{"owner name", ticket.SearchCriteria{Owner: e("root@localhost")}, false},
		{"owner name matches", ticket.SearchCriteria{Owner: e(otobofake.DefaultAgent)}, true},
		{"owner id", ticket.SearchCriteria{Owner: &ticket.Entity{ID: "1"}}, false},
		{"priority name", ticket.SearchCriteria{Priority: e("3 normal")}, false},
		{"priority matches", ticket.SearchCriteria{Priority: e("4 high")}, true},
		{"priority id", ticket.SearchCriteria{Priority: &ticket.Entity{ID: "3"}}, false},
		{"priority id matches", ticket.SearchCriteria{Priority: &ticket.Entity{ID: "4"}}, true},
		{"queue", ticket.SearchCriteria{Queue: e("Misc")}, false},
	} {
		tc.sc.ID = closed
		ts, err := c.FindTickets(ctx, tc.sc)
		if err != nil || (len(ts) == 1) != tc.hit || len(ts) > 1 {
			t.Errorf("%s: %v, %v (want hit=%v)", tc.name, ticketIDs(ts), err, tc.hit)
		}
	}
}

// TestFindTicketsByPriority: priority is sent to TicketSearch (Priorities
// or PriorityIDs) and filters.
func TestFindTicketsByPriority(t *testing.T) {
	ctx := context.Background()
	srv := newFake(t, otobofake.Options{})
	srv.AddTicket(otobofake.Ticket{Title: "normal", Queue: "Inbox"})
	high := srv.AddTicket(otobofake.Ticket{Title: "high", Queue: "Inbox", Priority: "4 high"})
	c := newClient(t, srv, nil)
	for _, p := range []ticket.Entity{{Name: "4 high"}, {ID: "4"}} {
		ts, err := c.FindTickets(ctx, ticket.SearchCriteria{Queue: &ticket.Entity{Name: "Inbox"}, Priority: &p})
		if err != nil || !slices.Equal(ticketIDs(ts), []string{high}) {
			t.Errorf("priority %+v: %v, %v", p, ticketIDs(ts), err)
		}
	}
	var sent []map[string]any
	for _, r := range srv.Requests() {
		if r.Operation == "TicketSearch" {
			sent = append(sent, r.Data)
		}
	}
	if len(sent) != 2 || sent[0]["Priorities"] != "4 high" || sent[1]["PriorityIDs"] != "4" {
		t.Errorf("TicketSearch data: %v", sent)
	}
}
