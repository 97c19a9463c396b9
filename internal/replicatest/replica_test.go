// Package replicatest runs several `otai run` processes against one
// PostgreSQL state store and one help desk, kills one of them, and checks
// that they split the work, never process a ticket twice, and take over
// the dead one's tickets when its leases run out.
package replicatest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/otai-dev/otai/internal/cli"
	"github.com/otai-dev/otai/internal/replicatest/pgtest"
	"github.com/otai-dev/otai/ticketsystem/otobo/otobofake"
)

// TestMain lets the test binary act as the otai binary, so the test can
// start replicas as real processes and kill them.
func TestMain(m *testing.M) {
	if os.Getenv("OTAI_TEST_AS_MAIN") == "1" {
		os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// Figures of the run; env overrides make the test a benchmark too.
var (
	numTickets = envInt("OTAI_REPLICA_TICKETS", 600)
	numProcs   = envInt("OTAI_REPLICA_PROCESSES", 3)
	latency    = time.Duration(envInt("OTAI_REPLICA_LATENCY_MS", 10)) * time.Millisecond
)

const (
	claimTTL = 3 * time.Second
	password = "replica-otobo-Pa55-7c1e"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newDesk is an OTOBO fake with n inbox tickets, alternately for Billing
// and Hardware; want maps ticket ids to the queue each belongs in.
func newDesk(t *testing.T, n int) (fake *otobofake.Server, want map[string]string) {
	fake = otobofake.New(otobofake.Options{Latency: latency})
	t.Cleanup(fake.Close)
	fake.AddAgent("otai-replica", password)
	for _, q := range []string{"Inbox", "Billing", "Hardware"} {
		fake.AddQueue(q)
	}
	want = map[string]string{}
	base := time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
	subjects := []struct{ s, q string }{{"Invoice %d is wrong", "Billing"}, {"Printer %d jams", "Hardware"},
		{"Refund for order %d", "Billing"}, {"Laptop %d does not boot", "Hardware"}}
	for i := range n {
		s := subjects[i%len(subjects)]
		id := fake.AddTicket(otobofake.Ticket{Title: fmt.Sprintf(s.s, i), Body: "Please help.", Queue: "Inbox",
			Created: base.Add(time.Duration(i) * time.Second)})
		want[id] = s.q
	}
	return fake, want
}

func writeConfig(t *testing.T, dir, baseURL string) string {
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(configYAML(baseURL)), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startReplica starts `otai run` (this test binary as otai); it is
// killed when the test ends, if still running.
func startReplica(t *testing.T, n int, cfg, dataDir string, env ...string) *replica {
	r := &replica{n: n, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	r.cmd = exec.Command(os.Args[0], "run", "--config", cfg, "--data-dir", dataDir, "--grace", "10s")
	r.cmd.Env = append(append(os.Environ(), "OTAI_TEST_AS_MAIN=1", "OTAI_SECRET_OTOBO_PASSWORD="+password), env...)
	r.cmd.Stdout, r.cmd.Stderr = r.stdout, r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() { r.cmd.Process.Kill() })
	return r
}

func dumpAll(reps []*replica) string {
	var b strings.Builder
	for _, r := range reps {
		fmt.Fprintf(&b, "\n--- replica %d (pid %d) stderr:\n%s", r.n, r.cmd.Process.Pid, r.tail())
	}
	return b.String()
}

// writes counts the notes written and the moves made per ticket.
func writes(fake *otobofake.Server) (notes, moves map[string]int) {
	notes, moves = map[string]int{}, map[string]int{}
	for _, req := range fake.Requests() {
		if req.Operation != "TicketUpdate" {
			continue
		}
		id := fmt.Sprint(req.Data["TicketID"])
		if req.Data["Article"] != nil {
			notes[id]++
		}
		if tk, ok := req.Data["Ticket"].(map[string]any); ok && (tk["Queue"] != nil || tk["QueueID"] != nil) {
			moves[id]++
		}
	}
	return notes, moves
}

// inboxEmpty reports whether every ticket has left the inbox.
func inboxEmpty(fake *otobofake.Server, want map[string]string) bool {
	for id := range want {
		if tk, _ := fake.Ticket(id); tk.Queue == "Inbox" {
			return false
		}
	}
	return true
}

// stop sends SIGINT and expects a clean exit.
func stop(t *testing.T, reps []*replica) {
	for _, r := range reps {
		r.cmd.Process.Signal(syscall.SIGINT)
	}
	for _, r := range reps {
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("replica %d exited with %v after SIGINT%s", r.n, err, dumpAll(reps))
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("replica %d did not stop after SIGINT%s", r.n, dumpAll(reps))
		}
	}
}

type replica struct {
	stdout *syncBuffer
	n      int
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
}

func (r *replica) tail() string {
	s := r.stderr.String()
	if len(s) > 4000 {
		s = "..." + s[len(s)-4000:]
	}
	return s
}

func configYAML(baseURL string) string {
	return fmt.Sprintf(`
services:
  - id: desk
    use: otobo-znuny:OTOBOZnunyTicketSystemService
    params:
      base_url: %s
      webservice_name: GenericTicketConnectorREST
      username: otai-replica
      password: '${{ secrets.OTOBO_PASSWORD }}'
      timeout: 10s
  - id: rules
    use: base:RuleClassifier
    params:
      rules:
        - { label: Billing, keywords: [invoice, refund], confidence: 0.9 }
        - { label: Hardware, keywords: [printer, laptop], confidence: 0.85 }
pipes:
  - id: fetch
    use: base:FetchTicketsPipe
    params:
      ticket_system: desk
      ticket_search_criteria: { queue: { name: Inbox }, limit: 100 }
  - id: triage
    use: base:ForEachTicketPipe
    params: { tickets: '{{ pipes.fetch.tickets }}', concurrency: 4, claim_ttl: %s }
    steps:
      - id: classify
        use: base:ClassifyPipe
        params: { classifier: rules }
      # The note comes before the move: a replica killed between the two
      # leaves the ticket in the inbox, where another one finds it (and
      # the note it already has).
      - id: note
        use: base:AddNotePipe
        params:
          ticket_system: desk
          note: { body: 'otai: {{ pipes.classify.label }}' }
      - id: move
        use: base:UpdateTicketPipe
        params:
          ticket_system: desk
          updates: { queue: { name: '{{ pipes.classify.label }}' } }
orchestrator:
  runners:
    - id: triage-inbox
      pipes: [fetch, triage]
      triggers: [ { interval: 1s } ]
`, baseURL, claimTTL)
}

// decision is one row of the decisions table.
type decision struct {
	owner, ticket, outcome string
	at                     time.Time
}

// TestReplicas: numProcs `otai run` processes share one PostgreSQL and one
// OTOBO (fake, with latency on every request); one is killed with SIGKILL
// a third of the way through. Every ticket ends up triaged exactly once,
// every replica did part of the work, and the killed one's leased tickets
// are taken over once it is dead (at once: the replicas share a machine,
// so pipe.OwnerGone sees that it stopped).
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and three otai processes")
	}
	pg := pgtest.Start(t)
	dsn := pg.NewDatabase(t)
	ctx := context.Background()
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)

	fake, want := newDesk(t, numTickets)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fake.BaseURL)
	start := time.Now()
	var reps []*replica
	for i := range numProcs {
		reps = append(reps, startReplica(t, i, cfg, filepath.Join(dir, fmt.Sprint("replica", i)), cli.StateDSNEnv+"="+dsn))
	}
	dump := func() string { return dumpAll(reps) }
	ownerOf := func(owner string) int { // owner is host/pid/random/machine (pipe.NewOwner)
		parts := strings.Split(owner, "/")
		if len(parts) >= 3 {
			pid, _ := strconv.Atoi(parts[1])
			for _, r := range reps {
				if r.cmd.Process.Pid == pid {
					return r.n
				}
			}
		}
		return -1
	}
	decisions := func() []decision {
		rows, err := db.Query(ctx, "SELECT owner, ticket_id, outcome, at FROM decisions WHERE NOT dry_run ORDER BY at")
		if err != nil {
			t.Fatalf("reading decisions: %v%s", err, dump())
		}
		ds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (decision, error) {
			var d decision
			err := r.Scan(&d.owner, &d.ticket, &d.outcome, &d.at)
			return d, err
		})
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}

	// The replicas create the schema.
	deadline := time.Now().Add(time.Minute)
	for {
		var ok bool
		if err := db.QueryRow(ctx, "SELECT to_regclass('decisions') IS NOT NULL").Scan(&ok); err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no replica created the schema within a minute%s", dump())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Kill replica 0 a third of the way through, while it holds leases.
	victim := reps[0]
	var victimOwner string
	deadline = time.Now().Add(3 * time.Minute)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("replica 0 never got a third of the way with tickets in flight%s", dump())
		}
		select {
		case err := <-victim.done:
			t.Fatalf("replica 0 exited early: %v%s", err, dump())
		default:
		}
		ds := decisions()
		if victimOwner == "" {
			for _, d := range ds {
				if ownerOf(d.owner) == 0 {
					victimOwner = d.owner
					break
				}
			}
		}
		// Tickets in flight: leased and not yet marked processed (a lease
		// on a marked ticket is one the replica is about to skip).
		inFlight := func() int {
			var n int
			if victimOwner != "" {
				if err := db.QueryRow(ctx, `SELECT count(*) FROM claims c LEFT JOIN processed p ON p.key = c.key
  WHERE c.owner = $1 AND p.key IS NULL`, victimOwner).Scan(&n); err != nil {
					t.Fatal(err)
				}
			}
			return n
		}
		if len(ds) >= numTickets/3 && inFlight() >= 2 {
			// Freeze it and look again: between the look and the kill
			// a running replica may finish its run and give its leases
			// back, and then there is nothing to take over.
			if err := victim.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			if inFlight() >= 1 {
				break
			}
			if err := victim.cmd.Process.Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	type orphan struct {
		ticket  string
		expires time.Time
	}
	var orphans []orphan
	rows, err := db.Query(ctx, "SELECT key, expires_at FROM claims WHERE owner = $1", victimOwner)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var key string
		var exp time.Time
		if err := rows.Scan(&key, &exp); err != nil {
			t.Fatal(err)
		}
		orphans = append(orphans, orphan{ticket: key[strings.LastIndex(key, "/")+1:], expires: exp})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// The leases were read while the victim was frozen: once it is dead,
	// the others take them over at once (same machine, its pid is gone),
	// so reading them after the kill finds none.
	killAt := time.Now()
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.done
	doneAtKill := len(decisions())
	t.Logf("killed replica 0 (pid %d) after %s with %d of %d tickets decided; it left %d leases",
		victim.cmd.Process.Pid, killAt.Sub(start).Round(time.Millisecond), doneAtKill, numTickets, len(orphans))
	if len(orphans) == 0 {
		t.Fatalf("the killed replica held no lease: nothing to take over%s", dump())
	}

	// Wait until every ticket is out of the inbox and the leases the dead
	// replica held are taken over (or its tickets were finished by it).
	settled := func() bool {
		if !inboxEmpty(fake, want) {
			return false
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT count(*) FROM claims WHERE owner = $1", victimOwner).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0 || time.Now().After(slices.MaxFunc(orphans, func(a, b orphan) int { return a.expires.Compare(b.expires) }).expires.Add(5*time.Second))
	}
	deadline = time.Now().Add(3 * time.Minute)
	for !settled() {
		if time.Now().After(deadline) {
			t.Fatalf("tickets still in the inbox after 3 minutes%s", dump())
		}
		for _, r := range reps[1:] {
			select {
			case err := <-r.done:
				t.Fatalf("replica %d exited: %v%s", r.n, err, dump())
			default:
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	finished := time.Now()
	time.Sleep(1500 * time.Millisecond) // one more cycle: nothing left to do
	stop(t, reps[1:])

	// Every ticket triaged once: one note, the right queue, one move.
	notes, moves := writes(fake)
	isOrphan := map[string]bool{}
	for _, o := range orphans {
		isOrphan[o.ticket] = true
	}
	dupNotes, dupMoves := 0, 0
	for id, q := range want {
		tk, _ := fake.Ticket(id)
		if tk.Queue != q {
			t.Errorf("ticket %s is in %q, want %q", id, tk.Queue, q)
		}
		if n := len(tk.Articles) - 1; n != 1 {
			t.Errorf("ticket %s has %d notes, want 1", id, n)
		}
		if notes[id] != 1 {
			dupNotes++
			t.Errorf("ticket %s: %d notes written, want 1", id, notes[id])
		}
		// A lease the dead replica left may be taken over by a replica
		// that fetched the ticket before the dead one moved it and died
		// before marking it: the same move is written again, harmlessly.
		if moves[id] != 1 {
			dupMoves++
			if !isOrphan[id] || moves[id] > 2 {
				t.Errorf("ticket %s: moved %d times, want once", id, moves[id])
			}
		}
	}

	// Decisions: at most one succeeded per ticket; one for every ticket
	// but those the dead replica finished writing and died before
	// recording; none failed.
	ds := decisions()
	perTicket := map[string][]decision{}
	perReplica := make([]int, numProcs)
	for _, d := range ds {
		if d.outcome != "succeeded" {
			t.Errorf("ticket %s: decision %s by %s", d.ticket, d.outcome, d.owner)
			continue
		}
		perTicket[d.ticket] = append(perTicket[d.ticket], d)
		if n := ownerOf(d.owner); n >= 0 {
			perReplica[n]++
		} else {
			t.Errorf("decision of ticket %s by an unknown owner %q", d.ticket, d.owner)
		}
	}
	dupDecisions, undecided := 0, 0
	for id := range want {
		switch n := len(perTicket[id]); {
		case n > 1:
			dupDecisions++
			t.Errorf("ticket %s processed %d times: %+v", id, n, perTicket[id])
		case n == 0 && !isOrphan[id]:
			t.Errorf("ticket %s has no decision", id)
		case n == 0:
			undecided++
		}
	}
	for i, n := range perReplica {
		if n == 0 {
			t.Errorf("replica %d processed no ticket: the work was not split (per replica: %v)", i, perReplica)
		}
	}

	// Take-over: each lease the dead replica held was taken by another
	// replica no earlier than it expired.
	var takeovers []time.Duration
	byVictim, before, early := 0, 0, 0
	for _, o := range orphans {
		ds := perTicket[o.ticket]
		claimed := o.expires.Add(-claimTTL)
		switch {
		case len(ds) == 1 && ownerOf(ds[0].owner) == 0:
			byVictim++ // finished and recorded; killed before the release
		case len(ds) == 1 && ds[0].at.Before(claimed):
			// Done by another replica before the dead one leased it (it
			// would have found the mark and skipped the ticket).
			before++
		case len(ds) == 1:
			// The replicas run on one machine, so a replica finds the
			// dead one's leases at once (pipe.OwnerGone) rather than when
			// they expire; but never while it still ran.
			if ds[0].at.Before(killAt) {
				t.Errorf("ticket %s was taken over at %s, before the replica holding it was killed at %s",
					o.ticket, ds[0].at.Format(time.RFC3339Nano), killAt.Format(time.RFC3339Nano))
			}
			if ds[0].at.Before(o.expires) {
				early++
			}
			takeovers = append(takeovers, ds[0].at.Sub(killAt))
		}
	}
	if len(takeovers) == 0 {
		t.Errorf("no lease of the dead replica was taken over (%d on tickets done before, %d finished by it, %d written but unrecorded)",
			before, byVictim, undecided)
	}
	slices.Sort(takeovers)
	var tk string
	if len(takeovers) > 0 {
		tk = fmt.Sprintf("%s to %s after the kill", takeovers[0].Round(time.Millisecond), takeovers[len(takeovers)-1].Round(time.Millisecond))
	}
	t.Logf("%d tickets, %d replicas, 1 killed (SIGKILL) at %d decided; all triaged %s after start; per replica %v (replica 0 killed); "+
		"duplicate notes %d, duplicate moves %d, duplicate decisions %d; leases of the dead replica %d: taken over %d (%s, %d before they expired, claim_ttl %s), "+
		"finished by it before the kill %d, done by others before it leased them %d, written but unrecorded %d; latency %s per request",
		numTickets, numProcs, doneAtKill, finished.Sub(start).Round(time.Millisecond), perReplica,
		dupNotes, dupMoves, dupDecisions, len(orphans), len(takeovers), tk, early, claimTTL, byVictim, before, undecided, latency)
	if t.Failed() {
		t.Log(dump())
	}
}

// TestReplicasSharedSQLite: two `otai run` processes on one host sharing
// a data directory (and so state.db, with its leases) and no PostgreSQL
// split the inbox without triaging a ticket twice.
func TestReplicasSharedSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two otai processes")
	}
	const n = 200
	fake, want := newDesk(t, n)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fake.BaseURL)
	data := filepath.Join(dir, "data")
	var reps []*replica
	for i := range 2 {
		reps = append(reps, startReplica(t, i, cfg, data))
	}
	deadline := time.Now().Add(3 * time.Minute)
	for !inboxEmpty(fake, want) {
		if time.Now().After(deadline) {
			t.Fatalf("tickets still in the inbox after 3 minutes%s", dumpAll(reps))
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	stop(t, reps)
	notes, moves := writes(fake)
	for id, q := range want {
		if tk, _ := fake.Ticket(id); tk.Queue != q || len(tk.Articles) != 2 || notes[id] != 1 || moves[id] != 1 {
			t.Errorf("ticket %s: in %q (want %q), %d notes, %d written, %d moves; want one of each",
				id, tk.Queue, q, len(tk.Articles)-1, notes[id], moves[id])
		}
	}
	// Each process prints "runner triage-inbox: ...: N tickets, K triaged, ..." per run.
	re := regexp.MustCompile(`(\d+) triaged`)
	per := make([]int, len(reps))
	for i, r := range reps {
		for _, m := range re.FindAllStringSubmatch(r.stdout.String(), -1) {
			k, _ := strconv.Atoi(m[1])
			per[i] += k
		}
	}
	if per[0]+per[1] != n || per[0] == 0 || per[1] == 0 {
		t.Errorf("triaged per process %v, want %d in all, split between both", per, n)
	}
	t.Logf("%d tickets, 2 processes sharing one state.db: triaged per process %v, duplicate notes/moves 0", n, per)
}
