package pipes_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/internal/testsys"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/pipes"
	"github.com/otai-dev/otai/ticket"
)

// oneTicket is ticket 1 in Inbox (id q1), priority normal, tagged vip,
// custom field team=a; the rules classify it as Billing (0.9).
func oneTicket() ticket.Ticket {
	return ticket.Ticket{ID: "1", Subject: "Invoice", Body: "invoice please", Queue: ticket.Entity{ID: "q1", Name: "Inbox"},
		Priority: ticket.Entity{Name: "normal"}, Tags: []string{"vip"}, CustomFields: map[string]any{"team": "a"}}
}

func updateSteps(updates string) string {
	return `
      - id: classify
        use: base:ClassifyPipe
        params: {classifier: rules, threshold: 0.8}
      - id: move
        use: base:UpdateTicketPipe
        params:
          updates: ` + updates + "\n"
}

func TestUpdateWritesOnlyChanges(t *testing.T) {
	str := func(e *ticket.Entity) string {
		if e == nil {
			return "<nil>"
		}
		return e.String()
	}
	tests := []struct {
		name    string
		updates string
		want    string // the update written, "" for no UpdateTicket call
		action  string
		queue   string // the queue afterwards
	}{
		{"move", `{queue: "{{ pipes.classify.label }}"}`, "queue=Billing priority=<nil> add=[] remove=[] custom=map[]", "set queue Inbox -> Billing", "Billing"},
		{"same queue, other case, same priority", `{queue: inbox, priority: Normal}`, "", "no change", "Inbox"},
		{"same queue by id", `{queue: {id: q1}}`, "", "no change", "Inbox"},
		{"empty label leaves the queue", `{queue: "{{ pipes.classify.confidence > 0.95 ? pipes.classify.label : '' }}"}`, "", "no change", "Inbox"},
		{"only the priority changes", `{queue: Inbox, priority: high}`, "queue=<nil> priority=high add=[] remove=[] custom=map[]", "set priority normal -> high", "Inbox"},
		{"only new tags", `{add_tags: [vip, VIP, ai], remove_tags: [absent]}`, "queue=<nil> priority=<nil> add=[ai] remove=[] custom=map[]", "set tag +ai", "Inbox"},
		{"remove a tag it has", `{remove_tags: [VIP]}`, "queue=<nil> priority=<nil> add=[] remove=[VIP] custom=map[]", "set tag -VIP", "Inbox"},
		{"unchanged custom field", `{custom_fields: {team: a}}`, "", "no change", "Inbox"},
		{"changed custom field", `{custom_fields: {team: b}}`, "queue=<nil> priority=<nil> add=[] remove=[] custom=map[team:b]", "set custom_fields.team b", "Inbox"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eng := build(t, triageYAML(1, updateSteps(tc.updates), ""), orchestrator.Options{})
			d := desk(t, eng, "desk")
			d.Add(oneTicket())
			res := runOne(t, eng)
			if res.Status != pipe.StatusSucceeded {
				t.Fatalf("status %s\n%s", res.Status, dump(res))
			}
			us := d.Updates("1")
			got := ""
			if len(us) > 1 {
				t.Fatalf("%d UpdateTicket calls, want at most 1", len(us))
			}
			if len(us) == 1 {
				u := us[0]
				got = fmt.Sprintf("queue=%s priority=%s add=%v remove=%v custom=%v", str(u.Queue), str(u.Priority), u.AddTags, u.RemoveTags, u.CustomFields)
				if u.State != nil || u.Type != nil || u.Owner != nil || u.Subject != nil {
					t.Errorf("unrequested fields written: %+v", u)
				}
			}
			if got != tc.want {
				t.Errorf("written %q, want %q", got, tc.want)
			}
			if n := d.Calls(testsys.OpUpdate); (n == 0) != (tc.want == "") {
				t.Errorf("UpdateTicket called %d times", n)
			}
			byID, _ := items(t, res, "each")
			if a := stepOf(t, byID["1"].Steps, "move").Action; a != tc.action {
				t.Errorf("action %q, want %q", a, tc.action)
			}
			if tk, _ := d.Ticket("1"); tk.Queue.Name != tc.queue {
				t.Errorf("queue afterwards %q, want %q", tk.Queue.Name, tc.queue)
			}
		})
	}
}

// A later step sees the ticket as the update left it.
func TestUpdateIsVisibleToLaterSteps(t *testing.T) {
	steps := updateSteps(`{queue: Billing}`) + `
      - id: note
        use: base:AddNotePipe
        params: {note: {body: "now in {{ ticket.queue.name }}; moved from {{ pipes.move.queue_from }}"}}
`
	eng := build(t, triageYAML(1, steps, ""), orchestrator.Options{})
	d := desk(t, eng, "desk")
	d.Add(oneTicket())
	runOne(t, eng)
	notes := d.Notes("1")
	if len(notes) != 1 || !strings.HasPrefix(notes[0].Body, "now in Billing; moved from Inbox") {
		t.Fatalf("notes %+v", notes)
	}
}

func noteSteps(note string) string {
	return `
      - id: note
        use: base:AddNotePipe
        params: ` + note + "\n"
}

func TestNoteIsInternalAndOnce(t *testing.T) {
	tests := []struct {
		name        string
		params      string
		internal    bool
		contentType string
		action      string
		notesAfter2 int // notes after two runs
	}{
		{"defaults", `{note: {body: "triaged"}}`, true, "text/plain", "noted", 1},
		{"public", `{note: {body: "triaged", internal: false}}`, false, "text/plain", "noted (public)", 1},
		{"html", `{note: {body: "<b>triaged</b>", content_type: text/html}}`, true, "text/html", "noted", 1},
		{"not once", `{note: {body: "triaged"}, once: false}`, true, "text/plain", "noted", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eng := build(t, triageYAML(1, noteSteps(tc.params), ""), orchestrator.Options{})
			d := desk(t, eng, "desk")
			d.Add(oneTicket())
			res := runOne(t, eng)
			byID, _ := items(t, res, "each")
			r := stepOf(t, byID["1"].Steps, "note")
			if r.Status != pipe.StatusSucceeded || r.Action != tc.action {
				t.Fatalf("first run: %s %q %q, want succeeded %q", r.Status, r.Message, r.Action, tc.action)
			}
			notes := d.Notes("1")
			if len(notes) != 1 {
				t.Fatalf("%d notes after the first run", len(notes))
			}
			n := notes[0]
			if n.Internal != tc.internal || n.ContentType != tc.contentType || n.Subject != "otai triage" || r.Data["note_id"] != n.ID {
				t.Errorf("note %+v (data %v)", n, r.Data)
			}
			ref := pipes.NoteRef("triage", "note", "1")
			if strings.Contains(tc.params, "once: false") {
				if strings.Contains(n.Body, "otai-ref:") {
					t.Errorf("a note without once carries a reference: %q", n.Body)
				}
			} else if !strings.Contains(n.Body, ref) {
				t.Errorf("body %q does not carry %s", n.Body, ref)
			}

			res = runOne(t, eng)
			if n := len(d.Notes("1")); n != tc.notesAfter2 {
				t.Fatalf("%d notes after the second run, want %d", n, tc.notesAfter2)
			}
			if tc.notesAfter2 == 1 {
				byID, _ = items(t, res, "each")
				r := stepOf(t, byID["1"].Steps, "note")
				if r.Status != pipe.StatusSkipped || r.Action != "already noted" || !strings.Contains(r.Message, ref) {
					t.Errorf("second run: %s %q %q, want skipped, already noted", r.Status, r.Message, r.Action)
				}
				if d.Calls(testsys.OpAddNote) != 1 {
					t.Errorf("AddNote called %d times, want 1", d.Calls(testsys.OpAddNote))
				}
			}
		})
	}
}

// The help desk wrote the note but the answer got lost: the retry finds the
// note by its reference and does not write a second one.
func TestNoteRetryAfterTheNoteWasWritten(t *testing.T) {
	marks := openMarks(t)
	eng := build(t, triageYAML(1, noteSteps(`{note: {body: "triaged"}}`), ""), orchestrator.Options{Marks: marks})
	d := desk(t, eng, "desk")
	d.Add(oneTicket())
	timeout := &ticket.Error{Op: "adding a note to ticket 1", Kind: ticket.ErrUnavailable, Message: "gateway timeout", Status: 504}
	d.FailAfter(testsys.OpAddNote, "1", timeout, 1)

	res := runOne(t, eng)
	if got, want := res.Failures(), []string{"ticket 1: note: " + timeout.Error()}; !slices.Equal(got, want) {
		t.Fatalf("first run failures %q, want %q", got, want)
	}
	if n := len(d.Notes("1")); n != 1 {
		t.Fatalf("%d notes after the lost answer, want 1 (it was written)", n)
	}
	res = runOne(t, eng) // not marked, so it is tried again
	byID, _ := items(t, res, "each")
	// Its only step was skipped, so the ticket counts as skipped, not failed.
	if it := byID["1"]; it.Status != pipe.StatusSkipped || stepOf(t, it.Steps, "note").Action != "already noted" {
		t.Fatalf("retry: %s\n%s", it.Status, dump(res))
	}
	if res.Status == pipe.StatusFailed {
		t.Fatalf("retry run failed\n%s", dump(res))
	}
	if n := len(d.Notes("1")); n != 1 || d.Calls(testsys.OpAddNote) != 1 {
		t.Fatalf("after the retry: %d notes, %d AddNote calls; want 1, 1", n, d.Calls(testsys.OpAddNote))
	}
	// and now it is marked as done
	res = runOne(t, eng)
	if byID, _ = items(t, res, "each"); !strings.HasPrefix(byID["1"].Message, "already processed") {
		t.Fatalf("third run: %s %q, want already processed", byID["1"].Status, byID["1"].Message)
	}
}

func TestNoteEmptyBodyAndMissingTicket(t *testing.T) {
	tests := []struct {
		name   string
		params string
		status pipe.Status
		msg    string
	}{
		{"body renders empty", `{note: {body: "{{ ticket.customer.name }}"}}`, pipe.StatusSkipped, "the note body rendered empty"},
		{"ticket_id empty", `{ticket_id: "", note: {body: "x"}}`, pipe.StatusFailed, "ticket_id is empty (outside a for-each, set it explicitly)"},
		{"no such ticket", `{ticket_id: "404", note: {body: "x"}}`, pipe.StatusFailed, "reading notes of ticket 404: getting ticket 404: not found: no ticket with id 404"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eng := build(t, triageYAML(1, noteSteps(tc.params), ""), orchestrator.Options{})
			d := desk(t, eng, "desk")
			d.Add(oneTicket())
			res := runOne(t, eng)
			byID, _ := items(t, res, "each")
			r := stepOf(t, byID["1"].Steps, "note")
			if r.Status != tc.status || r.Message != tc.msg {
				t.Errorf("%s %q, want %s %q", r.Status, r.Message, tc.status, tc.msg)
			}
			if d.Calls(testsys.OpAddNote) != 0 {
				t.Error("AddNote was called")
			}
		})
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	tests := []struct {
		name        string
		runnerExtra string
		opts        bool
	}{
		{"runner dry_run", "dry_run: true", false},
		{"--dry-run", "", true},
	}
	steps := triageSteps + `
      - id: create
        use: base:CreateTicketPipe
        params: {ticket: {subject: "follow-up for {{ ticket.id }}"}}
`
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			marks := openMarks(t)
			eng := build(t, triageYAML(2, steps, tc.runnerExtra), orchestrator.Options{DryRun: tc.opts, Marks: marks})
			d := desk(t, eng, "desk")
			d.Add(inbox()...)
			res := runOne(t, eng)
			if !res.DryRun || res.Status != pipe.StatusSucceeded {
				t.Fatalf("dry run %v, status %s\n%s", res.DryRun, res.Status, dump(res))
			}
			byID, _ := items(t, res, "each")
			for id, it := range byID {
				if it.Status != pipe.StatusSucceeded {
					t.Errorf("ticket %s: %s %q", id, it.Status, it.Message)
				}
			}
			for _, c := range []struct{ ticket, step, action string }{
				{"1", "move", "would set queue Inbox -> Billing"},
				{"1", "note", "would note"},
				{"1", "create", `would create "follow-up for 1"`},
				{"3", "move", "no change"},
			} {
				if a := stepOf(t, byID[c.ticket].Steps, c.step).Action; a != c.action {
					t.Errorf("ticket %s, %s: action %q, want %q", c.ticket, c.step, a, c.action)
				}
			}
			// Marked under the dry run's own key: the next dry run skips
			// the unchanged tickets (without it, every cycle of a shadow
			// runner recorded every ticket again); a changed one is worked
			// on again.
			d.Edit("2", time.Now().Add(time.Second), func(t *ticket.Ticket) { t.Subject = "Login fails since the update" })
			res = runOne(t, eng)
			byID, _ = items(t, res, "each")
			for id, it := range byID {
				want := pipe.StatusSkipped
				if id == "2" {
					want = pipe.StatusSucceeded
				}
				if it.Status != want {
					t.Errorf("second dry run, ticket %s: %s %q, want %s", id, it.Status, it.Message, want)
				}
			}
			ctx := context.Background()
			if _, ok, err := marks.Processed(ctx, "triage/each/1"); ok || err != nil {
				t.Errorf("a dry run wrote a real run's processed mark (%v)", err)
			}
			if _, ok, err := marks.Processed(ctx, "dry-run:triage/each/1"); !ok || err != nil {
				t.Errorf("a dry run wrote no processed mark of its own (%v)", err)
			}
			// A real run on the same state store is not affected by them.
			live := build(t, triageYAML(2, steps, ""), orchestrator.Options{Marks: marks})
			desk(t, live, "desk").Add(inbox()...)
			byID, _ = items(t, runOne(t, live), "each")
			for id, it := range byID {
				if it.Status != pipe.StatusSucceeded {
					t.Errorf("real run after dry runs, ticket %s: %s %q", id, it.Status, it.Message)
				}
			}
			for _, op := range []testsys.Op{testsys.OpUpdate, testsys.OpAddNote, testsys.OpCreate} {
				if n := d.Calls(op); n != 0 {
					t.Errorf("%s called %d times in a dry run", op, n)
				}
			}
			if tk, _ := d.Ticket("1"); tk.Queue.Name != "Inbox" || len(tk.Notes) != 0 {
				t.Errorf("ticket 1 changed in a dry run: %+v", tk)
			}
		})
	}
}

func TestCreateTicket(t *testing.T) {
	src := servicesYAML + `
pipes:
  - id: create
    use: base:CreateTicketPipe
    params:
      ticket: {subject: "Daily report {{ context.day }}", queue: Reports, tags: [report]}
  - id: note
    use: base:AddNotePipe
    params: {ticket_id: "{{ pipes.create.id }}", note: {body: "created by otai"}}
vars: {day: monday}
`
	eng := build(t, src, orchestrator.Options{})
	d := desk(t, eng, "desk")
	res := runOne(t, eng)
	if res.Status != pipe.StatusSucceeded {
		t.Fatalf("%s", dump(res))
	}
	tk, ok := d.Ticket("1")
	if !ok || tk.Subject != "Daily report monday" || tk.Queue.Name != "Reports" || !tk.HasTag("report") || len(tk.Notes) != 1 {
		t.Fatalf("created %+v", tk)
	}
	if a := stepOf(t, res.Steps, "create").Action; a != "created ticket 1" {
		t.Errorf("action %q", a)
	}

	// The help desk rejects it: the run fails and the note is skipped.
	d.Fail(testsys.OpCreate, "", &ticket.Error{Op: "creating ticket", Kind: ticket.ErrValidation, Field: "queue"}, 1)
	res = runOne(t, eng)
	if got := res.Failures(); len(got) != 1 || !strings.HasPrefix(got[0], "create: ") || !strings.HasSuffix(got[0], "creating ticket: rejected as invalid field queue") {
		t.Errorf("Failures() = %q", got)
	}
	if n := stepOf(t, res.Steps, "note"); n.Status != pipe.StatusSkipped {
		t.Errorf("note after a failed create: %s", n.Status)
	}
}

func TestServiceDefaults(t *testing.T) {
	rules := `
  - id: rules
    use: base:RuleClassifier
    params: {rules: [{label: Billing, keywords: [invoice]}]}
`
	one := "  - {id: desk, use: testsys:Memory}" + rules
	two := "  - {id: desk-a, use: testsys:Memory}\n  - {id: desk-b, use: testsys:Memory}" + rules
	pipesYAML := func(ticketSystem string) string {
		return `
vars: {desk: ""}
pipes:
  - id: fetch
    use: base:FetchTicketsPipe` + ticketSystem + `
  - id: each
    use: base:ForEachTicketPipe
    params: {tickets: '{{ pipes.fetch.tickets }}'}
    steps:
      - id: classify
        use: base:ClassifyPipe
`
	}
	const rendered = "\n    params: {ticket_system: '{{ context.desk }}'}" // renders empty at run time
	tests := []struct {
		name      string
		src       string
		loadError string // the config loader already refuses it
		failure   string // "" for success; else a substring of the only failure
	}{
		{"one of each", "services:\n" + one + pipesYAML(""), "", ""},
		{"rendered empty, one configured", "services:\n" + one + pipesYAML(rendered), "", ""},
		{"two ticket systems", "services:\n" + two + pipesYAML(""),
			"pipes[0].params.ticket_system: required when several ticket systems are configured (desk-a, desk-b)", ""},
		{"no ticket system", "services:\n" + rules + pipesYAML(""),
			"pipes[0].params.ticket_system: required: no ticket system is configured under services:", ""},
		{"two classifiers", "services:\n" + one + strings.ReplaceAll(rules, "id: rules", "id: more-rules") + pipesYAML(""),
			"pipes[1].steps[0].params.classifier: required when several classifiers are configured (rules, more-rules)", ""},
		{"rendered empty, two configured", "services:\n" + two + pipesYAML(rendered), "",
			"fetch: 2 ticket systems are configured (desk-a, desk-b): name one in the pipe's params"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.loadError != "" {
				_, err := config.Parse("defaults.yml", []byte(tc.src), config.Options{})
				if err == nil || !strings.Contains(err.Error(), tc.loadError) {
					t.Fatalf("config.Parse error %v, want one containing %q", err, tc.loadError)
				}
				return
			}
			eng := build(t, tc.src, orchestrator.Options{})
			for _, id := range []string{"desk", "desk-a", "desk-b"} {
				if s, ok := eng.Service(id).(*testsys.System); ok {
					s.Add(oneTicket())
				}
			}
			res := runOne(t, eng)
			f := res.Failures()
			if tc.failure == "" {
				if res.Status != pipe.StatusSucceeded || len(f) != 0 {
					t.Fatalf("status %s, failures %q", res.Status, f)
				}
				byID, _ := items(t, res, "each")
				if l := stepOf(t, byID["1"].Steps, "classify").Data["label"]; l != "Billing" {
					t.Errorf("label %v, want Billing", l)
				}
				return
			}
			if res.Status != pipe.StatusFailed || len(f) != 1 || !strings.Contains(f[0], tc.failure) {
				t.Fatalf("status %s, failures %q; want one containing %q", res.Status, f, tc.failure)
			}
			if r := stepOf(t, res.Steps, "fetch"); !errors.Is(r.Err, pipe.ErrNoService) {
				t.Errorf("err %v is not pipe.ErrNoService", r.Err)
			}
		})
	}

	// Naming one of two resolves it.
	src := "services:\n  - {id: desk-a, use: testsys:Memory}\n  - {id: desk-b, use: testsys:Memory}\n" + `
pipes:
  - id: fetch
    use: base:FetchTicketsPipe
    params: {ticket_system: desk-b}
`
	eng := build(t, src, orchestrator.Options{})
	desk(t, eng, "desk-b").Add(oneTicket(), ticket.Ticket{ID: "2"})
	res := runOne(t, eng)
	if c := stepOf(t, res.Steps, "fetch").Data["count"]; c != 2 {
		t.Errorf("fetched %v from desk-b, want 2", c)
	}
	if desk(t, eng, "desk-a").Calls(testsys.OpFind) != 0 {
		t.Error("desk-a was searched")
	}
}

func TestFetchCriteriaAndNotes(t *testing.T) {
	tests := []struct {
		name     string
		params   string
		want     []string
		getCalls int
	}{
		{"default limit 100", `{}`, seq(1, 100), 0},
		{"queue and state", `{ticket_search_criteria: {queue: Inbox, state: open}}`, []string{"2", "4"}, 0},
		{"limit and offset", `{criteria: {limit: 3, offset: 10}}`, []string{"11", "12", "13"}, 0},
		{"with notes", `{criteria: {id: "7"}, with_notes: true}`, []string{"7"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := servicesYAML + "\npipes:\n  - id: fetch\n    use: base:FetchTicketsPipe\n    params: " + tc.params + "\n"
			eng := build(t, src, orchestrator.Options{})
			d := desk(t, eng, "desk")
			for i := 1; i <= 150; i++ {
				q, s := "Inbox", "new"
				if i%2 == 0 {
					s = "open"
				}
				if i > 5 {
					q = "Archive"
				}
				d.Add(ticket.Ticket{ID: fmt.Sprint(i), Queue: ticket.Entity{Name: q}, State: ticket.Entity{Name: s},
					Notes: []ticket.Note{{ID: "n", Body: "note of " + fmt.Sprint(i)}}})
			}
			res := runOne(t, eng)
			r := stepOf(t, res.Steps, "fetch")
			ts, _ := r.Data["tickets"].([]ticket.Ticket)
			var got []string
			for _, tk := range ts {
				got = append(got, tk.ID)
			}
			if !slices.Equal(got, tc.want) || r.Data["count"] != len(tc.want) {
				t.Fatalf("fetched %v (count %v), want %v", got, r.Data["count"], tc.want)
			}
			if want := fmt.Sprintf("fetched %d tickets", len(tc.want)); len(tc.want) == 1 {
				if r.Action != "fetched 1 ticket" {
					t.Errorf("action %q, want %q", r.Action, "fetched 1 ticket")
				}
			} else if r.Action != want {
				t.Errorf("action %q, want %q", r.Action, want)
			}
			if n := d.Calls(testsys.OpGet); n != tc.getCalls {
				t.Errorf("GetTicket called %d times, want %d", n, tc.getCalls)
			}
			if tc.getCalls > 0 && (len(ts[0].Notes) != 1 || ts[0].Notes[0].Body != "note of 7") {
				t.Errorf("with_notes: notes %+v", ts[0].Notes)
			}
		})
	}
}

func seq(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprint(i))
	}
	return out
}

// After an update, later steps see the ticket as the help desk now has it:
// an entity set by id keeps its id (it is not turned into a name), removed
// tags are gone, custom fields have their new values.
func TestLaterStepsSeeTheUpdatedTicket(t *testing.T) {
	tests := []struct {
		name    string
		updates string
		note    string
		want    string
	}{
		{"queue by id", `{queue: {id: q2}}`, "{{ ticket.queue.id }}|{{ ticket.queue.name }}", "q2|"},
		{"queue by id and name", `{queue: {id: q2, name: Billing}}`, "{{ ticket.queue.id }}|{{ ticket.queue.name }}", "q2|Billing"},
		{"queue by name", `{queue: Billing}`, "{{ ticket.queue.id }}|{{ ticket.queue.name }}", "|Billing"},
		{"removed tag", `{remove_tags: [VIP], add_tags: [ai]}`, "{{ join(ticket.tags, ',') }}", "ai"},
		{"custom field", `{custom_fields: {team: b}}`, "{{ ticket.custom_fields.team }}", "b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			steps := updateSteps(tc.updates) + noteSteps(`{once: false, note: {body: "`+tc.note+`"}}`)
			eng := build(t, triageYAML(1, steps, ""), orchestrator.Options{})
			d := desk(t, eng, "desk")
			d.Add(oneTicket())
			res := runOne(t, eng)
			notes := d.Notes("1")
			if len(notes) != 1 {
				t.Fatalf("%d notes\n%s", len(notes), dump(res))
			}
			if notes[0].Body != tc.want {
				t.Errorf("a later step saw %q, want %q", notes[0].Body, tc.want)
			}
		})
	}
}

// A second update in the same run compares with what the first one wrote:
// a tag removed by the first is added again by the second.
func TestSecondUpdateSeesTheFirst(t *testing.T) {
	steps := updateSteps(`{remove_tags: [vip]}`) + `
      - id: move-again
        use: base:UpdateTicketPipe
        params:
          updates: {add_tags: [vip]}
`
	eng := build(t, triageYAML(1, steps, ""), orchestrator.Options{})
	d := desk(t, eng, "desk")
	d.Add(oneTicket())
	res := runOne(t, eng)
	if tk, _ := d.Ticket("1"); !tk.HasTag("vip") || len(d.Updates("1")) != 2 {
		t.Fatalf("tags %v after remove and add, %d updates written; want vip, 2\n%s", tk.Tags, len(d.Updates("1")), dump(res))
	}
}
