package testsys_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/otai-dev/otai/internal/testsys"
	"github.com/otai-dev/otai/ticket"
)

func seed() *testsys.System {
	return testsys.New(
		ticket.Ticket{ID: "1", Subject: "Invoice wrong", Queue: ticket.Entity{ID: "q1", Name: "Inbox"}, State: ticket.Entity{Name: "new"}},
		ticket.Ticket{ID: "2", Subject: "Login broken", Queue: ticket.Entity{ID: "q1", Name: "Inbox"}, State: ticket.Entity{Name: "open"}},
		ticket.Ticket{ID: "3", Subject: "Refund please", Queue: ticket.Entity{ID: "q2", Name: "Billing"}, State: ticket.Entity{Name: "open"},
			Priority: ticket.Entity{ID: "4", Name: "high"}, CustomFields: map[string]any{"category": "refund", "seats": 3}},
		ticket.Ticket{ID: "10", Subject: "Old one", Queue: ticket.Entity{ID: "q1", Name: "Inbox"}, State: ticket.Entity{Name: "closed"},
			Notes: []ticket.Note{{ID: "x", Body: "hello"}}},
	)
}

func ids(ts []ticket.Ticket) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestFindTickets(t *testing.T) {
	s := seed()
	ctx := context.Background()
	tests := []struct {
		name string
		c    ticket.SearchCriteria
		want []string
	}{
		{"all in creation order", ticket.SearchCriteria{}, []string{"1", "2", "3", "10"}},
		{"queue by name, case-insensitive", ticket.SearchCriteria{Queue: &ticket.Entity{Name: "inbox"}}, []string{"1", "2", "10"}},
		{"queue by id", ticket.SearchCriteria{Queue: &ticket.Entity{ID: "q2"}}, []string{"3"}},
		{"queue and state", ticket.SearchCriteria{Queue: &ticket.Entity{Name: "Inbox"}, State: &ticket.Entity{Name: "open"}}, []string{"2"}},
		{"subject substring", ticket.SearchCriteria{Subject: "REFUND"}, []string{"3"}},
		{"id", ticket.SearchCriteria{ID: "10"}, []string{"10"}},
		{"limit", ticket.SearchCriteria{Limit: 2}, []string{"1", "2"}},
		{"offset and limit", ticket.SearchCriteria{Offset: 1, Limit: 2}, []string{"2", "3"}},
		{"offset past the end", ticket.SearchCriteria{Offset: 9}, nil},
		{"no match", ticket.SearchCriteria{Queue: &ticket.Entity{Name: "Sales"}}, nil},
		{"priority by name", ticket.SearchCriteria{Priority: &ticket.Entity{Name: "High"}}, []string{"3"}},
		{"priority by id", ticket.SearchCriteria{Priority: &ticket.Entity{ID: "4"}}, []string{"3"}},
		{"custom fields", ticket.SearchCriteria{CustomFields: map[string]string{"category": "refund", "seats": "3"}}, []string{"3"}},
		{"custom field mismatch", ticket.SearchCriteria{CustomFields: map[string]string{"category": "other"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.FindTickets(ctx, tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tc.want) {
				t.Fatalf("got %v, want %v", ids(got), tc.want)
			}
			for _, tk := range got {
				if len(tk.Notes) != 0 {
					t.Errorf("FindTickets returned notes of %s", tk.ID)
				}
			}
		})
	}
	if n := s.Calls(testsys.OpFind); n != len(tests) {
		t.Errorf("Calls(FindTickets) = %d, want %d", n, len(tests))
	}
}

func TestGetUpdateNoteAreCopies(t *testing.T) {
	s := seed()
	ctx := context.Background()
	tk, err := s.GetTicket(ctx, "10")
	if err != nil || len(tk.Notes) != 1 {
		t.Fatalf("GetTicket = %+v, %v; want the ticket with its note", tk, err)
	}
	tk.Notes[0].Body = "changed by caller"
	tk.Subject = "changed"
	if again, _ := s.Ticket("10"); again.Subject != "Old one" || again.Notes[0].Body != "hello" {
		t.Fatalf("caller changed the stored ticket: %+v", again)
	}
	if _, err := s.GetTicket(ctx, "404"); !errors.Is(err, ticket.ErrNotFound) {
		t.Fatalf("GetTicket(404) err = %v, want ErrNotFound", err)
	}
	if err := s.UpdateTicket(ctx, "404", ticket.Update{}); !errors.Is(err, ticket.ErrNotFound) {
		t.Fatalf("UpdateTicket(404) err = %v, want ErrNotFound", err)
	}
	at := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return at })
	if err := s.UpdateTicket(ctx, "1", ticket.Update{Queue: &ticket.Entity{Name: "Billing"}, AddTags: []string{"ai"}}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Ticket("1")
	if got.Queue.Name != "Billing" || !got.HasTag("ai") || !got.UpdatedAt.Equal(at) || got.State.Name != "new" {
		t.Fatalf("after update: %+v", got)
	}
	if u := s.Updates("1"); len(u) != 1 || u[0].Queue == nil || u[0].Priority != nil {
		t.Fatalf("Updates(1) = %+v", u)
	}
	n, err := s.AddNote(ctx, "1", ticket.Note{Body: "hi", Internal: true})
	if err != nil || n.ID == "" {
		t.Fatalf("AddNote = %+v, %v", n, err)
	}
	if notes := s.Notes("1"); len(notes) != 1 || notes[0].Body != "hi" || !notes[0].Internal {
		t.Fatalf("Notes(1) = %+v", notes)
	}
	created, err := s.CreateTicket(ctx, ticket.NewTicket{Subject: "new one"})
	if err != nil || created.ID != "11" {
		t.Fatalf("CreateTicket = %+v, %v; want id 11", created, err)
	}
}

func TestFaults(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	tests := []struct {
		name      string
		inject    func(s *testsys.System)
		wantErr   []bool // per call of AddNote on ticket 1
		wantNotes int
	}{
		{"before, once", func(s *testsys.System) { s.Fail(testsys.OpAddNote, "1", boom, 1) }, []bool{true, false}, 1},
		{"before, always", func(s *testsys.System) { s.Fail(testsys.OpAddNote, "", boom, -1) }, []bool{true, true}, 0},
		{"other ticket", func(s *testsys.System) { s.Fail(testsys.OpAddNote, "2", boom, -1) }, []bool{false, false}, 2},
		{"other op", func(s *testsys.System) { s.Fail(testsys.OpUpdate, "1", boom, -1) }, []bool{false, false}, 2},
		{"after: written, then failed", func(s *testsys.System) { s.FailAfter(testsys.OpAddNote, "1", boom, 1) }, []bool{true, false}, 2},
		{"hook", func(s *testsys.System) {
			s.SetHook(func(ctx context.Context, op testsys.Op, id string) error {
				if op == testsys.OpAddNote {
					return boom
				}
				return nil
			})
		}, []bool{true, true}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := seed()
			tc.inject(s)
			for i, want := range tc.wantErr {
				_, err := s.AddNote(ctx, "1", ticket.Note{Body: "x"})
				if (err != nil) != want || (err != nil && !errors.Is(err, boom)) {
					t.Errorf("call %d: err = %v, want error %v", i, err, want)
				}
			}
			if n := len(s.Notes("1")); n != tc.wantNotes {
				t.Errorf("notes = %d, want %d", n, tc.wantNotes)
			}
			if n := s.Calls(testsys.OpAddNote); n != len(tc.wantErr) {
				t.Errorf("Calls(AddNote) = %d, want %d", n, len(tc.wantErr))
			}
			s.ClearFaults()
			s.SetHook(nil)
			if _, err := s.AddNote(ctx, "1", ticket.Note{Body: "x"}); err != nil {
				t.Errorf("after ClearFaults: %v", err)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	s := seed()
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				ts, _ := s.FindTickets(ctx, ticket.SearchCriteria{})
				for _, tk := range ts {
					tk.Tags = append(tk.Tags, "local") // must not touch the store
				}
				_ = s.UpdateTicket(ctx, "2", ticket.Update{AddTags: []string{"t"}})
				_, _ = s.AddNote(ctx, "3", ticket.Note{Body: string(rune('a' + i))})
			}
		}()
	}
	wg.Wait()
	if n := len(s.Notes("3")); n != 400 {
		t.Fatalf("notes = %d, want 400", n)
	}
	if tk, _ := s.Ticket("1"); len(tk.Tags) != 0 {
		t.Fatalf("a caller's append reached the store: %v", tk.Tags)
	}
}
