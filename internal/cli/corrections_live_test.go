package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otai-dev/otai/classify/linear"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/state"
	"github.com/otai-dev/otai/ticket"
	"github.com/otai-dev/otai/ticketsystem/local"
)

// TestTrainCheckTickets: the demo moves its inbox tickets out of the Inbox,
// which is all its runner fetches, so no run meets them again and no
// correction is recorded. Agents then move one on (a correction), send one
// back to the Inbox, delete one and leave the others: --check-tickets must
// find the one correction on the ticket and learn from it.
func TestTrainCheckTickets(t *testing.T) {
	dir := demoDir(t)
	model := filepath.Join(dir, "m.model")
	ctx := context.Background()

	code, _, errs := otai(t, "train", "--from", "local", "--field", "queue", "--check-tickets", "-o", model, "--data-dir", dir)
	if code != ExitUsage || !strings.Contains(errs, "--check-tickets needs --corrections") {
		t.Fatalf("--check-tickets without --corrections: exit %d\n%s", code, errs)
	}

	if code, out, errs := otai(t, "run", "--once", "--data-dir", dir); code != ExitOK {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errs)
	}
	sdb := openStateDB(t, dir)
	no := false
	ds, err := sdb.Decisions(ctx, state.Filter{DryRun: &no, Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	type move struct{ id, from, to string }
	var moves []move
	for _, d := range ds {
		for _, c := range d.Changes {
			if c.Field == "queue" {
				moves = append(moves, move{d.TicketID, c.From, c.To})
			}
		}
	}
	if len(moves) < 4 {
		t.Fatalf("the demo run moved only %d tickets", len(moves))
	}

	st, err := local.Open(ctx, filepath.Join(dir, "tickets.db"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	corrected, sentBack, gone := moves[0], moves[1], moves[2]
	agent := "Sales"
	if corrected.to == agent {
		agent = "Billing"
	}
	// A made-up word only the corrected ticket has, so that the model
	// shows whether the correction was learned.
	subject := "frobnicator quibblewatt"
	if err := st.UpdateTicket(ctx, corrected.id, ticket.Update{Queue: &ticket.Entity{Name: agent}, Subject: &subject}); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateTicket(ctx, sentBack.id, ticket.Update{Queue: &ticket.Entity{Name: sentBack.from}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().ExecContext(ctx, "DELETE FROM tickets WHERE id = ?", gone.id); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// Without --check-tickets: nothing was recorded, nothing to learn.
	code, out, errs := otai(t, "train", "--from", "local", "--field", "queue", "--corrections", "-o", model, "--data-dir", dir)
	if code != ExitOK || !strings.Contains(errs, "no corrections recorded for queue") {
		t.Fatalf("--corrections alone: exit %d\n%s\n%s", code, out, errs)
	}

	// An older correction of the same ticket, recorded by a run: the one
	// found on the ticket now takes its place.
	if err := sdb.RecordCorrection(ctx, pipe.Correction{At: time.Now().Add(-time.Minute), Runner: "triage-inbox", TicketSystem: "local",
		TicketID: corrected.id, Field: "queue", Otai: corrected.to, Agent: "Technical Support", DecisionID: "d-old",
		Subject: "an older text", Body: "of the same ticket"}); err != nil {
		t.Fatal(err)
	}

	code, out, errs = otai(t, "train", "--from", "local", "--field", "queue", "--corrections", "--check-tickets",
		"--corrections-weight", "20", "-o", model, "--data-dir", dir)
	if code != ExitOK {
		t.Fatalf("--check-tickets: exit %d\n%s\n%s", code, out, errs)
	}
	want := fmt.Sprintf("checked %d tickets whose queue otai set in local: %d still as otai set it, 1 corrected by an agent, 1 sent back (set to the value before otai, or emptied), 1 gone\n",
		len(moves), len(moves)-3)
	if !strings.Contains(errs, want) {
		t.Errorf("train --check-tickets printed\n%s\nwant %q", errs, want)
	}
	if !strings.Contains(errs, "added 1 correction of queue from "+filepath.Join(dir, "state.db")+" and the tickets otai changed as 20 examples") ||
		!strings.Contains(out, "from ticket system local and 1 correction in") {
		t.Errorf("the correction found is not among the examples:\n%s\n%s", out, errs)
	}
	m, err := linear.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Predict("frobnicator quibblewatt", 1)[0].Label; got != agent {
		t.Errorf("the corrected ticket's words map to %q, want the agent's %s", got, agent)
	}
	cs, err := sdb.Corrections(ctx, "queue", time.Time{})
	if err != nil || len(cs) != 1 {
		t.Errorf("train recorded corrections: %v, %v", cs, err)
	}

	// priority: otai set some, nobody changed them.
	code, out, errs = otai(t, "train", "--from", "local", "--field", "priority", "--corrections", "--check-tickets", "-o", model, "--data-dir", dir)
	if code != ExitOK || !strings.Contains(errs, "0 corrected by agents") || !strings.Contains(errs, "no corrections of priority recorded or found on the tickets") {
		t.Errorf("priority: exit %d\n%s\n%s", code, out, errs)
	}
}

// fakeDesk serves GetTicket from a map, or fails with err.
type fakeDesk struct {
	ticket.System
	tickets map[string]*ticket.Ticket
	err     map[string]error
	calls   atomic.Int32
}

func (f *fakeDesk) GetTicket(ctx context.Context, id string) (*ticket.Ticket, error) {
	f.calls.Add(1)
	if err := f.err[id]; err != nil {
		return nil, err
	}
	if t := f.tickets[id]; t != nil {
		return t, nil
	}
	return nil, &ticket.Error{Op: "get ticket", Kind: ticket.ErrNotFound}
}

func TestCheckTicketsJudges(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	dec := func(id, sys, tid string, dry bool, cs ...pipe.Change) pipe.Decision {
		return pipe.Decision{ID: id, TicketSystem: sys, TicketID: tid, DryRun: dry, Changes: cs, Runner: "r"}
	}
	q := func(from, to string) pipe.Change { return pipe.Change{Field: "queue", From: from, To: to} }
	// newest first
	ds := []pipe.Decision{
		dec("d9", "", "1", true, q("Inbox", "Sales")), // dry run: ignored
		dec("d8", "", "1", false, q("Inbox", "Billing")),
		dec("d7", "", "1", false, q("Inbox", "Technical")), // older: ignored
		dec("d6", "", "2", false, q("Inbox", "Billing"), pipe.Change{Field: "priority", From: "low", To: "high"}),
		dec("d5", "", "3", false, q("Inbox", "Billing")),
		dec("d4", "", "4", false, q("Inbox", "Billing")),
		dec("d3", "", "5", false, pipe.Change{Field: "priority", From: "low", To: "high"}), // not the field
		dec("d2", "", "6", false, q("Inbox", "Billing")),
		dec("d1", "", "7", false, q("Inbox", "Billing")),
		dec("d0", "other", "1", false, q("Inbox", "Billing")),
	}
	desk := &fakeDesk{tickets: map[string]*ticket.Ticket{
		"1": {ID: "1", Subject: "s1", Body: "b1", Queue: ticket.Entity{Name: "billing"}},                  // agreed
		"2": {ID: "2", Subject: "s2", Body: "b2", Queue: ticket.Entity{Name: "Sales"}, UpdatedAt: at},     // corrected
		"3": {ID: "3", Subject: "s3", Body: "b3", Queue: ticket.Entity{Name: "Inbox"}},                    // sent back
		"4": {ID: "4", Subject: "s4", Body: "b4"},                                                         // emptied
		"7": {ID: "7", Subject: "s7", Body: "b7", Queue: ticket.Entity{Name: "Technical"}, UpdatedAt: at}, // unread: error below
	}, err: map[string]error{"7": &ticket.Error{Op: "get ticket", Kind: ticket.ErrUnavailable, Message: "boom"}}}
	systems := func(id string) (ticket.System, error) {
		if id == "" {
			return desk, nil
		}
		return nil, fmt.Errorf("ticket system %q: %w", id, pipe.ErrNoService)
	}
	ts := latestChanges(ds, "queue")
	if len(ts) != 7 {
		t.Fatalf("%d tickets to check, want 7", len(ts))
	}
	now := at.Add(time.Hour)
	cs, stats, err := checkTickets(context.Background(), ts, "queue", systems, "desk", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].TicketID != "2" || cs[0].Agent != "Sales" || cs[0].Otai != "Billing" || cs[0].DecisionID != "d6" ||
		cs[0].Subject != "s2" || cs[0].Body != "b2" || !cs[0].At.Equal(at) || cs[0].Field != "queue" {
		t.Errorf("corrections %+v", cs)
	}
	if len(stats) != 2 {
		t.Fatalf("stats for %d ticket systems", len(stats))
	}
	s := stats[0]
	if s.System != "desk" || s.Checked != 6 || s.Agreed != 1 || s.Corrected != 1 || s.SentBack != 2 || s.Gone != 1 || s.Unreadable != 1 ||
		s.FirstErr == nil || !strings.Contains(s.FirstErr.Error(), "ticket 7") {
		t.Errorf("stats %+v", s)
	}
	if o := stats[1]; o.Skipped != 1 || o.Err == nil {
		t.Errorf("unknown ticket system: %+v", o)
	}
	var b strings.Builder
	printLiveStats(&b, "queue", stats)
	if !strings.Contains(b.String(), "checked 6 tickets whose queue otai set in desk: 1 still as otai set it, 1 corrected by an agent, 2 sent back") ||
		!strings.Contains(b.String(), "1 gone, 1 unreadable (first: ticket 7:") || !strings.Contains(b.String(), `skipped 1 ticket whose queue otai set in "other"`) {
		t.Errorf("printed:\n%s", b.String())
	}

	// A recorded correction of ticket 2 gives way to the one found; one of
	// another ticket stays. Oldest first.
	rec := []pipe.Correction{{TicketSystem: "desk", TicketID: "2", Agent: "Technical", At: at.Add(-time.Hour)}, {TicketID: "9", Agent: "Billing", At: at.Add(time.Minute)}}
	merged, replaced := mergeLive(rec, cs, "desk")
	if replaced != 1 || len(merged) != 2 || merged[0].Agent != "Sales" || merged[1].TicketID != "9" {
		t.Errorf("merged %+v (%d replaced)", merged, replaced)
	}
}

func TestCheckTicketsCustomField(t *testing.T) {
	ds := []pipe.Decision{{ID: "d1", TicketID: "1", Changes: []pipe.Change{{Field: "custom_fields.Area", To: "Hardware"}}}}
	desk := &fakeDesk{tickets: map[string]*ticket.Ticket{"1": {ID: "1", Subject: "s", CustomFields: map[string]any{"Area": "Network"}}}}
	for _, field := range []string{"Area", "custom_fields.Area"} {
		cs, _, err := checkTickets(context.Background(), latestChanges(ds, field), field, func(string) (ticket.System, error) { return desk, nil }, "desk", time.Now())
		if err != nil || len(cs) != 1 || cs[0].Agent != "Network" || cs[0].Otai != "Hardware" {
			t.Errorf("--field %s: %+v, %v", field, cs, err)
		}
	}
}

// TestCheckTicketsDenied: when no ticket can be read for want of
// authentication, train fails, and gives up asking after a few.
func TestCheckTicketsDenied(t *testing.T) {
	var ds []pipe.Decision
	desk := &fakeDesk{err: map[string]error{}}
	for i := range 50 {
		id := fmt.Sprint(i)
		ds = append(ds, pipe.Decision{ID: "d" + id, TicketID: id, Changes: []pipe.Change{{Field: "queue", From: "Inbox", To: "Billing"}}})
		desk.err[id] = &ticket.Error{Op: "get ticket", Kind: ticket.ErrAuth, Message: "401"}
	}
	systems := func(string) (ticket.System, error) { return desk, nil }
	_, _, err := checkTickets(context.Background(), latestChanges(ds, "queue"), "queue", systems, "desk", time.Now())
	if err == nil || !strings.Contains(err.Error(), "could not read any of the 50 tickets") || !errors.Is(err, ticket.ErrAuth) {
		t.Errorf("all denied: %v", err)
	}
	if n := desk.calls.Load(); n > authGiveUp+liveWorkers {
		t.Errorf("%d lookups with failing credentials", n)
	}

	// One ticket readable, the others forbidden (in a queue otai's user
	// may not see): counted, training goes on.
	desk.calls.Store(0)
	delete(desk.err, "0")
	desk.tickets = map[string]*ticket.Ticket{"0": {ID: "0", Queue: ticket.Entity{Name: "Billing"}}}
	for id := range desk.err {
		desk.err[id] = &ticket.Error{Op: "get ticket", Kind: ticket.ErrForbidden, Message: "403"}
	}
	_, stats, err := checkTickets(context.Background(), latestChanges(ds, "queue"), "queue", systems, "desk", time.Now())
	if err != nil || stats[0].Agreed != 1 || stats[0].Unreadable != 49 || desk.calls.Load() != 50 {
		t.Errorf("one readable: %v, %+v, %d calls", err, stats[0], desk.calls.Load())
	}

	// Cancelled: an error, not a partial result.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := checkTickets(ctx, latestChanges(ds, "queue"), "queue", systems, "desk", time.Now()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
