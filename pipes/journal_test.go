package pipes_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otai-dev/otai/internal/testsys"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/pipes"
	"github.com/otai-dev/otai/state"
	"github.com/otai-dev/otai/ticket"
)

var _ pipes.Journal = (*state.Store)(nil)

// inboxTriageYAML fetches only the Inbox, moves sure tickets out of it and
// notes them: once moved, a ticket no longer matches the fetch.
const inboxTriageYAML = servicesYAML + `
pipes:
  - id: fetch
    use: base:FetchTicketsPipe
    params: { ticket_search_criteria: { queue: { name: Inbox } } }
  - id: each
    use: base:ForEachTicketPipe
    params: { tickets: '{{ pipes.fetch.tickets }}' }
    steps:
      - id: classify
        use: base:ClassifyPipe
        params: { classifier: rules }
      - id: move
        use: base:UpdateTicketPipe
        if: '{{ pipes.classify.confidence >= 0.8 }}'
        params: { updates: { queue: { name: '{{ pipes.classify.label }}' } } }
      - id: note
        use: base:AddNotePipe
        params: { note: { body: 'otai: {{ pipes.classify.label }}' } }
orchestrator:
  runners:
    - id: triage
      pipes: [fetch, each]
`

func unfinished(t *testing.T, st *state.Store) []string {
	t.Helper()
	keys, err := st.Unfinished(context.Background(), "triage/each/")
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestResumeAfterNoteFailedOnMovedTicket is the crash run's missing-note
// bug without the crash: the update moves ticket 1 out of the Inbox, then
// its note fails. The next run's fetch no longer finds it; it must still
// be retried (resumed from the journal) and noted once.
func TestResumeAfterNoteFailedOnMovedTicket(t *testing.T) {
	st, eng, d := noteFailsOnce(t, inboxTriageYAML)
	if tk, _ := d.Ticket("1"); tk.Queue.Name != "Billing" || len(tk.Notes) != 0 {
		t.Fatalf("after the first run ticket 1 is in %q with %d notes, want Billing and none", tk.Queue.Name, len(tk.Notes))
	}
	if got := unfinished(t, st); !slices.Equal(got, []string{"triage/each/1"}) {
		t.Errorf("unfinished after the first run: %q, want only ticket 1", got)
	}

	res := runOne(t, eng)
	byID, order := items(t, res, "each")
	if !slices.Contains(order, "1") || byID["1"].Status != pipe.StatusSucceeded {
		t.Fatalf("second run did not resume ticket 1 (tickets %v)\n%s", order, dump(res))
	}
	if n := stepOf(t, byID["1"].Steps, "move"); n.Action != "no change" {
		t.Errorf("resumed ticket 1's move: %q, want no change", n.Action)
	}
	if tk, _ := d.Ticket("1"); tk.Queue.Name != "Billing" || len(tk.Notes) != 1 {
		t.Errorf("after the second run ticket 1 is in %q with %d notes, want Billing and 1", tk.Queue.Name, len(tk.Notes))
	}
	if got := unfinished(t, st); len(got) != 0 {
		t.Errorf("unfinished after the second run: %q, want none", got)
	}
	if _, ok, _ := st.Processed(context.Background(), "triage/each/1"); !ok {
		t.Error("ticket 1 is not marked processed")
	}

	// Finished: the third run neither resumes nor touches it.
	notes := d.Calls(testsys.OpAddNote)
	res = runOne(t, eng)
	if _, order := items(t, res, "each"); slices.Contains(order, "1") {
		t.Errorf("third run worked on ticket 1 again: %v", order)
	}
	if d.Calls(testsys.OpAddNote) != notes {
		t.Error("third run wrote a note")
	}
}

// TestResumeAfterKill: the state a SIGKILL leaves between the update and
// the note (ticket started, moved, not noted), between the processed mark
// and forgetting it, and for a ticket deleted since. The next run notes
// the first, forgets the others without work, and writes nothing twice.
func TestResumeAfterKill(t *testing.T) {
	ctx := context.Background()
	st, eng, d := triageOver(t, inboxTriageYAML)
	now := time.Now()
	// Ticket 1: otai moved it to Billing, then was killed.
	if err := st.MarkStarted(ctx, "triage/each/1", now); err != nil {
		t.Fatal(err)
	}
	moved := d.Calls(testsys.OpUpdate)
	if err := d.UpdateTicket(ctx, "1", ticket.Update{Queue: &ticket.Entity{Name: "Billing"}}); err != nil {
		t.Fatal(err)
	}
	moved = d.Calls(testsys.OpUpdate) - moved
	// Ticket 3 (in Billing, not fetched): finished and marked, killed
	// before it was forgotten.
	if err := st.MarkStarted(ctx, "triage/each/3", now); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkProcessed(ctx, "triage/each/3", time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	// Ticket 99 no longer exists.
	if err := st.MarkStarted(ctx, "triage/each/99", now); err != nil {
		t.Fatal(err)
	}
	updates := d.Calls(testsys.OpUpdate)

	res := runOne(t, eng)
	byID, order := items(t, res, "each")
	if byID["1"].Status != pipe.StatusSucceeded || slices.Contains(order, "3") || slices.Contains(order, "99") {
		t.Fatalf("resume run: tickets %v, ticket 1 %s\n%s", order, byID["1"].Status, dump(res))
	}
	if tk, _ := d.Ticket("1"); tk.Queue.Name != "Billing" || len(tk.Notes) != 1 {
		t.Errorf("ticket 1 is in %q with %d notes, want Billing and 1", tk.Queue.Name, len(tk.Notes))
	}
	if tk, _ := d.Ticket("3"); len(tk.Notes) != 0 {
		t.Errorf("ticket 3, finished before the kill, got %d notes", len(tk.Notes))
	}
	// Ticket 2 and 4 stay in the Inbox and are worked on as usual (2 is
	// unsure: noted, not moved); ticket 1 needed no second update.
	if got := d.Calls(testsys.OpUpdate) - updates; got != 0 {
		t.Errorf("the resume run made %d updates, want none (ticket 1 was already moved; %d by the test)", got, moved)
	}
	if got := unfinished(t, st); len(got) != 0 {
		t.Errorf("unfinished after the resume run: %q, want none", got)
	}
}

// markAfterDecision is a state store that checks, when a ticket is marked
// processed, that its decision is already recorded.
type markAfterDecision struct {
	*state.Store
	mu      sync.Mutex
	missing []string
}

func (m *markAfterDecision) MarkProcessed(ctx context.Context, key string, at time.Time) error {
	id := key[strings.LastIndex(key, "/")+1:]
	if ds, err := m.Decisions(ctx, state.Filter{TicketID: id}); err != nil || len(ds) == 0 {
		m.mu.Lock()
		m.missing = append(m.missing, id)
		m.mu.Unlock()
	}
	return m.Store.MarkProcessed(ctx, key, at)
}

// TestDecisionBeforeProcessedMark: the crash run found tickets marked
// processed without a decision (killed between the mark and the record).
// The decision must be recorded first.
func TestDecisionBeforeProcessedMark(t *testing.T) {
	st := &markAfterDecision{Store: openMarks(t)}
	eng := build(t, inboxTriageYAML, orchestrator.Options{Marks: st, Decisions: st})
	desk(t, eng, "desk").Add(inbox()...)
	if res := runOne(t, eng); res.Status != pipe.StatusSucceeded {
		t.Fatalf("run %s\n%s", res.Status, dump(res))
	}
	if len(st.missing) > 0 {
		t.Errorf("tickets %v were marked processed before their decision was recorded", st.missing)
	}
}

// TestRespectHumansAfterFailedNote: the update moves ticket 1 to Billing,
// then its note fails, so the decision that wrote the move is a failed
// one; the resumed run finds the queue already at Billing and changes
// nothing. When an agent then moves the ticket to Sales, otai must keep
// Sales and record a correction: the failed decision's move counts as
// written.
func TestRespectHumansAfterFailedNote(t *testing.T) {
	st, eng, d := noteFailsOnce(t, triageYAML(1, triageSteps, ""))
	res := runOne(t, eng)
	byID, _ := items(t, res, "each")
	if byID["1"].Status != pipe.StatusSucceeded || stepOf(t, byID["1"].Steps, "move").Action != "no change" {
		t.Fatalf("second run, ticket 1: %s, want succeeded with no change (the failed decision recorded the move)\n%s", byID["1"].Status, dump(res))
	}

	agentMovesToSales(t, eng, d, st)
}

// agentMovesToSales: an agent moves ticket 1 (which otai put in Billing)
// to Sales; the next run keeps Sales and records the correction.
func agentMovesToSales(t *testing.T, eng *orchestrator.Engine, d *testsys.System, st *state.Store) {
	t.Helper()
	ctx := context.Background()
	if err := d.UpdateTicket(ctx, "1", ticket.Update{Queue: &ticket.Entity{Name: "Sales"}}); err != nil {
		t.Fatal(err)
	}
	d.Touch("1", time.Now().Add(time.Second)) // after the processed mark
	res := runOne(t, eng)
	byID, _ := items(t, res, "each")
	if byID["1"].Status != pipe.StatusSucceeded {
		t.Fatalf("the run after the agent's move, ticket 1: %s\n%s", byID["1"].Status, dump(res))
	}
	if tk, _ := d.Ticket("1"); tk.Queue.Name != "Sales" {
		t.Errorf("otai overrode the agent: ticket 1 is in %q, want Sales\n%s", tk.Queue.Name, dump(res))
	}
	cs, err := st.Corrections(ctx, "queue", time.Time{})
	if err != nil || len(cs) != 1 || cs[0].TicketID != "1" || cs[0].Otai != "Billing" || cs[0].Agent != "Sales" {
		t.Errorf("corrections = %+v, %v; want ticket 1 Billing -> Sales", cs, err)
	}
}

// TestRespectHumansAfterKillBeforeDecision: otai moved a ticket and was
// killed before its note and its decision. The resumed run finds the queue
// already set and counts it as otai's, so an agent who then moves the
// ticket elsewhere is kept and recorded as a correction.
func TestRespectHumansAfterKillBeforeDecision(t *testing.T) {
	ctx := context.Background()
	st, eng, d := triageInbox(t)
	if err := st.MarkStarted(ctx, "triage/each/1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := d.UpdateTicket(ctx, "1", ticket.Update{Queue: &ticket.Entity{Name: "Billing"}}); err != nil {
		t.Fatal(err)
	}
	res := runOne(t, eng)
	byID, _ := items(t, res, "each")
	if byID["1"].Status != pipe.StatusSucceeded || stepOf(t, byID["1"].Steps, "move").Action != "found queue Billing already set (resumed)" {
		t.Fatalf("resumed run, ticket 1: %s\n%s", byID["1"].Status, dump(res))
	}
	// A ticket that was not resumed and already sits in its queue is just
	// "no change": nothing is claimed for otai.
	if a := stepOf(t, byID["3"].Steps, "move").Action; a != "no change" {
		t.Errorf("ticket 3 (not resumed): %q, want no change", a)
	}
	agentMovesToSales(t, eng, d, st)
}

// TestNoteCarriesDecisionID: the note names the decision it explains, and
// a rerun that finds the note by its ref adds no second one.
func TestNoteCarriesDecisionID(t *testing.T) {
	ctx := context.Background()
	st, eng, d := triageInbox(t)
	runOne(t, eng)
	tk, _ := d.Ticket("1")
	if len(tk.Notes) != 1 {
		t.Fatalf("ticket 1 has %d notes", len(tk.Notes))
	}
	m := regexp.MustCompile(`\[otai-ref:[0-9a-f]+ decision:(d-[0-9a-f]+-[0-9a-f]+)\]`).FindStringSubmatch(tk.Notes[0].Body)
	if m == nil {
		t.Fatalf("note without a decision id:\n%s", tk.Notes[0].Body)
	}
	ds, err := st.Decisions(ctx, state.Filter{TicketID: "1"})
	if err != nil || len(ds) != 1 || ds[0].ID != m[1] {
		t.Fatalf("decisions of ticket 1 = %+v, %v; want one with id %s", ds, err, m[1])
	}
	d.Touch("1", time.Now().Add(time.Second))
	runOne(t, eng)
	if tk, _ := d.Ticket("1"); len(tk.Notes) != 1 {
		t.Errorf("a rerun added a note: %d notes", len(tk.Notes))
	}
}

// noteFailsOnce builds src with a state store, seeds the inbox, makes the
// first note on ticket 1 fail and runs once: ticket 1 fails after its move.
func noteFailsOnce(t *testing.T, src string) (*state.Store, *orchestrator.Engine, *testsys.System) {
	t.Helper()
	st, eng, d := triageOver(t, src)
	d.Fail(testsys.OpAddNote, "1", &ticket.Error{Op: "adding note to ticket 1", Kind: ticket.ErrUnavailable, Message: "maintenance window"}, 1)
	res := runOne(t, eng)
	if byID, _ := items(t, res, "each"); byID["1"].Status != pipe.StatusFailed {
		t.Fatalf("first run, ticket 1: %s, want failed\n%s", byID["1"].Status, dump(res))
	}
	return st, eng, d
}

// TestResumeForgetsFinishedTicketTouchedSince: a ticket marked processed
// (with its fingerprint) whose journal entry a kill left behind, and that
// got only a reply since, is forgotten, not resumed again and again.
func TestResumeForgetsFinishedTicketTouchedSince(t *testing.T) {
	ctx := context.Background()
	st, eng, d := triageOver(t, inboxTriageYAML)
	three, _ := d.Ticket("3") // in Billing: not fetched from the Inbox
	if err := st.MarkStarted(ctx, "triage/each/3", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkProcessedAs(ctx, "triage/each/3", pipe.Mark{At: time.Now(), Fingerprint: pipe.Fingerprint(&three)}); err != nil {
		t.Fatal(err)
	}
	d.Touch("3", time.Now().Add(time.Minute)) // a reply, after the mark
	res := runOne(t, eng)
	if _, order := items(t, res, "each"); slices.Contains(order, "3") {
		t.Fatalf("ticket 3 was resumed\n%s", dump(res))
	}
	if got := unfinished(t, st); len(got) != 0 {
		t.Errorf("unfinished after the run: %q, want none", got)
	}
}

// TestResumeReadFailureFailsTheRun: an unfinished ticket that cannot be
// read back is reported as a failed ticket (the run does not look done),
// and is resumed by the next run.
func TestResumeReadFailureFailsTheRun(t *testing.T) {
	ctx := context.Background()
	st, eng, d := triageOver(t, inboxTriageYAML)
	if err := st.MarkStarted(ctx, "triage/each/3", time.Now()); err != nil { // in Billing: not fetched
		t.Fatal(err)
	}
	d.Fail(testsys.OpGet, "3", &ticket.Error{Op: "getting ticket 3", Kind: ticket.ErrUnavailable, Message: "maintenance window"}, 1)
	res := runOne(t, eng)
	byID, _ := items(t, res, "each")
	if it := byID["3"]; it.Status != pipe.StatusFailed || !strings.Contains(it.Message, "could not read the ticket back") {
		t.Fatalf("ticket 3: %s %q, want failed\n%s", it.Status, it.Message, dump(res))
	}
	if res.Status != pipe.StatusFailed {
		t.Errorf("run status %s, want failed", res.Status)
	}
	res = runOne(t, eng)
	if byID, _ := items(t, res, "each"); byID["3"].Status != pipe.StatusSucceeded {
		t.Errorf("next run, ticket 3: %s %q, want resumed and done\n%s", byID["3"].Status, byID["3"].Message, dump(res))
	}
	if got := unfinished(t, st); len(got) != 0 {
		t.Errorf("unfinished after the second run: %q", got)
	}
}

// TestSentBackIsNotACorrection: an agent who moves a ticket otai triaged
// back to where it came from keeps it there, but "Inbox" is not a label
// to learn: no correction is recorded. A move elsewhere still is one.
func TestSentBackIsNotACorrection(t *testing.T) {
	ctx := context.Background()
	st, eng, d := triageInbox(t)
	if res := runOne(t, eng); res.Status != pipe.StatusSucceeded {
		t.Fatalf("first run %s\n%s", res.Status, dump(res))
	}
	if tk, _ := d.Ticket("1"); tk.Queue.Name != "Billing" {
		t.Fatalf("ticket 1 in %q after the first run, want Billing", tk.Queue.Name)
	}
	if err := d.UpdateTicket(ctx, "1", ticket.Update{Queue: &ticket.Entity{Name: "Inbox"}}); err != nil {
		t.Fatal(err)
	}
	d.Touch("1", time.Now().Add(time.Second))
	res := runOne(t, eng)
	if tk, _ := d.Ticket("1"); tk.Queue.Name != "Inbox" {
		t.Errorf("otai overrode the agent: ticket 1 is in %q, want Inbox\n%s", tk.Queue.Name, dump(res))
	}
	if cs, err := st.Corrections(ctx, "queue", time.Time{}); err != nil || len(cs) != 0 {
		t.Errorf("corrections = %+v, %v; want none for a ticket sent back", cs, err)
	}
	agentMovesToSales(t, eng, d, st)
}

// triageInbox builds the one-worker triage runner with a state store for
// marks and decisions, and a desk holding inbox().
func triageInbox(t *testing.T) (*state.Store, *orchestrator.Engine, *testsys.System) {
	t.Helper()
	return triageOver(t, triageYAML(1, triageSteps, ""))
}

// triageOver builds the config src with a state store for marks and
// decisions, and a desk holding inbox().
func triageOver(t *testing.T, src string) (*state.Store, *orchestrator.Engine, *testsys.System) {
	t.Helper()
	st := openMarks(t)
	eng := build(t, src, orchestrator.Options{Marks: st, Decisions: st})
	d := desk(t, eng, "desk")
	d.Add(inbox()...)
	return st, eng, d
}
