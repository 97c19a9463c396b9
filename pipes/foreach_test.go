package pipes_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otai-dev/otai/internal/testsys"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/state"
	"github.com/otai-dev/otai/ticket"
)

func openMarks(t *testing.T) *state.Store {
	t.Helper()
	st, err := state.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestForEachRunsEveryTicketWithinConcurrency(t *testing.T) {
	for _, conc := range []int{1, 4, 16} {
		t.Run(fmt.Sprintf("concurrency=%d", conc), func(t *testing.T) {
			t.Parallel()
			eng := build(t, triageYAML(conc, triageSteps, ""), orchestrator.Options{})
			d := desk(t, eng, "desk")
			var want []string
			for i := 1; i <= 40; i++ {
				id := fmt.Sprint(i)
				want = append(want, id)
				d.Add(ticket.Ticket{ID: id, Subject: "invoice " + id, Queue: ticket.Entity{Name: "Inbox"}})
			}
			var inflight, peak atomic.Int32
			d.SetHook(func(ctx context.Context, op testsys.Op, id string) error {
				if op != testsys.OpGet { // the note pipe reads the ticket's notes
					return nil
				}
				n := inflight.Add(1)
				defer inflight.Add(-1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				time.Sleep(3 * time.Millisecond)
				return nil
			})

			res := runOne(t, eng)
			if res.Status != pipe.StatusSucceeded {
				t.Fatalf("status %s, want succeeded\n%s", res.Status, dump(res))
			}
			byID, order := items(t, res, "each")
			if !slices.Equal(order, want) {
				t.Fatalf("items in order %v, want fetch order %v", order, want)
			}
			for _, id := range want {
				if it := byID[id]; it.Status != pipe.StatusSucceeded || len(it.Steps) != 3 {
					t.Errorf("ticket %s: %s with %d steps, want succeeded with 3", id, it.Status, len(it.Steps))
				}
				if n := len(d.Notes(id)); n != 1 {
					t.Errorf("ticket %s has %d notes, want 1", id, n)
				}
				if tk, _ := d.Ticket(id); tk.Queue.Name != "Billing" {
					t.Errorf("ticket %s is in %q, want Billing", id, tk.Queue.Name)
				}
			}
			if c := res.Counts(); c[pipe.StatusSucceeded] != 40 || c[pipe.StatusFailed]+c[pipe.StatusSkipped] != 0 {
				t.Errorf("counts %v, want 40 succeeded", c)
			}
			if p := int(peak.Load()); p > conc || (conc > 1 && p < 2) {
				t.Errorf("at most %d tickets at once, want between 2 and %d (1 for concurrency 1)", p, conc)
			}
		})
	}
}

func TestForEachIsolatesAFailingTicket(t *testing.T) {
	marks := openMarks(t)
	eng := build(t, triageYAML(4, triageSteps, ""), orchestrator.Options{Marks: marks})
	d := desk(t, eng, "desk")
	d.Add(inbox()...)
	d.Fail(testsys.OpUpdate, "1", &ticket.Error{Op: "updating ticket 1", Kind: ticket.ErrUnavailable, Message: "maintenance window"}, -1)

	res := runOne(t, eng)
	const wantMsg = "move: updating ticket 1: unavailable: maintenance window"
	if res.Status != pipe.StatusFailed {
		t.Fatalf("run status %s, want failed\n%s", res.Status, dump(res))
	}
	if got, want := res.Failures(), []string{"ticket 1: " + wantMsg}; !slices.Equal(got, want) {
		t.Errorf("Failures() = %q, want %q", got, want)
	}
	byID, _ := items(t, res, "each")
	it := byID["1"]
	if it.Status != pipe.StatusFailed || it.Message != wantMsg {
		t.Errorf("ticket 1: %s %q, want failed %q", it.Status, it.Message, wantMsg)
	}
	for _, tc := range []struct {
		step   string
		status pipe.Status
		msg    string
	}{
		{"classify", pipe.StatusSucceeded, ""},
		{"move", pipe.StatusFailed, "updating ticket 1: unavailable: maintenance window"},
		{"note", pipe.StatusSkipped, "skipped because move failed"},
	} {
		r := stepOf(t, it.Steps, tc.step)
		if r.Status != tc.status || r.Message != tc.msg {
			t.Errorf("ticket 1 step %s: %s %q, want %s %q", tc.step, r.Status, r.Message, tc.status, tc.msg)
		}
	}
	if r := stepOf(t, it.Steps, "move"); !errors.Is(r.Err, ticket.ErrUnavailable) {
		t.Errorf("move's Err = %v, want one that is ticket.ErrUnavailable", r.Err)
	}
	for _, id := range []string{"2", "3", "4"} {
		if byID[id].Status != pipe.StatusSucceeded {
			t.Errorf("ticket %s: %s %q, want succeeded", id, byID[id].Status, byID[id].Message)
		}
		if n := len(d.Notes(id)); n != 1 {
			t.Errorf("ticket %s has %d notes, want 1", id, n)
		}
	}
	if n := len(d.Notes("1")); n != 0 {
		t.Errorf("the failed ticket got %d notes, want none (the note must not follow a failed step)", n)
	}
	each := stepOf(t, res.Steps, "each")
	if each.Message != "4 tickets: 3 succeeded, 0 skipped, 1 failed" {
		t.Errorf("for-each message %q", each.Message)
	}

	// The failed ticket is not marked: once the help desk is back, the
	// next run works on it, and on nothing else.
	d.ClearFaults()
	res = runOne(t, eng)
	if res.Status != pipe.StatusSucceeded {
		t.Fatalf("second run: %s\n%s", res.Status, dump(res))
	}
	byID, _ = items(t, res, "each")
	for id, want := range map[string]pipe.Status{"1": pipe.StatusSucceeded, "2": pipe.StatusSkipped, "3": pipe.StatusSkipped, "4": pipe.StatusSkipped} {
		if byID[id].Status != want {
			t.Errorf("second run, ticket %s: %s %q, want %s", id, byID[id].Status, byID[id].Message, want)
		}
	}
	if tk, _ := d.Ticket("1"); tk.Queue.Name != "Billing" || len(tk.Notes) != 1 {
		t.Errorf("ticket 1 after the retry: queue %q, %d notes; want Billing, 1", tk.Queue.Name, len(tk.Notes))
	}
}

func TestFetchFailureSkipsTheRest(t *testing.T) {
	eng := build(t, triageYAML(2, triageSteps, ""), orchestrator.Options{})
	d := desk(t, eng, "desk")
	d.Add(inbox()...)
	d.Fail(testsys.OpFind, "", &ticket.Error{Op: "searching tickets", Kind: ticket.ErrAuth, Status: 401}, -1)
	res := runOne(t, eng)
	if res.Status != pipe.StatusFailed {
		t.Fatalf("status %s\n%s", res.Status, dump(res))
	}
	f := res.Failures()
	if len(f) != 1 || !strings.HasPrefix(f[0], "fetch: ") || !strings.Contains(f[0], "authentication failed (HTTP 401)") {
		t.Errorf("Failures() = %q, want one fetch failure naming the cause", f)
	}
	if each := stepOf(t, res.Steps, "each"); each.Status != pipe.StatusSkipped || each.Message != "skipped because fetch failed" {
		t.Errorf("each: %s %q, want skipped because fetch failed", each.Status, each.Message)
	}
	if d.Calls(testsys.OpGet)+d.Calls(testsys.OpUpdate)+d.Calls(testsys.OpAddNote) != 0 {
		t.Error("tickets were worked on after the fetch failed")
	}
}

func TestIfCondition(t *testing.T) {
	tests := []struct {
		cond      string
		wantNoted []string
	}{
		{`"{{ pipes.classify.confidence >= 0.95 }}"`, nil},
		{`"{{ pipes.classify.confidence >= 0.5 }}"`, []string{"1", "2", "3"}},
		{`pipes.classify.label == 'Billing'`, []string{"1", "3"}},
		{`"{{ ticket.queue.name == 'Inbox' }}"`, []string{"2", "4"}}, // 1 was moved to Billing by the step before
		{`false`, nil},
		{`true`, []string{"1", "2", "3", "4"}},
	}
	for _, tc := range tests {
		t.Run(tc.cond, func(t *testing.T) {
			t.Parallel()
			steps := strings.Replace(triageSteps, "      - id: note\n", "      - id: note\n        if: "+tc.cond+"\n", 1)
			eng := build(t, triageYAML(2, steps, ""), orchestrator.Options{})
			d := desk(t, eng, "desk")
			d.Add(inbox()...)
			res := runOne(t, eng)
			if res.Status != pipe.StatusSucceeded {
				t.Fatalf("status %s\n%s", res.Status, dump(res))
			}
			byID, _ := items(t, res, "each")
			var noted []string
			for _, id := range []string{"1", "2", "3", "4"} {
				note := stepOf(t, byID[id].Steps, "note")
				has := len(d.Notes(id)) == 1
				if has {
					noted = append(noted, id)
				}
				if !has && (note.Status != pipe.StatusSkipped || note.Message != "condition is false") {
					t.Errorf("ticket %s: note %s %q, want skipped: condition is false", id, note.Status, note.Message)
				}
				if byID[id].Status != pipe.StatusSucceeded {
					t.Errorf("ticket %s: %s, want succeeded (a false condition is no failure)", id, byID[id].Status)
				}
			}
			if !slices.Equal(noted, tc.wantNoted) {
				t.Errorf("noted %v, want %v\n%s", noted, tc.wantNoted, dump(res))
			}
		})
	}
}

func TestIfEvaluationErrorFailsTheTicket(t *testing.T) {
	steps := strings.Replace(triageSteps, "      - id: note\n", "      - id: note\n        if: \"{{ pipes.classify.confidence > 'x' }}\"\n", 1)
	eng := build(t, triageYAML(2, steps, ""), orchestrator.Options{})
	d := desk(t, eng, "desk")
	d.Add(inbox()[0])
	res := runOne(t, eng)
	byID, _ := items(t, res, "each")
	it := byID["1"]
	if it.Status != pipe.StatusFailed || !strings.HasPrefix(it.Message, "note: evaluating if: ") {
		t.Fatalf("ticket 1: %s %q, want failed with note: evaluating if: ...", it.Status, it.Message)
	}
	if len(d.Notes("1")) != 0 {
		t.Error("a note was written although its condition could not be evaluated")
	}
}

func TestPanicInAPipeFailsOnlyThatTicket(t *testing.T) {
	steps := `
      - id: classify
        use: base:ClassifyPipe
        params: {classifier: rules}
      - id: explode
        use: pipestest:Panic
        if: ticket.id == '2'
      - id: note
        use: base:AddNotePipe
        params: {note: {body: "ok"}}
`
	eng := build(t, triageYAML(4, steps, ""), orchestrator.Options{})
	d := desk(t, eng, "desk")
	d.Add(inbox()...)
	res := runOne(t, eng)
	if res.Status != pipe.StatusFailed {
		t.Fatalf("status %s\n%s", res.Status, dump(res))
	}
	if got, want := res.Failures(), []string{"ticket 2: explode: panic in pipe explode: kaboom"}; !slices.Equal(got, want) {
		t.Errorf("Failures() = %q, want %q", got, want)
	}
	byID, _ := items(t, res, "each")
	for _, id := range []string{"1", "3", "4"} {
		if byID[id].Status != pipe.StatusSucceeded || len(d.Notes(id)) != 1 {
			t.Errorf("ticket %s: %s with %d notes, want succeeded with 1", id, byID[id].Status, len(d.Notes(id)))
		}
	}
	if n := stepOf(t, byID["2"].Steps, "note"); n.Status != pipe.StatusSkipped || len(d.Notes("2")) != 0 {
		t.Errorf("ticket 2's note: %s, %d notes; want skipped, none", n.Status, len(d.Notes("2")))
	}
}

func TestPanicInATopLevelPipe(t *testing.T) {
	src := servicesYAML + `
pipes:
  - id: explode
    use: pipestest:Panic
    params: {message: "nil map"}
  - id: fetch
    use: base:FetchTicketsPipe
`
	eng := build(t, src, orchestrator.Options{})
	res := runOne(t, eng)
	if res.Status != pipe.StatusFailed {
		t.Fatalf("status %s", res.Status)
	}
	if got, want := res.Failures(), []string{"explode: panic in pipe explode: nil map"}; !slices.Equal(got, want) {
		t.Errorf("Failures() = %q, want %q", got, want)
	}
	if f := stepOf(t, res.Steps, "fetch"); f.Status != pipe.StatusSkipped {
		t.Errorf("fetch after the panic: %s, want skipped", f.Status)
	}
	if n := desk(t, eng, "desk").Calls(testsys.OpFind); n != 0 {
		t.Errorf("FindTickets called %d times after a panic, want 0", n)
	}
}

func TestProcessedMarks(t *testing.T) {
	marks := openMarks(t)
	eng := build(t, triageYAML(4, triageSteps, ""), orchestrator.Options{Marks: marks})
	d := desk(t, eng, "desk")
	d.Add(inbox()...)

	statuses := func(res orchestrator.RunResult) map[string]pipe.Status {
		byID, _ := items(t, res, "each")
		m := map[string]pipe.Status{}
		for id, it := range byID {
			m[id] = it.Status
		}
		return m
	}
	all := func(s pipe.Status) map[string]pipe.Status {
		return map[string]pipe.Status{"1": s, "2": s, "3": s, "4": s}
	}

	res := runOne(t, eng)
	if got := statuses(res); fmt.Sprint(got) != fmt.Sprint(all(pipe.StatusSucceeded)) {
		t.Fatalf("first run: %v\n%s", got, dump(res))
	}
	gets := d.Calls(testsys.OpGet)

	res = runOne(t, eng)
	if got := statuses(res); fmt.Sprint(got) != fmt.Sprint(all(pipe.StatusSkipped)) {
		t.Fatalf("second run: %v, want all skipped\n%s", got, dump(res))
	}
	byID, _ := items(t, res, "each")
	if m := byID["3"].Message; !strings.HasPrefix(m, "already processed at ") || !strings.HasSuffix(m, "and unchanged since") || len(byID["3"].Steps) != 0 {
		t.Errorf("second run, ticket 3: %q with %d steps", m, len(byID["3"].Steps))
	}
	if d.Calls(testsys.OpGet) != gets {
		t.Error("unchanged tickets were worked on in the second run")
	}

	// An agent adds a reply to ticket 2: its update time moves, but nothing
	// triage reads changed, so it is not worked on again.
	d.Touch("2", time.Now().Add(time.Second))
	res = runOne(t, eng)
	if got := statuses(res); fmt.Sprint(got) != fmt.Sprint(all(pipe.StatusSkipped)) {
		t.Fatalf("after a reply to ticket 2: %v, want all skipped\n%s", got, dump(res))
	}
	byID, _ = items(t, res, "each")
	if m := byID["2"].Message; !strings.Contains(m, "changed since only in ways triage does not read") {
		t.Errorf("after a reply, ticket 2: %q", m)
	}

	// The customer corrects ticket 2's subject: it is worked on again, the
	// others not.
	d.Edit("2", time.Now().Add(2*time.Second), func(t *ticket.Ticket) { t.Subject = "Login fails since the update" })
	res = runOne(t, eng)
	want := all(pipe.StatusSkipped)
	want["2"] = pipe.StatusSucceeded
	if got := statuses(res); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after ticket 2 changed: %v, want %v\n%s", got, want, dump(res))
	}
	byID, _ = items(t, res, "each")
	if n := stepOf(t, byID["2"].Steps, "note"); n.Status != pipe.StatusSkipped || n.Action != "already noted" {
		t.Errorf("ticket 2's note on the re-run: %s %q, want skipped, already noted", n.Status, n.Action)
	}
	if n := len(d.Notes("2")); n != 1 {
		t.Errorf("ticket 2 has %d notes, want 1", n)
	}

	// skip_processed: false works on every ticket again.
	eng2 := build(t, strings.Replace(triageYAML(4, triageSteps, ""), "concurrency: 4", "concurrency: 4\n      skip_processed: false", 1), orchestrator.Options{Marks: marks})
	desk(t, eng2, "desk").Add(inbox()...)
	if got := statuses(runOne(t, eng2)); fmt.Sprint(got) != fmt.Sprint(all(pipe.StatusSucceeded)) {
		t.Errorf("skip_processed false: %v, want all succeeded", got)
	}
}

// A for-each stops starting tickets when otai shuts down; what did not
// start is reported skipped, and what started finishes.
func TestForEachStopsStartingTicketsWhenStopping(t *testing.T) {
	eng := build(t, triageYAML(1, triageSteps, ""), orchestrator.Options{})
	d := desk(t, eng, "desk")
	d.Add(inbox()...)
	stopping := make(chan struct{})
	var once sync.Once
	d.SetHook(func(ctx context.Context, op testsys.Op, id string) error {
		if op == testsys.OpGet && id == "1" { // ticket 1 is under way: shut down
			once.Do(func() { close(stopping) })
		}
		return nil
	})
	res := eng.RunOnce(context.Background(), eng.Runners()[0], stopping)
	byID, _ := items(t, res, "each")
	if byID["1"].Status != pipe.StatusSucceeded || len(d.Notes("1")) != 1 {
		t.Errorf("the ticket in flight: %s, %d notes; want it finished", byID["1"].Status, len(d.Notes("1")))
	}
	for _, id := range []string{"2", "3", "4"} {
		it := byID[id]
		if it.Status != pipe.StatusSkipped || !strings.Contains(it.Message, "shutting down") || it.Subject == "" {
			t.Errorf("ticket %s: %s %q (subject %q), want skipped because of the shutdown", id, it.Status, it.Message, it.Subject)
		}
	}
	if d.Calls(testsys.OpGet) != 1 {
		t.Errorf("GetTicket called %d times, want 1 (no ticket started after shutdown began)", d.Calls(testsys.OpGet))
	}
}

// The for-each works on its own copies of the tickets: the fetch result
// keeps the tickets as fetched, and a step that reads the fetch result
// while other tickets are being updated does not race with the updates.
func TestForEachDoesNotChangeTheFetchResult(t *testing.T) {
	steps := `
      - id: peek
        use: base:ExpressionPipe
        params: {expression: "{{ map(pipes.fetch.tickets, .queue.name) }}"}
      - id: move
        use: base:UpdateTicketPipe
        params: {updates: {queue: Billing, add_tags: [triaged]}}
`
	eng := build(t, triageYAML(8, steps, ""), orchestrator.Options{})
	d := desk(t, eng, "desk")
	for i := 1; i <= 32; i++ {
		d.Add(ticket.Ticket{ID: fmt.Sprint(i), Queue: ticket.Entity{Name: "Inbox"}, Tags: []string{"new"}})
	}
	res := runOne(t, eng)
	if res.Status != pipe.StatusSucceeded {
		t.Fatalf("%s", dump(res))
	}
	fetched, _ := stepOf(t, res.Steps, "fetch").Data["tickets"].([]ticket.Ticket)
	for _, tk := range fetched {
		if tk.Queue.Name != "Inbox" || len(tk.Tags) != 1 {
			t.Fatalf("the fetch result was changed by the for-each: ticket %s in %q with tags %v", tk.ID, tk.Queue.Name, tk.Tags)
		}
	}
	if tk, _ := d.Ticket("7"); tk.Queue.Name != "Billing" || !tk.HasTag("triaged") {
		t.Fatalf("ticket 7 was not updated: %+v", tk)
	}
}
