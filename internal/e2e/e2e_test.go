// Package e2e_test runs otai end to end against each help desk's fake: a
// YAML config is parsed with config.Parse, built with orchestrator.Build
// and run with Engine.RunAll, and the assertions read the fake's state.
package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otai-dev/otai/config"
	_ "github.com/otai-dev/otai/internal/components"
	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/secret"
	"github.com/otai-dev/otai/state"
)

// note is a note (article, conversation) a ticket got after its first
// message.
type note struct {
	Body     string
	Internal bool // visible to agents only (internal article, private note)
}

// snapshot is what the assertions compare: where a ticket is and what was
// added to it.
type snapshot struct {
	Queue, Priority string
	Notes           []note
	Updated         time.Time
}

// desk adapts one help desk's fake to the shared scenario.
type desk struct {
	service        string // YAML of the ticket system service, id "desk"
	inbox          string // queue (group) triage fetches from
	billing        string // queue invoices move to
	hardware       string // queue hardware problems move to
	prioBilling    string // priority invoices get, as the config writes it
	prioHardware   string
	stateBilling   string // the same priorities as state() reports them
	stateHardware  string
	secretName     string
	secretValue    string
	add            func(subject, body, queue string, created time.Time) string
	state          func(id string) snapshot
	writes         func() int // update, note, create and tag calls the fake served
	failUpdatesOf  func(id string, on *atomic.Bool)
	failureMessage string // what the injected failure says
	fake           any    // the fake server, for desk-specific tests
}

type kind int

const (
	billing  kind = iota // moved to billing with its priority, noted
	hardware             // moved to hardware with its priority, noted
	hint                 // weak match: noted, not moved
	unknown              // nothing matches: untouched
	outside              // not in the inbox: untouched
)

type seedTicket struct {
	subject, body string
	kind          kind
}

// corpus is the inbox: 20 tickets of mixed kinds, plus two invoices that
// already sit in the billing queue (outside the fetch).
var corpus = []seedTicket{
	{"Invoice 2026-113 lists two licences", "We were billed twice for the same seat.", billing},
	{"Printer on the 3rd floor jams", "Every second page gets stuck.", hardware},
	{"Question about the holiday rota", "Who do I ask about the rota?", unknown},
	{"Refund for cancelled order", "Please refund order 5531.", billing},
	{"Laptop does not boot", "Black screen after the update.", hardware},
	{"USB-C cable frayed", "Can I get a new one?", hint},
	{"Rechnung fehlt", "Die Rechnung für März ist nicht angekommen.", billing},
	{"Monitor flickers", "The external monitor flickers all day.", hardware},
	{"Lunch menu", "Is there a vegetarian option tomorrow?", unknown},
	{"Invoice address wrong", "Our new address is not on the invoice.", billing},
	{"Docking station", "My dock loses the network.", hint},
	{"Printer toner empty", "Toner low on the colour printer.", hardware},
	{"Parking permit", "My permit expires next week.", unknown},
	{"Duplicate invoice", "Invoice 881 arrived twice.", billing},
	{"Laptop battery swollen", "The battery bulges.", hardware},
	{"Welcome aboard", "Hi all, I started today!", unknown},
	{"Refund for training", "The training was cancelled, please refund.", billing},
	{"HDMI cable missing", "Meeting room 2 has no cable.", hint},
	{"Printer offline", "The printer shows offline.", hardware},
	{"Office plants", "Who waters the plants?", unknown},
}

var outsideCorpus = []seedTicket{
	{"Invoice 77 paid", "Thanks, the invoice is paid.", outside},
	{"Refund done", "The refund went out.", outside},
}

func configYAML(d *desk) string {
	return fmt.Sprintf(`
services:
%s
  - id: rules
    use: base:RuleClassifier
    params:
      rules:
        - { label: %[2]s, keywords: [invoice, refund, Rechnung], confidence: 0.9 }
        - { label: %[3]s, keywords: [printer, laptop, monitor], confidence: 0.85 }
        - { label: %[3]s, keywords: [cable, dock], confidence: 0.6 }
pipes:
  - id: fetch
    use: base:FetchTicketsPipe
    params:
      ticket_system: desk
      ticket_search_criteria: { queue: { name: %[4]s }, created_since: 2020-01-01T00:00:00Z, limit: 50 }
  - id: triage
    use: base:ForEachTicketPipe
    params: { tickets: '{{ pipes.fetch.tickets }}', concurrency: 4 }
    steps:
      - id: classify
        use: base:ClassifyPipe
        params: { classifier: rules }
      - id: move
        use: base:UpdateTicketPipe
        if: '{{ pipes.classify.confidence >= 0.7 }}'
        params:
          ticket_system: desk
          updates:
            queue: { name: '{{ pipes.classify.label }}' }
            priority: { name: '{{ pipes.classify.label == "%[2]s" ? "%[5]s" : "%[6]s" }}' }
      - id: note
        use: base:AddNotePipe
        if: '{{ pipes.classify.confidence >= 0.5 }}'
        params:
          ticket_system: desk
          note: { body: 'otai: {{ pipes.classify.label }} ({{ percent(pipes.classify.confidence) }})' }
orchestrator:
  runners:
    - id: triage-inbox
      pipes: [fetch, triage]
      triggers: [ { once: true } ]
`, d.service, d.billing, d.hardware, d.inbox, d.prioBilling, d.prioHardware)
}

// world is one seeded fake with a built engine.
type world struct {
	httpObs atomic.Int64 // HTTP attempts reported to the engine's metrics hook
	d       *desk
	ids     map[string]kind // ticket id -> kind
	order   []string
	logs    *bytes.Buffer
	engine  *orchestrator.Engine
	marks   *state.Store
	initial map[string]snapshot
}

func seed(t *testing.T, d *desk) *world {
	t.Helper()
	t.Setenv("OTAI_SECRET_"+d.secretName, d.secretValue)
	w := &world{d: d, ids: map[string]kind{}, logs: &bytes.Buffer{}, initial: map[string]snapshot{}}
	base := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
	for i, s := range append(slices.Clone(corpus), outsideCorpus...) {
		q := d.inbox
		if s.kind == outside {
			q = d.billing
		}
		id := d.add(s.subject, s.body, q, base.Add(time.Duration(i)*time.Minute))
		w.ids[id] = s.kind
		w.order = append(w.order, id)
	}
	for _, id := range w.order {
		w.initial[id] = d.state(id)
	}
	marks, err := state.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { marks.Close() })
	w.marks = marks
	w.engine = build(t, w, marks)
	return w
}

// syncBuffer lets the engine's goroutines log into one buffer.
type syncBuffer struct {
	mu  chan struct{}
	buf *bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func build(t *testing.T, w *world, marks pipe.Marks) *orchestrator.Engine {
	t.Helper()
	ctx := context.Background()
	f, err := config.Parse(t.Name()+".yml", []byte(configYAML(w.d)), config.Options{Secrets: secret.Resolver{Dir: t.TempDir()}.Lookup})
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	out := &syncBuffer{mu: make(chan struct{}, 1), buf: w.logs}
	log := slog.New(secret.Handler(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug})))
	opts := orchestrator.Options{Logger: log, DataDir: t.TempDir(), Env: map[string]any{},
		HTTPMetrics: httpx.HookFunc(func(httpx.Observation) { w.httpObs.Add(1) })}
	if marks != nil {
		opts.Marks = marks
	}
	eng, err := orchestrator.Build(ctx, f, opts)
	if err != nil {
		t.Fatalf("orchestrator.Build: %v", err)
	}
	if c, ok := any(eng).(interface{ Close() error }); ok {
		t.Cleanup(func() { _ = c.Close() })
	}
	return eng
}

func (w *world) run(t *testing.T, eng *orchestrator.Engine) orchestrator.RunResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rs := eng.RunAll(ctx)
	if len(rs) != 1 {
		t.Fatalf("RunAll returned %d results, want 1", len(rs))
	}
	w.checkNoSecret(t, rs[0])
	return rs[0]
}

// checkNoSecret: the secret is in no failure, result or log line, and was
// not even attempted (the redaction mask never shows).
func (w *world) checkNoSecret(t *testing.T, r orchestrator.RunResult) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{"result": string(b), "failures": strings.Join(r.Failures(), "\n"), "logs": w.logs.String()}
	for i := range r.Steps {
		texts["message of "+r.Steps[i].Pipe] = r.Steps[i].Message
	}
	for what, s := range texts {
		if strings.Contains(s, w.d.secretValue) {
			t.Errorf("the secret appears in the %s", what)
		}
		if what != "logs" && strings.Contains(s, secret.Mask) {
			t.Errorf("the %s carries a redacted secret: %s", what, s)
		}
	}
}

func (w *world) idsOf(k kind) []string {
	var out []string
	for _, id := range w.order {
		if w.ids[id] == k {
			out = append(out, id)
		}
	}
	return out
}

// checkTriaged: moved tickets are in their queue with their priority and
// one internal otai note; hints have one note and did not move; unknown
// and outside tickets are as they were. skip leaves tickets out.
func (w *world) checkTriaged(t *testing.T, skip ...string) {
	t.Helper()
	d := w.d
	for _, id := range w.order {
		if slices.Contains(skip, id) {
			continue
		}
		k, got, was := w.ids[id], d.state(id), w.initial[id]
		switch k {
		case unknown, outside:
			if got.Queue != was.Queue || got.Priority != was.Priority || len(got.Notes) != len(was.Notes) || !got.Updated.Equal(was.Updated) {
				t.Errorf("ticket %s (kind %d) was touched: %+v, was %+v", id, k, got, was)
			}
			continue
		case billing:
			if got.Queue != d.billing || got.Priority != d.stateBilling {
				t.Errorf("invoice ticket %s in %s/%s, want %s/%s", id, got.Queue, got.Priority, d.billing, d.stateBilling)
			}
		case hardware:
			if got.Queue != d.hardware || got.Priority != d.stateHardware {
				t.Errorf("hardware ticket %s in %s/%s, want %s/%s", id, got.Queue, got.Priority, d.hardware, d.stateHardware)
			}
		case hint:
			if got.Queue != was.Queue || got.Priority != was.Priority {
				t.Errorf("hint ticket %s moved to %s/%s", id, got.Queue, got.Priority)
			}
		}
		if len(got.Notes) != 1 {
			t.Errorf("ticket %s has %d notes, want exactly one: %+v", id, len(got.Notes), got.Notes)
			continue
		}
		n := got.Notes[0]
		if !n.Internal {
			t.Errorf("ticket %s: the note is visible to the customer: %+v", id, n)
		}
		label := d.billing
		if k != billing {
			label = d.hardware
		}
		if !strings.Contains(n.Body, "otai: "+label) || !strings.Contains(n.Body, "otai-ref:") {
			t.Errorf("ticket %s: note %q does not name %s or carry its reference", id, n.Body, label)
		}
	}
}

func processed() int { return countKinds(billing, hardware, hint) }

func countKinds(ks ...kind) int {
	n := 0
	for _, s := range corpus {
		if slices.Contains(ks, s.kind) {
			n++
		}
	}
	return n
}

// testTriage is the whole scenario for one help desk.
func testTriage(t *testing.T, d *desk) {
	w := seed(t, d)
	start := time.Now()

	r := w.run(t, w.engine)
	if r.Status != pipe.StatusSucceeded || len(r.Failures()) != 0 {
		t.Fatalf("first run %s: %q\nlogs:\n%s", r.Status, r.Failures(), w.logs)
	}
	c := r.Counts()
	if c[pipe.StatusSucceeded] != len(corpus) || c[pipe.StatusFailed] != 0 {
		t.Errorf("first run counts %v, want %d succeeded", c, len(corpus))
	}
	w.checkTriaged(t)
	if w.httpObs.Load() == 0 {
		t.Errorf("the adapter reported no HTTP request to the engine's metrics hook")
	}
	moves := countKinds(billing, hardware)
	if got, want := d.writes(), moves+processed(); got != want {
		t.Errorf("first run made %d writes, want %d (%d moves, %d notes)", got, want, moves, processed())
	}
	writes := d.writes()

	// Second run, same state store: the hints and unknown tickets are
	// still in the inbox, and every one is skipped as already processed.
	r = w.run(t, w.engine)
	if r.Status != pipe.StatusSucceeded {
		t.Fatalf("second run %s: %q", r.Status, r.Failures())
	}
	if c := r.Counts(); c[pipe.StatusSkipped] != countKinds(hint, unknown) || c[pipe.StatusSucceeded] != 0 {
		t.Errorf("second run counts %v, want %d skipped", c, countKinds(hint, unknown))
	}
	if got := d.writes(); got != writes {
		t.Errorf("second run made %d more writes", got-writes)
	}
	w.checkTriaged(t)

	// A third run without the state store (say, a new data directory):
	// the hints are classified again, but their note is found by its
	// reference and not written twice.
	r = w.run(t, build(t, w, nil))
	if r.Status != pipe.StatusSucceeded {
		t.Fatalf("third run %s: %q", r.Status, r.Failures())
	}
	if got := d.writes(); got != writes {
		t.Errorf("third run made %d more writes", got-writes)
	}
	w.checkTriaged(t)
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("three runs took %v", el)
	}
}

// testOneTicketFails: the help desk refuses the update of one invoice
// ticket; that ticket fails (and is not noted), the others are triaged,
// and the next run retries only the failed one.
func testOneTicketFails(t *testing.T, d *desk) {
	w := seed(t, d)
	bad := w.idsOf(billing)[2]
	var on atomic.Bool
	on.Store(true)
	d.failUpdatesOf(bad, &on)

	r := w.run(t, w.engine)
	if r.Status != pipe.StatusFailed {
		t.Errorf("run status %s, want failed", r.Status)
	}
	fs := r.Failures()
	if len(fs) != 1 || !strings.HasPrefix(fs[0], "ticket "+bad+": move: ") || !strings.Contains(fs[0], d.failureMessage) {
		t.Fatalf("Failures() = %q, want one for ticket %s naming %q", fs, bad, d.failureMessage)
	}
	if c := r.Counts(); c[pipe.StatusFailed] != 1 || c[pipe.StatusSucceeded] != len(corpus)-1 {
		t.Errorf("counts %v", c)
	}
	if got, was := d.state(bad), w.initial[bad]; got.Queue != was.Queue || len(got.Notes) != 0 {
		t.Errorf("failed ticket %s was changed: %+v", bad, got)
	}
	w.checkTriaged(t, bad)

	// The help desk accepts it again: the next run retries only that one.
	on.Store(false)
	writes := d.writes()
	r = w.run(t, w.engine)
	if r.Status != pipe.StatusSucceeded || len(r.Failures()) != 0 {
		t.Fatalf("retry run %s: %q", r.Status, r.Failures())
	}
	if c := r.Counts(); c[pipe.StatusSucceeded] != 1 {
		t.Errorf("retry run counts %v, want 1 succeeded", c)
	}
	if got := d.writes() - writes; got != 2 {
		t.Errorf("retry run made %d writes, want 2 (move and note)", got)
	}
	w.checkTriaged(t)
}
