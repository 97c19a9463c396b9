package local

import (
	"context"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/otai-dev/otai/ticket"
)

func TestSeedDemo(t *testing.T) {
	ctx := context.Background()
	s, c := openTest(t)
	if err := SeedDemo(ctx, s); err != nil {
		t.Fatal(err)
	}
	now := c.Now()
	count := func(sc ticket.SearchCriteria) int {
		t.Helper()
		n, err := s.Count(ctx, sc)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	historySize := DemoHistoryPerQueue * len(DemoQueues)
	if n := count(ticket.SearchCriteria{}); n != historySize+16 {
		t.Errorf("tickets = %d, want %d", n, historySize+16)
	}
	if n := count(ticket.SearchCriteria{State: &ticket.Entity{Name: "closed"}}); n != historySize || n < 300 || n > 400 {
		t.Errorf("closed = %d, want %d (300-400)", n, historySize)
	}
	for _, q := range DemoQueues {
		if n := count(ticket.SearchCriteria{Queue: &ticket.Entity{Name: q}, State: &ticket.Entity{Name: "closed"}}); n != DemoHistoryPerQueue {
			t.Errorf("closed in %s = %d, want %d", q, n, DemoHistoryPerQueue)
		}
	}

	inbox, err := s.FindTickets(ctx, ticket.SearchCriteria{Queue: &ticket.Entity{Name: DemoInboxQueue}})
	if err != nil {
		t.Fatal(err)
	}
	if len(inbox) != 16 {
		t.Fatalf("inbox = %d tickets, want 16", len(inbox))
	}
	langs := map[any]int{}
	want := DemoInbox()
	for i, tk := range inbox {
		if tk.State.Name != "new" || tk.Priority.Name != "normal" {
			t.Errorf("inbox ticket %s is %s/%s, want new/normal", tk.ID, tk.State.Name, tk.Priority.Name)
		}
		if age := now.Sub(tk.CreatedAt); age <= 0 || age > time.Hour {
			t.Errorf("inbox ticket %s created %v ago, want within the last hour", tk.ID, age)
		}
		if tk.Subject != want[i].Subject || tk.Body != want[i].Body {
			t.Errorf("inbox ticket %d = %q, want %q (in DemoInbox order)", i, tk.Subject, want[i].Subject)
		}
		langs[tk.CustomFields["language"]]++
	}
	if langs["en"] != 8 || langs["de"] != 8 {
		t.Errorf("inbox languages = %v, want 8 en / 8 de", langs)
	}

	history, err := s.FindTickets(ctx, ticket.SearchCriteria{State: &ticket.Entity{Name: "closed"}})
	if err != nil {
		t.Fatal(err)
	}
	langs = map[any]int{}
	oldest := now
	for _, tk := range history {
		langs[tk.CustomFields["language"]]++
		if tk.CreatedAt.Before(oldest) {
			oldest = tk.CreatedAt
		}
		if tk.CreatedAt.After(inbox[0].CreatedAt) || !tk.UpdatedAt.After(tk.CreatedAt) || tk.Owner.IsZero() || tk.Customer.IsZero() {
			t.Errorf("history ticket %s: created %v updated %v owner %v customer %v", tk.ID, tk.CreatedAt, tk.UpdatedAt, tk.Owner, tk.Customer)
			break
		}
	}
	if en := float64(langs["en"]) / float64(len(history)); en < 0.5 || en > 0.6 {
		t.Errorf("history English share = %.2f (%v), want about 0.55", en, langs)
	}
	if span := now.Sub(oldest); span < 90*24*time.Hour {
		t.Errorf("history spans only %v, want months", span)
	}
	first, err := s.GetTicket(ctx, history[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Notes) != 1 || first.Notes[0].Author != first.Owner.Name {
		t.Errorf("history ticket notes = %+v", first.Notes)
	}

	// Entities.
	qs, _ := s.Queues(ctx)
	var qnames []string
	for _, q := range qs {
		qnames = append(qnames, q.Name)
	}
	if !slices.Equal(qnames, append([]string{"Inbox"}, DemoQueues...)) {
		t.Errorf("queues = %v", qnames)
	}
	ps, _ := s.Priorities(ctx)
	if len(ps) != 3 || ps[0].Name != "low" || ps[1].Name != "normal" || ps[2].Name != "high" {
		t.Errorf("priorities = %v", ps)
	}
	sts, _ := s.States(ctx)
	if len(sts) != 3 || sts[2].Name != "closed" || sts[2].Type != StateTypeClosed || sts[0].Type != StateTypeNew {
		t.Errorf("states = %v", sts)
	}

	// Idempotent.
	if err := SeedDemo(ctx, s); err != nil {
		t.Fatal(err)
	}
	if n := count(ticket.SearchCriteria{}); n != historySize+16 {
		t.Errorf("after second SeedDemo: %d tickets", n)
	}
}

func TestSeedDemoSkipsNonEmptyStore(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	mustCreate(t, s, ticket.NewTicket{Subject: "mine"})
	if err := SeedDemo(ctx, s); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Count(ctx, ticket.SearchCriteria{}); n != 1 {
		t.Errorf("tickets = %d, want 1", n)
	}
}

func TestDemoHistoryContent(t *testing.T) {
	h := DemoHistory()
	if !slices.Equal(h, DemoHistory()) {
		t.Fatal("DemoHistory is not deterministic")
	}
	if len(h) != DemoHistoryPerQueue*len(DemoQueues) {
		t.Fatalf("history = %d", len(h))
	}
	subjects := map[string]bool{}
	perQueueLang := map[string]int{}
	prio := map[string]int{}
	for _, d := range h {
		if strings.ContainsAny(d.Subject+d.Body, "{}") {
			t.Errorf("unfilled slot in %q / %q", d.Subject, d.Body)
		}
		if len(sentenceEnd.FindAllString(d.Body, -1)) < 2 {
			t.Errorf("body is not multi-sentence: %q", d.Body)
		}
		subjects[d.Subject] = true
		perQueueLang[d.Queue+"/"+d.Language]++
		prio[d.Priority]++
		lower := strings.ToLower(d.Subject + " " + d.Body)
		calmWords := []string{"no rush", "not urgent", "whenever", "can wait", "low priority",
			"kein stress", "keine eile", "bei gelegenheit", "nächste woche melden", "nicht dringend"}
		calm := containsAny(lower, calmWords...)
		for _, w := range calmWords {
			lower = strings.ReplaceAll(lower, w, "")
		}
		urgent := containsAny(lower, "urgent", "asap", "critical", "immediately", "as soon as possible", "right away", " down",
			"dringend", "sofort", "eilt", "umgehend", "kritisch", "heute noch", "answer today", "handle it today")
		switch d.Priority {
		case "high":
			if !urgent || calm {
				t.Errorf("high ticket without urgent wording: %q", d.Body)
			}
		case "low":
			if !calm || urgent {
				t.Errorf("low ticket without calm wording: %q", d.Body)
			}
		case "normal":
			if urgent || calm {
				t.Errorf("normal ticket with priority wording: %q", d.Body)
			}
		default:
			t.Errorf("priority %q", d.Priority)
		}
	}
	if len(subjects) < len(h)/2 {
		t.Errorf("only %d distinct subjects in %d tickets", len(subjects), len(h))
	}
	for _, q := range DemoQueues {
		if perQueueLang[q+"/en"] != DemoHistoryEnglishPerQueue || perQueueLang[q+"/de"] != DemoHistoryPerQueue-DemoHistoryEnglishPerQueue {
			t.Errorf("%s: %d en, %d de", q, perQueueLang[q+"/en"], perQueueLang[q+"/de"])
		}
	}
	for _, p := range DemoPriorities {
		if prio[p] < len(h)/8 {
			t.Errorf("priority %s has only %d tickets", p, prio[p])
		}
	}
}

var sentenceEnd = regexp.MustCompile(`[.?!]["“]?(\s|$)`)

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

func TestDemoInbox(t *testing.T) {
	in := DemoInbox()
	if len(in) != 16 {
		t.Fatalf("inbox = %d", len(in))
	}
	langs, queues := map[string]int{}, map[string]int{}
	ambiguous := 0
	for _, d := range in {
		langs[d.Language]++
		queues[d.Queue]++
		if !slices.Contains(DemoQueues, d.Queue) || !slices.Contains(DemoPriorities, d.Priority) {
			t.Errorf("bad labels %s/%s", d.Queue, d.Priority)
		}
		if d.Subject == "" || d.Body == "" || d.Customer == "" {
			t.Errorf("incomplete %+v", d)
		}
		if d.Ambiguous {
			ambiguous++
			if !slices.Contains(DemoQueues, d.AltQueue) || d.AltQueue == d.Queue {
				t.Errorf("ambiguous ticket alt queue %q", d.AltQueue)
			}
		}
	}
	if langs["en"] != 8 || langs["de"] != 8 {
		t.Errorf("languages = %v", langs)
	}
	if ambiguous != 1 {
		t.Errorf("ambiguous = %d, want 1", ambiguous)
	}
	for _, q := range DemoQueues {
		if queues[q] < 2 {
			t.Errorf("queue %s has %d inbox tickets", q, queues[q])
		}
	}
	in[0].Subject = "changed"
	if DemoInbox()[0].Subject == "changed" {
		t.Error("DemoInbox returns shared memory")
	}
}

// TestDemoIsLearnable trains a tiny naive Bayes on the history and checks
// it sorts the hand-written inbox: the demo must teach a text classifier
// something that carries over to tickets it has not seen.
func TestDemoIsLearnable(t *testing.T) {
	tokens := func(s string) []string {
		return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) })
	}
	train := func(label func(DemoTicket) string) func(string) string {
		counts := map[string]map[string]float64{}
		totals, docs := map[string]float64{}, map[string]float64{}
		vocab := map[string]bool{}
		for _, d := range DemoHistory() {
			l := label(d)
			if counts[l] == nil {
				counts[l] = map[string]float64{}
			}
			docs[l]++
			for _, w := range tokens(d.Text()) {
				counts[l][w]++
				totals[l]++
				vocab[w] = true
			}
		}
		return func(text string) string {
			best, bestScore := "", math.Inf(-1)
			for l := range counts {
				score := math.Log(docs[l])
				for _, w := range tokens(text) {
					if vocab[w] {
						score += math.Log((counts[l][w] + 1) / (totals[l] + float64(len(vocab))))
					}
				}
				if score > bestScore || (score == bestScore && l < best) {
					best, bestScore = l, score
				}
			}
			return best
		}
	}
	queueOf := train(func(d DemoTicket) string { return d.Queue })
	prioOf := train(func(d DemoTicket) string { return d.Priority })
	var q, p int
	for _, d := range DemoInbox() {
		got := queueOf(d.Text())
		if got == d.Queue || (d.Ambiguous && got == d.AltQueue) {
			q++
		} else {
			t.Logf("queue: %q -> %s, want %s", d.Subject, got, d.Queue)
		}
		if got := prioOf(d.Text()); got == d.Priority {
			p++
		} else {
			t.Logf("priority: %q -> %s, want %s", d.Subject, got, d.Priority)
		}
	}
	t.Logf("naive Bayes on the demo inbox: queue %d/16, priority %d/16", q, p)
	if q < 13 {
		t.Errorf("queue accuracy %d/16: the demo history does not generalise", q)
	}
	if p < 10 {
		t.Errorf("priority accuracy %d/16", p)
	}
}
