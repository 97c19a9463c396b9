package local

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/otai-dev/otai/ticket"
)

// TestFindTicketsTimeAndCustomFields covers the created/updated windows and
// exact custom-field matches, in SQL (Count agrees with FindTickets).
func TestFindTicketsTimeAndCustomFields(t *testing.T) {
	ctx := context.Background()
	s, c := openTest(t)
	fx := map[string]*ticket.Ticket{}
	for _, f := range []struct {
		key      string
		cf       map[string]any
		priority string // "": the default, normal
	}{
		{"a", map[string]any{"category": "Hardware", "seats": 12, "vip": true}, "high"},
		{"b", map[string]any{"category": "hardware", "ratio": 2.5}, ""},
		{"c", map[string]any{"category": []any{"Billing", "Hardware"}, "vip": false}, "low"},
		{"d", map[string]any{"category": nil, "note": "has \"quotes\" and 'ticks'"}, ""},
		{"e", nil, "high"},
	} {
		c.Advance(time.Hour)
		fx[f.key] = mustCreate(t, s, ticket.NewTicket{Subject: f.key, CustomFields: f.cf, Priority: ticket.Entity{Name: f.priority}})
	}
	// Touch a two hours after it was created: its updated_at moves on.
	c.Advance(time.Hour)
	subj := "a, changed"
	if err := s.UpdateTicket(ctx, fx["a"].ID, ticket.Update{Subject: &subj}); err != nil {
		t.Fatal(err)
	}
	a, _ := s.GetTicket(ctx, fx["a"].ID)
	id := func(keys ...string) []string {
		out := []string{}
		for _, k := range keys {
			out = append(out, fx[k].ID)
		}
		return out
	}
	at := func(k string) time.Time { return fx[k].CreatedAt }
	cases := []struct {
		name string
		c    ticket.SearchCriteria
		want []string
	}{
		{"created since, inclusive", ticket.SearchCriteria{CreatedSince: at("c")}, id("c", "d", "e")},
		{"created since, between tickets", ticket.SearchCriteria{CreatedSince: at("c").Add(time.Nanosecond)}, id("d", "e")},
		{"created before, exclusive", ticket.SearchCriteria{CreatedBefore: at("c")}, id("a", "b")},
		{"created window", ticket.SearchCriteria{CreatedSince: at("b"), CreatedBefore: at("d")}, id("b", "c")},
		{"created window empty", ticket.SearchCriteria{CreatedSince: at("d"), CreatedBefore: at("d")}, id()},
		{"updated before", ticket.SearchCriteria{UpdatedBefore: a.UpdatedAt}, id("b", "c", "d", "e")},
		{"updated since", ticket.SearchCriteria{UpdatedSince: a.UpdatedAt}, id("a")},
		{"updated since and created before", ticket.SearchCriteria{UpdatedSince: at("e"), CreatedBefore: at("b")}, id("a")},
		{"custom field exact", ticket.SearchCriteria{CustomFields: map[string]string{"category": "Hardware"}}, id("a", "c")},
		{"custom field is case-sensitive", ticket.SearchCriteria{CustomFields: map[string]string{"category": "hardware"}}, id("b")},
		{"custom field list element", ticket.SearchCriteria{CustomFields: map[string]string{"category": "Billing"}}, id("c")},
		{"custom field number", ticket.SearchCriteria{CustomFields: map[string]string{"seats": "12"}}, id("a")},
		{"custom field real", ticket.SearchCriteria{CustomFields: map[string]string{"ratio": "2.5"}}, id("b")},
		{"custom field bool", ticket.SearchCriteria{CustomFields: map[string]string{"vip": "true"}}, id("a")},
		{"custom field bool false", ticket.SearchCriteria{CustomFields: map[string]string{"vip": "false"}}, id("c")},
		{"custom field with quotes", ticket.SearchCriteria{CustomFields: map[string]string{"note": `has "quotes" and 'ticks'`}}, id("d")},
		{"custom field name with quote", ticket.SearchCriteria{CustomFields: map[string]string{`x"y`: "1"}}, id()},
		{"custom field substring is no match", ticket.SearchCriteria{CustomFields: map[string]string{"category": "Hard"}}, id()},
		{"two custom fields, both must match", ticket.SearchCriteria{CustomFields: map[string]string{"category": "Hardware", "vip": "false"}}, id("c")},
		{"custom field and created since", ticket.SearchCriteria{CustomFields: map[string]string{"category": "Hardware"}, CreatedSince: at("b")}, id("c")},
		{"custom field unknown", ticket.SearchCriteria{CustomFields: map[string]string{"nope": "x"}}, id()},
		{"empty custom fields map: no filter", ticket.SearchCriteria{CustomFields: map[string]string{}}, id("a", "b", "c", "d", "e")},
		{"priority by name, any case", ticket.SearchCriteria{Priority: &ticket.Entity{Name: "HIGH"}}, id("a", "e")},
		{"priority by id", ticket.SearchCriteria{Priority: &ticket.Entity{ID: fx["c"].Priority.ID}}, id("c")},
		{"priority default", ticket.SearchCriteria{Priority: &ticket.Entity{Name: "normal"}}, id("b", "d")},
		{"priority and custom field", ticket.SearchCriteria{Priority: &ticket.Entity{Name: "high"}, CustomFields: map[string]string{"category": "Hardware"}}, id("a")},
		{"priority and created since", ticket.SearchCriteria{Priority: &ticket.Entity{Name: "high"}, CreatedSince: at("b")}, id("e")},
		{"priority unknown matches nothing", ticket.SearchCriteria{Priority: &ticket.Entity{Name: "urgent"}}, id()},
		{"priority id not a number matches nothing", ticket.SearchCriteria{Priority: &ticket.Entity{ID: "x"}}, id()},
		{"priority zero: no filter", ticket.SearchCriteria{Priority: &ticket.Entity{}}, id("a", "b", "c", "d", "e")},
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
			if n != len(tc.want) {
				t.Errorf("Count = %d, want %d", n, len(tc.want))
			}
		})
	}
	for _, cf := range []map[string]string{{"category": ""}, {" ": "x"}} {
		_, err := s.FindTickets(ctx, ticket.SearchCriteria{CustomFields: cf})
		wantKind(t, err, ticket.ErrValidation, "")
		_, err = s.Count(ctx, ticket.SearchCriteria{CustomFields: cf})
		wantKind(t, err, ticket.ErrValidation, "")
	}
}
