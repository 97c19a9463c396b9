package e2e_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/secret"
	"github.com/otai-dev/otai/state"
	"github.com/otai-dev/otai/ticketsystem/otobo/otobofake"
)

// The fault run: tickets go through fetch -> classify -> move -> note
// against an OTOBO fake that fails 20% of its requests in every way a
// help desk and the network between fail (429 with Retry-After, the GI's
// 500, 503, timeouts, truncated and malformed JSON, reset connections),
// half of the write faults after the write took effect. The runner runs
// again until no ticket fails; then every ticket must be triaged exactly
// once in effect: in its queue with its priority and exactly one otai
// note, none lost, none noted twice, nothing else touched.
//
// 2,000 tickets in the normal suite (200 with -short); OTAI_FAULTS_FULL=1
// runs 10,000 (docs/reliability-faults.md has the figures and command).
// OTAI_FAULTS_SEED changes the RNG seed (default 20260101);
// OTAI_FAULTS_ORDER=note-move notes before moving (the default is the
// issue's order, move then note: a ticket whose move succeeded and whose
// note failed has left the inbox, and only the for-each's resume journal
// brings it back).

const (
	faultRate      = 0.20
	adapterTimeout = 400 * time.Millisecond // the adapter's timeout in the config
	faultLimit     = 250                    // tickets per fetch
	faultConc      = 16                     // tickets worked on at once
)

// faultsConfig is the run's config. moveFirst (the default, see
// OTAI_FAULTS_ORDER above) puts the move before the note (fetch ->
// classify -> update -> note, as in the README and the issue); without it
// the note comes first, as the config text below is written.
func faultsConfig(baseURL string, moveFirst bool) string {
	y := fmt.Sprintf(`
services:
  - id: desk
    use: otobo-znuny:OTOBOZnunyTicketSystemService
    params:
      base_url: %s
      webservice_name: GenericTicketConnectorREST
      username: otai-faults
      password: '${{ secrets.OTOBO_PASSWORD }}'
      timeout: %s
  - id: rules
    use: base:RuleClassifier
    params:
      rules:
        - { label: Billing, keywords: [invoice, refund, Rechnung], confidence: 0.9 }
        - { label: Hardware, keywords: [printer, laptop, monitor], confidence: 0.85 }
pipes:
  - id: fetch
    use: base:FetchTicketsPipe
    params:
      ticket_system: desk
      ticket_search_criteria: { queue: { name: Inbox }, created_since: 2020-01-01T00:00:00Z, limit: %d }
  - id: triage
    use: base:ForEachTicketPipe
    params: { tickets: '{{ pipes.fetch.tickets }}', concurrency: %d }
    steps:
      - id: classify
        use: base:ClassifyPipe
        params: { classifier: rules }
      # Written note first; faultsConfig swaps note and move unless
      # OTAI_FAULTS_ORDER=note-move. Either order is safe: a ticket whose
      # move succeeded and whose note failed has left the inbox, and the
      # for-each's resume journal brings it back (docs/reliability-faults.md).
      - id: note
        use: base:AddNotePipe
        if: '{{ pipes.classify.confidence >= 0.7 }}'
        params:
          ticket_system: desk
          note: { body: 'otai: {{ pipes.classify.label }} ({{ percent(pipes.classify.confidence) }})' }
      - id: move
        use: base:UpdateTicketPipe
        if: '{{ pipes.classify.confidence >= 0.7 }}'
        params:
          ticket_system: desk
          updates:
            queue: { name: '{{ pipes.classify.label }}' }
            priority: { name: '{{ pipes.classify.label == "Billing" ? "2 low" : "4 high" }}' }
orchestrator:
  runners:
    - id: triage-inbox
      pipes: [fetch, triage]
      triggers: [ { once: true } ]
`, baseURL, adapterTimeout, faultLimit, faultConc)
	if moveFirst {
		a, b, c := strings.Index(y, "      - id: note\n"), strings.Index(y, "      - id: move\n"), strings.Index(y, "orchestrator:\n")
		y = y[:a] + y[b:c] + y[a:b] + y[c:]
	}
	return y
}

var (
	billingSubjects  = []string{"Invoice %d lists two licences", "Refund for order %d", "Rechnung %d fehlt", "Invoice %d: wrong address"}
	hardwareSubjects = []string{"Printer %d jams", "Laptop %d does not boot", "Monitor %d flickers", "Printer %d offline"}
)

type faultTicket struct {
	id       string
	kind     kind // billing, hardware, unknown (in the inbox, matches nothing), outside (not in the inbox)
	original otobofake.Ticket
}

func faultTickets() int {
	switch {
	case os.Getenv("OTAI_FAULTS_FULL") == "1":
		return 10000
	case testing.Short():
		return 200
	}
	return 2000
}

func TestFaults(t *testing.T) {
	n := faultTickets()
	seed := uint64(20260101)
	if s := os.Getenv("OTAI_FAULTS_SEED"); s != "" {
		if _, err := fmt.Sscan(s, &seed); err != nil {
			t.Fatalf("OTAI_FAULTS_SEED=%q: %v", s, err)
		}
	}
	const password = "faults-otobo-Pa55w0rd-7d1e"
	t.Setenv("OTAI_SECRET_OTOBO_PASSWORD", password)
	srv := otobofake.New(otobofake.Options{NoRequestLog: true})
	t.Cleanup(srv.Close)
	srv.AddAgent("otai-faults", password)
	for _, q := range []string{"Inbox", "Billing", "Hardware", "Sales"} {
		srv.AddQueue(q)
	}

	// n tickets to triage, oldest first; then 10 in the inbox that match
	// no rule and 10 in other queues that do: neither may be touched.
	base := time.Now().UTC().Add(-30 * 24 * time.Hour).Truncate(time.Second)
	var tickets []faultTicket
	add := func(subject, queue string, k kind, at time.Time) {
		id := srv.AddTicket(otobofake.Ticket{Title: subject, Body: "Ticket text: " + subject + ".", Queue: queue, Created: at})
		tk, _ := srv.Ticket(id)
		tickets = append(tickets, faultTicket{id: id, kind: k, original: tk})
	}
	for i := range n {
		at := base.Add(time.Duration(i) * time.Second)
		if i%2 == 0 {
			add(fmt.Sprintf(billingSubjects[i/2%len(billingSubjects)], 1000+i), "Inbox", billing, at)
		} else {
			add(fmt.Sprintf(hardwareSubjects[i/2%len(hardwareSubjects)], 1000+i), "Inbox", hardware, at)
		}
	}
	for i := range 10 {
		at := base.Add(time.Duration(n+i) * time.Second)
		add(fmt.Sprintf("Lunch menu %d", i), "Inbox", unknown, at)
		add(fmt.Sprintf("Invoice %d paid", i), []string{"Billing", "Sales"}[i%2], outside, at)
	}

	in := newInjector(seed, faultRate, adapterTimeout)
	in.install(srv)

	st, err := state.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f, err := config.Parse("faults.yml", []byte(faultsConfig(srv.BaseURL, os.Getenv("OTAI_FAULTS_ORDER") != "note-move")), config.Options{Secrets: secret.Resolver{Dir: t.TempDir()}.Lookup})
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	var observedRetries atomic.Int64 // what the engine passes on to its own hook
	eng, err := orchestrator.Build(context.Background(), f, orchestrator.Options{
		Logger: slog.New(slog.DiscardHandler), DataDir: t.TempDir(), Env: map[string]any{},
		Marks: st, Decisions: st,
		HTTPMetrics: httpx.HookFunc(func(o httpx.Observation) {
			if o.Attempt > 0 {
				observedRetries.Add(1)
			}
		}),
	})
	if err != nil {
		t.Fatalf("orchestrator.Build: %v", err)
	}
	t.Cleanup(func() { _ = eng.Close() })

	// Run until a run fails no ticket and has nothing left to do.
	start := time.Now()
	maxCycles := 3*(n/faultLimit) + 60
	var cycles, retries, failedRuns, failedFetches, ticketFailures int
	samples := map[string]int{} // failure messages, by their shape
	done := false
	for cycles < maxCycles && !done {
		cycles++
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		rs := eng.RunAll(ctx)
		cancel()
		if len(rs) != 1 {
			t.Fatalf("RunAll returned %d results", len(rs))
		}
		r := rs[0]
		retries += r.HTTPRetries
		c := r.Counts()
		ticketFailures += c[pipe.StatusFailed]
		if r.Status == pipe.StatusFailed {
			failedRuns++
		}
		if len(r.Steps) > 0 && r.Steps[0].Status == pipe.StatusFailed {
			failedFetches++
		}
		for _, msg := range r.Failures() {
			samples[failureShape(msg)]++
		}
		done = r.Status == pipe.StatusSucceeded && c[pipe.StatusFailed] == 0 && c[pipe.StatusSucceeded] == 0
	}
	wall := time.Since(start)
	in.off.Store(true)
	if !done {
		t.Errorf("still failing after %d runs", cycles)
	}

	// The help desk as the runs left it.
	var lost, doubled, touched, notes int
	var examples []string
	for _, ft := range tickets {
		got, _ := srv.Ticket(ft.id)
		var refs int
		for _, a := range got.Articles[1:] {
			if strings.Contains(a.Body, "otai-ref:") {
				refs++
			}
		}
		notes += len(got.Articles) - 1
		switch ft.kind {
		case unknown, outside:
			if got.Queue != ft.original.Queue || got.Priority != ft.original.Priority || len(got.Articles) != len(ft.original.Articles) || !got.Changed.Equal(ft.original.Changed) {
				touched++
				examples = append(examples, fmt.Sprintf("ticket %s (%s) touched: %s/%s, %d articles", ft.id, ft.original.Title, got.Queue, got.Priority, len(got.Articles)))
			}
			continue
		}
		wantQ, wantP := "Billing", "2 low"
		if ft.kind == hardware {
			wantQ, wantP = "Hardware", "4 high"
		}
		if refs > 1 {
			doubled++
		}
		if got.Queue != wantQ || got.Priority != wantP || refs == 0 {
			lost++
		}
		if got.Queue != wantQ || got.Priority != wantP || refs != 1 || len(got.Articles) != 2 {
			if len(examples) < 10 {
				examples = append(examples, fmt.Sprintf("ticket %s (%s): %s/%s, %d otai notes, %d articles", ft.id, ft.original.Title, got.Queue, got.Priority, refs, len(got.Articles)))
			}
		} else {
			a := got.Articles[1]
			if a.Channel != "Internal" || a.IsVisibleForCustomer || !strings.Contains(a.Body, "otai: "+wantQ) {
				t.Errorf("ticket %s: note %+v is not the internal otai note naming %s", ft.id, a, wantQ)
			}
		}
	}
	if lost != 0 || doubled != 0 || touched != 0 || notes != n {
		t.Errorf("lost %d, doubled %d, touched %d, notes %d (want 0, 0, 0, %d):\n  %s", lost, doubled, touched, notes, n, strings.Join(examples, "\n  "))
	}
	if got := observedRetries.Load(); int64(retries) != got {
		t.Errorf("the run results count %d retries, the engine's HTTP hook saw %d", retries, got)
	}
	before, after := in.total()
	if retries == 0 || before+after == 0 {
		t.Errorf("no retries (%d) or no faults (%d)", retries, before+after)
	}

	// The report.
	var b strings.Builder
	order := "note, move"
	if os.Getenv("OTAI_FAULTS_ORDER") != "note-move" {
		order = "move, note"
	}
	fmt.Fprintf(&b, "fault run: %d tickets (%s), seed %d, %.0f%% of requests failed, adapter timeout %s, fetch limit %d, concurrency %d\n",
		n, order, seed, faultRate*100, adapterTimeout, faultLimit, faultConc)
	fmt.Fprintf(&b, "  requests %d (TicketSearch %d, TicketGet %d, TicketUpdate %d, SessionCreate %d)\n",
		srv.Calls(""), srv.Calls("TicketSearch"), srv.Calls("TicketGet")+srv.Calls("TicketGetList"), srv.Calls("TicketUpdate"), srv.Calls("SessionCreate"))
	fmt.Fprintf(&b, "  injected %d failures (%d before the effect, %d after a write took effect):\n", before+after, before, after)
	for k := range nFaultKinds {
		fmt.Fprintf(&b, "    %-17s %6d  (%d after the effect)\n", k, in.before[k].Load()+in.after[k].Load(), in.after[k].Load())
	}
	fmt.Fprintf(&b, "  HTTP retries %d; runs %d (%d with failures, %d whose fetch failed); ticket failures %d\n",
		retries, cycles, failedRuns, failedFetches, ticketFailures)
	fmt.Fprintf(&b, "  lost %d, doubled %d, touched %d; wall time %s\n", lost, doubled, touched, wall.Round(100*time.Millisecond))
	fmt.Fprintf(&b, "  failures by shape:\n")
	for shape, cnt := range samples {
		fmt.Fprintf(&b, "    %6d  %s\n", cnt, shape)
	}
	t.Log("\n" + b.String())
}

// failureShape strips ticket ids and numbers from a failure, so that
// failures group by cause.
func failureShape(s string) string {
	var b strings.Builder
	digits := false
	for _, r := range s {
		if r >= '0' && r <= '9' {
			if !digits {
				b.WriteByte('#')
			}
			digits = true
			continue
		}
		digits = false
		b.WriteRune(r)
	}
	out := b.String()
	if len(out) > 160 {
		out = out[:160] + "…"
	}
	return out
}

// TestRetriesCountedWithoutHook: the run result counts retries even when
// the engine was given no HTTP metrics hook.
func TestRetriesCountedWithoutHook(t *testing.T) {
	const password = "faults-otobo-Pa55w0rd-7d1e"
	t.Setenv("OTAI_SECRET_OTOBO_PASSWORD", password)
	srv := otobofake.New(otobofake.Options{})
	t.Cleanup(srv.Close)
	srv.AddAgent("otai-faults", password)
	srv.AddQueue("Inbox")
	var searches atomic.Int64
	srv.Use(func(r *otobofake.Request) *otobofake.Reply {
		if r.Operation == "TicketSearch" && searches.Add(1) <= 2 {
			return &otobofake.Reply{Status: 429, Header: map[string][]string{"Retry-After": {"0.01"}}, Body: "slow down"}
		}
		return nil
	})
	f, err := config.Parse("retries.yml", []byte(faultsConfig(srv.BaseURL, false)), config.Options{Secrets: secret.Resolver{Dir: t.TempDir()}.Lookup})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := orchestrator.Build(context.Background(), f, orchestrator.Options{Env: map[string]any{}, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	for i, want := range []int{2, 0} {
		r := eng.RunAll(context.Background())[0]
		if r.Status != pipe.StatusSucceeded || r.HTTPRetries != want {
			t.Errorf("run %d: %s, %d HTTP retries, want succeeded with %d: %q", i+1, r.Status, r.HTTPRetries, want, r.Failures())
		}
	}
}
