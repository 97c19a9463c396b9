package freshdesk_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otai-dev/otai/ticket"
	"github.com/otai-dev/otai/ticketsystem/freshdesk"
	"github.com/otai-dev/otai/ticketsystem/freshdesk/freshdeskfake"
)

func ticketIDs(ts []ticket.Ticket) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

// TestFindTicketsTimeAndCustomFields: the new filters go to the search API
// (day resolution, case-insensitive strings) and are made exact on the
// client; find_via list gives the same answers from the list endpoint.
func TestFindTicketsTimeAndCustomFields(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2025, 3, 2, 8, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return base.Add(time.Duration(n * float64(time.Hour))) }
	fake := newFake(freshdeskfake.Options{})
	defer fake.Close()
	var (
		mu      sync.Mutex
		queries []string
	)
	fake.Use(func(r *http.Request) (int, any) {
		if r.URL.Path == "/api/v2/search/tickets" {
			mu.Lock()
			queries = append(queries, r.URL.Query().Get("query"))
			mu.Unlock()
		}
		return 0, nil
	})
	sent := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(queries) }
	for _, f := range []struct {
		id               int64
		created, updated time.Time
		cf               map[string]any
		priority         int // 0: Low (1)
	}{
		{1, h(0), h(0), map[string]any{"cf_category": "Hardware"}, 0},
		{2, h(1), h(30), map[string]any{"cf_category": "hardware"}, 0}, // changed a day later
		{3, h(2), h(2), map[string]any{"cf_category": "Billing", "cf_seats": 12}, 3},
		{4, h(-24), h(-24), nil, 0}, // the day before
		{5, h(26), h(26), map[string]any{"cf_category": "Hardware"}, 4},
	} {
		fake.AddTicket(freshdeskfake.Ticket{ID: f.id, Subject: "t", Description: "<p>x</p>", GroupID: 1,
			CreatedAt: f.created, UpdatedAt: f.updated, CustomFields: f.cf, Priority: f.priority})
	}
	cases := []struct {
		name  string
		c     ticket.SearchCriteria
		want  []string
		query string // the search expression sent
	}{
		{"created since, same day is cut on the client", ticket.SearchCriteria{CreatedSince: h(1)}, []string{"2", "3", "5"},
			`"created_at:>'2025-03-02'"`},
		{"created before, exclusive", ticket.SearchCriteria{CreatedBefore: h(2)}, []string{"4", "1", "2"},
			`"created_at:<'2025-03-02'"`},
		{"created before midnight asks for the day before", ticket.SearchCriteria{CreatedBefore: base.Truncate(24 * time.Hour)}, []string{"4"},
			`"created_at:<'2025-03-01'"`},
		{"updated before", ticket.SearchCriteria{UpdatedBefore: h(26)}, []string{"4", "1", "3"}, `"updated_at:<'2025-03-03'"`},
		{"custom field, exact case", ticket.SearchCriteria{CustomFields: map[string]string{"cf_category": "Hardware"}}, []string{"1", "5"},
			`"cf_category:'Hardware'"`},
		{"custom field number", ticket.SearchCriteria{CustomFields: map[string]string{"cf_seats": "12"}}, []string{"3"}, `"cf_seats:'12'"`},
		{"custom field with queue and window", ticket.SearchCriteria{Queue: &ticket.Entity{Name: "Inbox"}, CreatedSince: h(0), CreatedBefore: h(25),
			CustomFields: map[string]string{"cf_category": "Hardware"}}, []string{"1"},
			`"group_id:1 AND created_at:>'2025-03-02' AND created_at:<'2025-03-03' AND cf_category:'Hardware'"`},
		{"by id checks on the client", ticket.SearchCriteria{ID: "2", CustomFields: map[string]string{"cf_category": "Hardware"}}, []string{}, ""},
		{"by id checks the priority too", ticket.SearchCriteria{ID: "3", Priority: &ticket.Entity{Name: "Low"}}, []string{}, ""},
		{"by id checks the queue too", ticket.SearchCriteria{ID: "3", Queue: &ticket.Entity{Name: "Billing"}}, []string{}, ""},
		{"by id with matching priority", ticket.SearchCriteria{ID: "3", Priority: &ticket.Entity{ID: "3"}}, []string{"3"}, ""},
		{"no limit still searches", ticket.SearchCriteria{CreatedSince: h(0), Limit: 0}, []string{"1", "2", "3", "5"}, `"created_at:>'2025-03-02'"`},
		{"priority by name, within reach", ticket.SearchCriteria{Priority: &ticket.Entity{Name: "high"}, Limit: 10}, []string{"3"}, `"priority:3"`},
		{"priority by id, no limit reads the list", ticket.SearchCriteria{Priority: &ticket.Entity{ID: "4"}}, []string{"5"}, ""},
		{"priority Low with window", ticket.SearchCriteria{Priority: &ticket.Entity{Name: "Low"}, CreatedSince: h(0)}, []string{"1", "2"},
			`"priority:1 AND created_at:>'2025-03-02'"`},
		{"priority with queue and custom field", ticket.SearchCriteria{Queue: &ticket.Entity{ID: "1"}, Priority: &ticket.Entity{Name: "Urgent"},
			CustomFields: map[string]string{"cf_category": "Hardware"}}, []string{"5"},
			`"group_id:1 AND priority:4 AND cf_category:'Hardware'"`},
	}
	for _, via := range []string{"auto", "list"} {
		sys, _ := newSystem(t, fake, func(p *freshdesk.Params) { p.FindVia = via })
		for _, tc := range cases {
			t.Run(via+"/"+tc.name, func(t *testing.T) {
				mu.Lock()
				queries = nil
				mu.Unlock()
				before := fake.Stats().ByRoute
				got, err := sys.FindTickets(ctx, tc.c)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ticketIDs(got), tc.want) {
					t.Errorf("got %v, want %v", ticketIDs(got), tc.want)
				}
				after := fake.Stats().ByRoute
				queries := sent()
				switch {
				case via == "list" || tc.query == "":
					if len(queries) != 0 {
						t.Errorf("searched %q", queries)
					}
				case len(queries) != 1 || queries[0] != tc.query:
					t.Errorf("queries = %q, want [%s]", queries, tc.query)
				case after["GET /tickets"] != before["GET /tickets"]:
					t.Errorf("list endpoint used besides search")
				}
				for _, tk := range got {
					if tk.Body != "x" {
						t.Errorf("ticket %s body %q", tk.ID, tk.Body)
					}
				}
			})
		}
	}

	sys, _ := newSystem(t, fake, nil)
	t.Run("refused/unknown priority", func(t *testing.T) {
		n := fake.Stats().Requests
		_, err := sys.FindTickets(ctx, ticket.SearchCriteria{Priority: &ticket.Entity{Name: "Blocker"}, Limit: 5})
		if !errors.Is(err, ticket.ErrValidation) || !strings.Contains(err.Error(), "Blocker") {
			t.Fatalf("err = %v, want ErrValidation naming the priority", err)
		}
		if d := fake.Stats().Requests - n; d != 0 {
			t.Errorf("%d requests sent", d)
		}
	})
	for name, cf := range map[string]map[string]string{
		"empty value":     {"cf_category": ""},
		"quote in value":  {"cf_category": "it's"},
		"not an API name": {"cf category": "x"},
		"query too long":  {"cf_a": strings.Repeat("x", 300), "cf_b": strings.Repeat("y", 300)},
	} {
		t.Run("refused/"+name, func(t *testing.T) {
			n := fake.Stats().Requests
			_, err := sys.FindTickets(ctx, ticket.SearchCriteria{CustomFields: cf})
			if !errors.Is(err, ticket.ErrValidation) {
				t.Fatalf("err = %v, want ErrValidation", err)
			}
			if d := fake.Stats().Requests - n; d != 0 {
				t.Errorf("%d requests sent", d)
			}
		})
	}
}

// TestSearchBeyondReach: Freshdesk search returns the newest 300 hits only.
// With more, otai reads the list endpoint instead, so the oldest tickets
// come first and none is dropped.
func TestSearchBeyondReach(t *testing.T) {
	ctx := context.Background()
	fake := newFake(freshdeskfake.Options{})
	defer fake.Close()
	seed(fake, 400) // ids 1..400, oldest first, all Open in group 1
	sys, logs := newSystem(t, fake, func(p *freshdesk.Params) { p.FindVia = "search" })
	got, err := sys.FindTickets(ctx, ticket.SearchCriteria{State: &ticket.Entity{Name: "Open"}, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if ids := ticketIDs(got); len(ids) != 50 || ids[0] != "1" || ids[49] != "50" {
		t.Errorf("state Open, limit 50: got %d tickets %v..., want 1..50", len(ids), ids[:min(3, len(ids))])
	}
	if !strings.Contains(logs.String(), "reading the ticket list instead") {
		t.Errorf("the fallback was not logged:\n%s", logs)
	}
	all, err := sys.FindTickets(ctx, ticket.SearchCriteria{CreatedSince: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 400 || all[0].ID != "1" {
		t.Errorf("created since, no limit: %d tickets, first %v; want all 400 from 1", len(all), ticketIDs(all[:min(1, len(all))]))
	}
	first, err := sys.FindFirstTicket(ctx, ticket.SearchCriteria{State: &ticket.Entity{Name: "Open"}})
	if err != nil || first == nil || first.ID != "1" {
		t.Errorf("FindFirstTicket = %v, %v; want ticket 1", first, err)
	}
	// Within reach, search answers alone.
	before := fake.Stats().ByRoute["GET /tickets"]
	few, err := sys.FindTickets(ctx, ticket.SearchCriteria{CustomFields: map[string]string{"cf_none": "x"}})
	if err != nil || len(few) != 0 {
		t.Errorf("no hits: %v, %v", ticketIDs(few), err)
	}
	if fake.Stats().ByRoute["GET /tickets"] != before {
		t.Error("the list endpoint was read for a search within reach")
	}
}

// TestPagingBehindProxy: behind a proxy, Freshdesk's Link headers name
// https://<domain>.freshdesk.com; otai follows them through base_url.
func TestPagingBehindProxy(t *testing.T) {
	ctx := context.Background()
	fake := newFake(freshdeskfake.Options{PublicHost: "acme.freshdesk.com"})
	defer fake.Close()
	seed(fake, 230)
	sys, _ := newSystem(t, fake, nil)
	got, err := sys.FindTickets(ctx, ticket.SearchCriteria{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 230 || got[0].ID != "1" || got[229].ID != "230" {
		t.Fatalf("got %d tickets, want 230 in order", len(got))
	}
	if n := fake.Stats().ByRoute["GET /tickets"]; n != 3 {
		t.Errorf("%d list requests, want 3 pages", n)
	}
}
