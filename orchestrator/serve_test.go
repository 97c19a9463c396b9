package orchestrator_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/internal/testsys"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/ticket"
)

// blockingYAML fetches every ticket and, one ticket at a time, blocks on
// the gate and then adds a note. triggers is the runner's trigger list.
func blockingYAML(gateName, triggers string) string {
	return `
services:
  - {id: desk, use: testsys:Memory}
pipes:
  - {id: fetch, use: base:FetchTicketsPipe}
  - id: each
    use: base:ForEachTicketPipe
    params: {tickets: "{{ pipes.fetch.tickets }}", concurrency: 1}
    steps:
      - {id: block, use: orchtest:Block, params: {gate: ` + gateName + `}}
      - {id: note, use: base:AddNotePipe, params: {note: {body: done}}}
orchestrator:
  runners:
    - id: triage
      pipes: [fetch, each]
      triggers: ` + triggers + "\n"
}

func seed(eng *orchestrator.Engine) *testsys.System {
	d := eng.Service("desk").(*testsys.System)
	d.Add(ticket.Ticket{ID: "1", Subject: "one"}, ticket.Ticket{ID: "2", Subject: "two"}, ticket.Ticket{ID: "3", Subject: "three"})
	return d
}

func TestServeRunsOnItsTriggerUntilCancelled(t *testing.T) {
	tests := []struct {
		trigger string
		atOnce  bool // the first run starts at once
	}{
		{"[{interval: 1s}]", true}, // at once, then every second
		{`[{cron: "@every 1s"}]`, false},
	}
	for _, tc := range tests {
		t.Run(tc.trigger, func(t *testing.T) {
			t.Parallel()
			eng := build(t, `
services:
  - {id: desk, use: testsys:Memory}
pipes:
  - {id: fetch, use: base:FetchTicketsPipe}
orchestrator:
  runners:
    - {id: poll, pipes: [fetch], triggers: `+tc.trigger+`}
`, orchestrator.Options{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var rs results
			start := time.Now()
			done := serve(ctx, eng, time.Second, &rs)
			waitFor(t, "a first run", func() bool { return rs.len() >= 1 })
			if d := time.Since(start); tc.atOnce && d > 500*time.Millisecond {
				t.Errorf("first run after %v, want it at once", d)
			}
			waitFor(t, "a second run", func() bool { return rs.len() >= 2 })
			if returned(done, 0) {
				t.Fatal("Serve returned before it was cancelled")
			}
			cancel()
			if !returned(done, 2*time.Second) {
				t.Fatal("Serve did not return within 2s of the cancel")
			}
			n := rs.len()
			time.Sleep(1200 * time.Millisecond)
			if rs.len() != n {
				t.Error("runs after Serve returned")
			}
			for _, r := range rs.get() {
				if r.Runner != "poll" || r.Status != pipe.StatusSucceeded {
					t.Errorf("run %s: %s", r.Runner, r.Status)
				}
			}
			if c := eng.Service("desk").(*testsys.System).Calls(testsys.OpFind); c != n {
				t.Errorf("%d searches for %d runs", c, n)
			}
		})
	}
}

func TestServeFinishesTheTicketInFlightOnShutdown(t *testing.T) {
	name, g := newGate(t)
	eng := build(t, blockingYAML(name, "[{interval: 1h}]"), orchestrator.Options{})
	d := seed(eng)
	ctx, cancel := context.WithCancel(context.Background())
	var rs results
	done := serve(ctx, eng, 10*time.Second, &rs)

	if id := g.wait(t); id != "1" {
		t.Fatalf("first ticket in the gate: %s", id)
	}
	cancel()
	select { // Serve tells the runs it is shutting down ...
	case <-g.stoppingChan():
	case <-time.After(5 * time.Second):
		t.Fatal("runs were not told that otai is stopping")
	}
	if returned(done, 100*time.Millisecond) { // ... and waits for the ticket in flight
		t.Fatal("Serve returned while a ticket was in flight")
	}
	close(g.release)
	if !returned(done, 5*time.Second) {
		t.Fatal("Serve did not return after the ticket finished")
	}

	all := rs.get()
	if len(all) != 1 {
		t.Fatalf("%d runs, want 1", len(all))
	}
	items := itemsOf(all[0], "each")
	if it := items["1"]; it.Status != pipe.StatusSucceeded || len(d.Notes("1")) != 1 {
		t.Errorf("ticket in flight: %s %q, %d notes; want it finished with its note", it.Status, it.Message, len(d.Notes("1")))
	}
	for _, id := range []string{"2", "3"} {
		it := items[id]
		if it.Status != pipe.StatusSkipped || !strings.Contains(it.Message, "shutting down") || len(it.Steps) != 0 {
			t.Errorf("ticket %s: %s %q, want skipped because otai is shutting down", id, it.Status, it.Message)
		}
		if len(d.Notes(id)) != 0 {
			t.Errorf("ticket %s was worked on after shutdown began", id)
		}
	}
	if n := g.count.Load(); n != 1 {
		t.Errorf("%d tickets entered the pipe, want 1", n)
	}
	if all[0].Status == pipe.StatusFailed {
		t.Errorf("a graceful shutdown is no failure: %q", all[0].Failures())
	}
}

func TestServeCancelsWorkAfterTheGracePeriod(t *testing.T) {
	name, g := newGate(t)
	eng := build(t, blockingYAML(name, "[{interval: 1h}]"), orchestrator.Options{})
	d := seed(eng)
	ctx, cancel := context.WithCancel(context.Background())
	var rs results
	const grace = 200 * time.Millisecond
	done := serve(ctx, eng, grace, &rs)
	g.wait(t)
	start := time.Now()
	cancel()
	if !returned(done, 5*time.Second) {
		t.Fatal("Serve did not return after the grace period")
	}
	if took := time.Since(start); took < grace-10*time.Millisecond {
		t.Errorf("Serve returned after %v, before the grace period of %v", took, grace)
	}
	all := rs.get()
	if len(all) != 1 {
		t.Fatalf("%d runs, want 1 (onResult is called for the cancelled run too)", len(all))
	}
	items := itemsOf(all[0], "each")
	it := items["1"]
	if it.Status != pipe.StatusFailed || it.Message != "block: context canceled" {
		t.Errorf("ticket in flight: %s %q, want failed: block: context canceled", it.Status, it.Message)
	}
	if note, _ := stepIn(it.Steps, "note"); note.Status != pipe.StatusSkipped || len(d.Notes("1")) != 0 {
		t.Errorf("note after the cancelled step: %s, %d notes", note.Status, len(d.Notes("1")))
	}
	for _, id := range []string{"2", "3"} {
		if items[id].Status != pipe.StatusSkipped {
			t.Errorf("ticket %s: %s %q, want skipped", id, items[id].Status, items[id].Message)
		}
	}
	if g.count.Load() != 1 {
		t.Errorf("%d tickets entered the pipe, want 1", g.count.Load())
	}
}

func TestServeReturnsByItselfWithOnlyOnceTriggers(t *testing.T) {
	const fetch = "services:\n  - {id: desk, use: testsys:Memory}\npipes:\n  - {id: fetch, use: base:FetchTicketsPipe}\n"
	tests := []struct {
		name    string
		src     string
		runners []string
	}{
		{"no orchestrator section: a default runner, once", fetch, []string{"default"}},
		{"runner without triggers", fetch + "orchestrator:\n  runners:\n    - {id: a, pipes: [fetch]}\n", []string{"a"}},
		{"once: true and the once shorthand", fetch + "orchestrator:\n  runners:\n    - {id: a, pipes: [fetch], triggers: [{once: true}]}\n    - {id: b, pipes: [fetch], triggers: [once]}\n", []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eng := build(t, tc.src, orchestrator.Options{})
			var rs results
			done := serve(context.Background(), eng, time.Second, &rs)
			if !returned(done, 5*time.Second) {
				t.Fatal("Serve did not return by itself")
			}
			got := map[string]int{}
			for _, r := range rs.get() {
				got[r.Runner]++
			}
			if len(got) != len(tc.runners) {
				t.Errorf("runs %v, want one for each of %v", got, tc.runners)
			}
			for _, id := range tc.runners {
				if got[id] != 1 {
					t.Errorf("runner %s ran %d times, want 1", id, got[id])
				}
			}
		})
	}
}

func TestServeNeverOverlapsARunner(t *testing.T) {
	name, g := newGate(t)
	l := newLogs()
	// Both triggers fire at start; the second finds the runner busy.
	eng := build(t, blockingYAML(name, "[{interval: 1h}, once]"), orchestrator.Options{Logger: slog.New(l)})
	eng.Service("desk").(*testsys.System).Add(ticket.Ticket{ID: "1"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var rs results
	done := serve(ctx, eng, 5*time.Second, &rs)
	g.wait(t)
	waitFor(t, "the second trigger to find the runner busy", func() bool {
		return l.count("runner still busy, skipping this trigger") == 1
	})
	close(g.release)
	waitFor(t, "the run to finish", func() bool { return rs.len() == 1 })
	cancel()
	if !returned(done, 5*time.Second) {
		t.Fatal("Serve did not return")
	}
	if n := g.count.Load(); n != 1 || rs.len() != 1 {
		t.Errorf("%d runs entered the pipe, %d results; want 1 and 1", n, rs.len())
	}
}

// Two runners run side by side; one being busy does not hold up the other.
func TestServeRunsRunnersIndependently(t *testing.T) {
	name, g := newGate(t)
	src := blockingYAML(name, "[{interval: 1h}]") + `
    - id: quick
      pipes: [fetch]
      triggers: [{interval: 1s}]
`
	eng := build(t, src, orchestrator.Options{})
	seed(eng)
	ctx, cancel := context.WithCancel(context.Background())
	var rs results
	done := serve(ctx, eng, 5*time.Second, &rs)
	g.wait(t)
	waitFor(t, "two runs of quick while triage is busy", func() bool { return rs.len() >= 2 })
	for _, r := range rs.get() {
		if r.Runner != "quick" {
			t.Errorf("runner %s finished while blocked", r.Runner)
		}
	}
	close(g.release)
	cancel()
	if !returned(done, 5*time.Second) {
		t.Fatal("Serve did not return")
	}
}
