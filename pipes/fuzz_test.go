package pipes

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/otai-dev/otai/ticket"
)

// FuzzCut: the classify pipe's max_chars cut keeps a prefix of at most n
// runes (invalid bytes count as one), and never splits a valid rune.
func FuzzCut(f *testing.F) {
	f.Add("Größe passt nicht", 3)
	f.Add("a\xffb\xe2\x82", 2)
	f.Add("日本語のテキスト", 0)
	f.Add("x", -5)
	f.Add("\u0308\u0308\u0308", 1)
	f.Fuzz(func(t *testing.T, s string, n int) {
		out := cut(s, n)
		if !strings.HasPrefix(s, out) {
			t.Fatalf("cut(%q, %d) = %q, not a prefix", s, n, out)
		}
		if n <= 0 || len(s) <= n {
			if out != s {
				t.Fatalf("cut(%q, %d) = %q, want all", s, n, out)
			}
			return
		}
		if got, want := utf8.RuneCountInString(out), min(n, utf8.RuneCountInString(s)); got != want {
			t.Fatalf("cut(%q, %d) keeps %d runes, want %d", s, n, got, want)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("cut(%q, %d) = %q splits a rune", s, n, out)
		}
	})
}

// FuzzPlanApply: the update pipe plans only real changes, reports one
// change per planned field, and once the plan is applied to the ticket a
// second plan of the same update changes nothing; apply copies the tag
// slice and custom-field map instead of changing them in place.
func FuzzPlanApply(f *testing.F) {
	f.Add("Billing", "", "billing", "3", "Invoice", "urgent,vip", "vip", "cf_x", "1", "a,b")
	f.Add("", "7", "", "7", "", " x ,X", "", "", "", "")
	f.Add("Hardware", "12", "Software", "", "", "", "A", "cf_y", "", "a")
	f.Add("ǅ", "", "ǆ", "", "s", "K", "k", "k", "\x00", "K,k")
	f.Fuzz(func(t *testing.T, wantQueue, wantQueueID, curQueue, curQueueID, subject, add, remove, cfKey, cfVal, curTags string) {
		split := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.Split(s, ",")
		}
		cur := &ticket.Ticket{ID: "1", Subject: "Old", Queue: ticket.Entity{ID: curQueueID, Name: curQueue},
			Tags: split(curTags), CustomFields: map[string]any{"cf_x": "1"}}
		u := ticket.Update{Queue: &ticket.Entity{ID: wantQueueID, Name: wantQueue}, AddTags: split(add), RemoveTags: split(remove)}
		if subject != "" {
			u.Subject = &subject
		}
		if cfKey != "" {
			u.CustomFields = map[string]any{cfKey: cfVal}
		}
		planned, changes := plan(u, cur)
		fields := len(planned.AddTags) + len(planned.RemoveTags) + len(planned.CustomFields)
		for _, e := range []*ticket.Entity{planned.Queue, planned.Priority, planned.State, planned.Type, planned.Owner} {
			if e != nil {
				fields++
			}
		}
		if planned.Subject != nil {
			fields++
		}
		if len(changes) != fields || planned.IsEmpty() != (len(changes) == 0) {
			t.Fatalf("%d changes %v for plan %+v", len(changes), changes, planned)
		}
		_ = describe(changes)

		oldTags, oldTagsCopy := cur.Tags, slices.Clone(cur.Tags)
		oldCF, oldCFCopy := cur.CustomFields, maps.Clone(cur.CustomFields)
		apply(cur, planned)
		if !slices.Equal(oldTags, oldTagsCopy) || !maps.Equal(oldCF, oldCFCopy) {
			t.Fatal("apply changed the old tag slice or custom-field map in place")
		}
		for _, a := range u.AddTags {
			for _, r := range u.RemoveTags {
				if a, r := strings.TrimSpace(a), strings.TrimSpace(r); a != "" && strings.EqualFold(a, r) {
					return // adding and removing one tag is not idempotent, by design
				}
			}
		}
		if again, more := plan(u, cur); !again.IsEmpty() || len(more) != 0 {
			t.Fatalf("after applying %+v, a second plan still changes %v", planned, more)
		}
	})
}
