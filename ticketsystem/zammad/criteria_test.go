package zammad_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/otai-dev/otai/ticket"
	"github.com/otai-dev/otai/ticketsystem/zammad/zammadfake"
)

func ticketIDs(ts []ticket.Ticket) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

// TestFindTicketsTimeAndCustomFields: the new filters become search terms
// (created_at/updated_at ranges, attribute:"value") and are made exact on
// the client.
func TestFindTicketsTimeAndCustomFields(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2025, 3, 2, 8, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return base.Add(time.Duration(n * float64(time.Hour))) }
	fake := zammadfake.New(zammadfake.Options{Token: token})
	defer fake.Close()
	var (
		mu      sync.Mutex
		queries []string
	)
	fake.Use(func(r *http.Request) (int, string) {
		if r.URL.Path == "/api/v1/tickets/search" {
			mu.Lock()
			queries = append(queries, r.URL.Query().Get("query"))
			mu.Unlock()
		}
		return 0, ""
	})
	for _, f := range []struct {
		created, updated time.Time
		custom           map[string]any
		priority         int64 // 0: 2 normal
	}{
		{h(0), h(0), map[string]any{"ai_category": "Hardware"}, 0},
		{h(1), h(30), map[string]any{"ai_category": "hardware"}, 3},
		{h(2), h(2), map[string]any{"ai_category": []any{"Billing", "Hardware"}, "seats": float64(12)}, 1},
		{h(3), h(3), nil, 3},
		{h(4).Add(500 * time.Millisecond), h(4).Add(500 * time.Millisecond), map[string]any{"ai_category": "Billing", "vip": true}, 0},
	} {
		fake.AddTicket(zammadfake.Ticket{Title: "t", GroupID: 1, CreatedAt: f.created, UpdatedAt: f.updated, Custom: f.custom,
			PriorityID: f.priority}, "body")
	}
	sys, _ := newSystem(t, fake, nil)
	cases := []struct {
		name  string
		c     ticket.SearchCriteria
		want  []string
		query string
	}{
		{"created since, inclusive", ticket.SearchCriteria{CreatedSince: h(2)}, []string{"3", "4", "5"}, "created_at:[2025-03-02T10:00:00Z TO *]"},
		{"created before, exclusive", ticket.SearchCriteria{CreatedBefore: h(2)}, []string{"1", "2"}, "created_at:{* TO 2025-03-02T10:00:00Z}"},
		{"created before a fraction: widened, then exact", ticket.SearchCriteria{CreatedBefore: h(4).Add(100 * time.Millisecond)}, []string{"1", "2", "3", "4"},
			"created_at:{* TO 2025-03-02T12:00:01Z}"},
		{"updated before", ticket.SearchCriteria{UpdatedBefore: h(3)}, []string{"1", "3"}, "updated_at:{* TO 2025-03-02T11:00:00Z}"},
		{"updated since and created before", ticket.SearchCriteria{UpdatedSince: h(2), CreatedBefore: h(3)}, []string{"2", "3"},
			"updated_at:[2025-03-02T10:00:00Z TO *] AND created_at:{* TO 2025-03-02T11:00:00Z}"},
		{"attribute, exact case", ticket.SearchCriteria{CustomFields: map[string]string{"ai_category": "Hardware"}}, []string{"1", "3"}, `ai_category:"Hardware"`},
		{"attribute multi-select", ticket.SearchCriteria{CustomFields: map[string]string{"ai_category": "Billing"}}, []string{"3", "5"}, `ai_category:"Billing"`},
		{"attribute number and bool", ticket.SearchCriteria{CustomFields: map[string]string{"seats": "12"}}, []string{"3"}, `seats:"12"`},
		{"attribute bool", ticket.SearchCriteria{CustomFields: map[string]string{"vip": "true"}}, []string{"5"}, `vip:"true"`},
		{"group, window and attribute", ticket.SearchCriteria{Queue: &ticket.Entity{Name: "Users"}, CreatedSince: h(1),
			CustomFields: map[string]string{"ai_category": "Hardware"}}, []string{"3"},
			`group.name:"Users" AND created_at:[2025-03-02T09:00:00Z TO *] AND ai_category:"Hardware"`},
		{"with limit", ticket.SearchCriteria{CreatedSince: h(1), Limit: 2}, []string{"2", "3"}, "created_at:[2025-03-02T09:00:00Z TO *]"},
		{"by id, checked on the client", ticket.SearchCriteria{ID: "2", CustomFields: map[string]string{"ai_category": "Hardware"}}, []string{}, ""},
		{"priority by name", ticket.SearchCriteria{Priority: &ticket.Entity{Name: "3 high"}}, []string{"2", "4"}, `priority.name:"3 high"`},
		{"priority by id", ticket.SearchCriteria{Priority: &ticket.Entity{ID: "1"}}, []string{"3"}, "priority_id:1"},
		{"priority, group and window", ticket.SearchCriteria{Queue: &ticket.Entity{Name: "Users"}, Priority: &ticket.Entity{Name: "2 normal"},
			CreatedSince: h(1)}, []string{"5"}, `group.name:"Users" AND priority.name:"2 normal" AND created_at:[2025-03-02T09:00:00Z TO *]`},
		{"by id, priority checked on the client", ticket.SearchCriteria{ID: "2", Priority: &ticket.Entity{Name: "1 low"}}, []string{}, ""},
		{"by id, matching priority", ticket.SearchCriteria{ID: "2", Priority: &ticket.Entity{ID: "3"}}, []string{"2"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			queries = nil
			mu.Unlock()
			got, err := sys.FindTickets(ctx, tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ticketIDs(got), tc.want) {
				t.Errorf("got %v, want %v", ticketIDs(got), tc.want)
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.query == "" {
				if len(queries) != 0 {
					t.Errorf("searched %q", queries)
				}
				return
			}
			if len(queries) == 0 || queries[0] != tc.query {
				t.Errorf("queries = %q, want %q", queries, tc.query)
			}
		})
	}
	for name, cf := range map[string]map[string]string{
		"empty value":        {"ai_category": ""},
		"not attribute name": {"ai category OR x": "y"},
	} {
		t.Run("refused/"+name, func(t *testing.T) {
			before := fake.Requests()
			_, err := sys.FindTickets(ctx, ticket.SearchCriteria{CustomFields: cf})
			if !errors.Is(err, ticket.ErrValidation) {
				t.Fatalf("err = %v, want ErrValidation", err)
			}
			if after := fake.Requests(); len(after) != len(before) || after["GET /api/v1/tickets/search"] != before["GET /api/v1/tickets/search"] {
				t.Errorf("requests sent: %v -> %v", before, after)
			}
		})
	}
}
