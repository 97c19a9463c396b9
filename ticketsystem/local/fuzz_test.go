package local

import (
	"context"
	"strings"
	"testing"

	"github.com/otai-dev/otai/ticket"
)

// FuzzTicketRoundTrip checks that whatever text a help desk sends comes
// back byte for byte, and that searching for a ticket's subject finds it.
func FuzzTicketRoundTrip(f *testing.F) {
	f.Add("Rechnung", "Grüße\n", "tag")
	f.Add("'; DROP TABLE tickets; --", "%_\\", "a,b")
	f.Add("\x00nul", "\xff\xfe invalid utf-8", "")
	f.Add("ÄÖÜ ß İ", "", "VIP")
	ctx := context.Background()
	s, err := Open(ctx, MemoryPath, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	f.Fuzz(func(t *testing.T, subject, body, tag string) {
		tk, err := s.CreateTicket(ctx, ticket.NewTicket{Subject: subject, Body: body, Tags: []string{tag}})
		if strings.TrimSpace(subject) == "" {
			if err == nil {
				t.Fatal("empty subject accepted")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetTicket(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Subject != subject || got.Body != body {
			t.Fatalf("round trip: %q/%q -> %q/%q", subject, body, got.Subject, got.Body)
		}
		if strings.TrimSpace(tag) != "" && !got.HasTag(strings.TrimSpace(tag)) {
			t.Fatalf("tag %q lost: %v", tag, got.Tags)
		}
		found, err := s.FindTickets(ctx, ticket.SearchCriteria{ID: tk.ID, Subject: subject})
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 {
			t.Fatalf("searching subject %q found %d", subject, len(found))
		}
	})
}
