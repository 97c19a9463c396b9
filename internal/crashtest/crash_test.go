package crashtest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/otai-dev/otai/pipes"
	"github.com/otai-dev/otai/state"
	"github.com/otai-dev/otai/ticketsystem/otobo/otobofake"
)

// The runner, for-each and note ids of the config: a note's reference and
// a ticket's processed mark are derived from them.
const (
	runnerID  = "triage-inbox"
	forEachID = "triage"
	noteID    = "note"
	inbox     = "Inbox"
	elsewhere = "Misc" // tickets otai must not touch
)

// label is a queue the rules route to, with the priority it gets.
type label struct {
	queue, priority string
	keywords        []string
}

var labels = []label{
	{"Billing", "2 low", []string{"invoice", "refund"}},
	{"Hardware", "4 high", []string{"printer", "laptop"}},
	{"Network", "5 very high", []string{"vpn", "wifi"}},
	{"Accounts", "1 very low", []string{"password", "login"}},
}

// Words without any keyword, to vary subjects and bodies.
var (
	openers = []string{"Urgent:", "Question:", "Hi team,", "Please help:", "FYI", "Re:", "Follow-up:", "Hello,"}
	fillers = []string{"since this morning", "for the whole team", "again after the update", "on the third floor",
		"for customer ACME", "since Monday", "in the Berlin office", "after the move"}
)

// settings are the knobs of one crash run; env variables override them.
type settings struct {
	tickets     int           // tickets in the inbox
	outside     int           // tickets in another queue, which must stay untouched
	kills       int           // SIGKILLs, each followed by a restart
	seed        uint64        // RNG seed: tickets, kill windows, delays
	concurrency int           // for-each concurrency
	limit       int           // tickets per fetch
	latency     time.Duration // added to every request of the fake
	finish      time.Duration // bound for the last run to complete
	// claimTTL is the for-each's claim_ttl: how long the tickets a killed
	// process held would stay leased to it. The default is the product's,
	// 5m: the restarted process sees that the holder is dead (same machine,
	// pipe.OwnerGone) and takes its tickets at once; were it to wait out
	// the leases, the run would miss its finish bound.
	claimTTL time.Duration
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a number", name, v)
	}
	return n
}

func loadSettings(t *testing.T) settings {
	s := settings{
		tickets:     envInt(t, "OTAI_CRASH_TICKETS", 500),
		outside:     envInt(t, "OTAI_CRASH_OUTSIDE", 25),
		kills:       envInt(t, "OTAI_CRASH_KILLS", 20),
		seed:        uint64(envInt(t, "OTAI_CRASH_SEED", 1)),
		concurrency: envInt(t, "OTAI_CRASH_CONCURRENCY", 6),
		limit:       envInt(t, "OTAI_CRASH_LIMIT", 150),
		latency:     time.Duration(envInt(t, "OTAI_CRASH_LATENCY_MS", 4)) * time.Millisecond,
		finish:      time.Duration(envInt(t, "OTAI_CRASH_FINISH_S", 90)) * time.Second,
		claimTTL:    time.Duration(envInt(t, "OTAI_CRASH_CLAIM_TTL_MS", 300000)) * time.Millisecond,
	}
	if testing.Short() && os.Getenv("OTAI_CRASH_TICKETS") == "" {
		s.tickets = 200
	}
	return s
}

// window is where a kill is aimed.
type window int

const (
	winFetch   window = iota // the fetch: search and batch get of the inbox
	winUpdate                // a queue/priority update in flight (before or just after the help desk applied it)
	winBetween               // after the update, while the note pipe reads the ticket's notes
	winNote                  // a note in flight (before or just after the help desk stored it)
	winState                 // just after a note was stored: processed mark and decision being written
	nWindows
)

var windowNames = [nWindows]string{"during fetch", "mid-update", "between update and note", "mid-note", "after note (state writes)"}

// plan is one kill: the countdown-th request matching its window fires it,
// delay later.
type plan struct {
	win       window
	countdown int
	delay     time.Duration
}

func makePlans(s settings, rng *rand.Rand) []plan {
	lat := s.latency
	between := func(lo, hi time.Duration) time.Duration { return lo + time.Duration(rng.Int64N(int64(hi-lo)+1)) }
	var out []plan
	for i := range s.kills {
		p := plan{win: window(i % int(nWindows)), countdown: 1 + rng.IntN(40)}
		switch p.win {
		case winFetch:
			p.countdown = 1 + rng.IntN(2) // the run right after the restart, or the one after
			p.delay = between(0, 2*lat)
		case winUpdate, winNote:
			p.delay = between(0, lat+2*time.Millisecond)
		case winBetween:
			p.delay = between(0, lat)
		case winState:
			p.delay = between(lat+500*time.Microsecond, lat+4*time.Millisecond)
		}
		out = append(out, p)
	}
	return out
}

// trigger watches the fake's requests for the armed plan and kills the
// process when it fires.
type trigger struct {
	srv   *otobofake.Server
	mu    sync.Mutex
	armed *plan
	pid   int
	fired chan string // what the kill hit
}

func (tr *trigger) arm(p plan, pid int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.armed, tr.pid = &p, pid
}

func (tr *trigger) disarm() {
	tr.mu.Lock()
	tr.armed = nil
	tr.mu.Unlock()
}

func (tr *trigger) matches(w window, r *otobofake.Request) bool {
	id := fmt.Sprint(r.Data["TicketID"])
	_, hasArticle := r.Data["Article"]
	switch w {
	case winFetch:
		return r.Operation == "TicketSearch" || r.Operation == "TicketGetList" ||
			(r.Operation == "TicketGet" && strings.Contains(id, ","))
	case winUpdate:
		return r.Operation == "TicketUpdate" && !hasArticle
	case winBetween:
		if r.Operation != "TicketGet" || strings.Contains(id, ",") {
			return false
		}
		t, ok := tr.srv.Ticket(id)
		return ok && t.Queue != inbox // already moved: this is the note pipe's read
	case winNote, winState:
		return r.Operation == "TicketUpdate" && hasArticle
	}
	return false
}

func (tr *trigger) hook(r *otobofake.Request) *otobofake.Reply {
	tr.mu.Lock()
	p := tr.armed
	if p == nil || !tr.matches(p.win, r) {
		tr.mu.Unlock()
		return nil
	}
	p.countdown--
	if p.countdown > 0 {
		tr.mu.Unlock()
		return nil
	}
	tr.armed = nil
	pid, delay := tr.pid, p.delay
	tr.mu.Unlock()
	what := fmt.Sprintf("%s %s ticket %v", r.Operation, r.Method, r.Data["TicketID"])
	go func() {
		time.Sleep(delay)
		_ = syscall.Kill(pid, syscall.SIGKILL)
		tr.fired <- what
	}()
	return nil
}

// world is the fake help desk with its seeded tickets.
type world struct {
	srv      *otobofake.Server
	want     map[string]label            // inbox ticket id -> where it belongs
	order    []string                    // inbox ticket ids
	initial  map[string]otobofake.Ticket // every ticket as seeded
	outsides []string
}

func seed(s settings, rng *rand.Rand) *world {
	srv := otobofake.New(otobofake.Options{Latency: s.latency})
	w := &world{srv: srv, want: map[string]label{}, initial: map[string]otobofake.Ticket{}}
	for _, q := range []string{inbox, elsewhere} {
		srv.AddQueue(q)
	}
	for _, l := range labels {
		srv.AddQueue(l.queue)
	}
	base := time.Now().UTC().Add(-72 * time.Hour).Truncate(time.Second)
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	for i := range s.tickets + s.outside {
		l := labels[rng.IntN(len(labels))]
		kw := pick(l.keywords)
		subject := fmt.Sprintf("%s %s problem %s (#%d)", pick(openers), kw, pick(fillers), i)
		body := fmt.Sprintf("The %s does not work %s. Ticket %d of the crash test.", kw, pick(fillers), i)
		q := inbox
		if i >= s.tickets {
			q = elsewhere
		}
		id := srv.AddTicket(otobofake.Ticket{Title: subject, Body: body, Queue: q, Created: base.Add(time.Duration(i) * time.Second)})
		t, _ := srv.Ticket(id)
		w.initial[id] = t
		if q == inbox {
			w.want[id] = l
			w.order = append(w.order, id)
		} else {
			w.outsides = append(w.outsides, id)
		}
	}
	return w
}

func configYAML(s settings, srv *otobofake.Server) string {
	var rules, prio strings.Builder
	for _, l := range labels {
		fmt.Fprintf(&rules, "        - { label: %s, keywords: [%s], confidence: 0.9 }\n", l.queue, strings.Join(l.keywords, ", "))
		fmt.Fprintf(&prio, "pipes.classify.label == %q ? %q : ", l.queue, l.priority)
	}
	return fmt.Sprintf(`services:
  - id: desk
    use: otobo-znuny:OTOBOZnunyTicketSystemService
    params:
      base_url: %s
      username: %s
      password: '${{ secrets.OTOBO_PASSWORD }}'
      timeout: 10s
  - id: rules
    use: base:RuleClassifier
    params:
      rules:
%spipes:
  - id: fetch
    use: base:FetchTicketsPipe
    params:
      ticket_system: desk
      ticket_search_criteria: { queue: { name: %s }, limit: %d }
  - id: %s
    use: base:ForEachTicketPipe
    params: { tickets: '{{ pipes.fetch.tickets }}', concurrency: %d, claim_ttl: %s }
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
            priority: { name: '{{ %s"3 normal" }}' }
      - id: %s
        use: base:AddNotePipe
        params:
          ticket_system: desk
          note: { body: 'otai: {{ pipes.classify.label }} ({{ percent(pipes.classify.confidence) }})' }
orchestrator:
  runners:
    - id: %s
      pipes: [fetch, %s]
      triggers: [ { interval: 1s } ]
`, srv.BaseURL, otobofake.DefaultAgent, rules.String(), inbox, s.limit, forEachID, s.concurrency, s.claimTTL,
		prio.String(), noteID, runnerID, forEachID)
}

// tally is what the help desk holds for the inbox tickets.
type tally struct {
	done, duplicates, missing, wrongQueue, wrongPriority, inInbox int
	movedNoNote                                                   []string // moved, not yet noted
	problems                                                      []string
}

func (w *world) tally() tally {
	var t tally
	for _, id := range w.order {
		tk, ok := w.srv.Ticket(id)
		if !ok {
			t.problems = append(t.problems, "ticket "+id+" vanished")
			continue
		}
		want := w.want[id]
		ref := pipes.NoteRef(runnerID, noteID, id)
		refs, otai := 0, 0
		for _, a := range tk.Articles[1:] {
			if strings.Contains(a.Body, "otai-ref:") {
				otai++
			}
			if strings.Contains(a.Body, ref) {
				refs++
			}
		}
		if tk.Queue == inbox {
			t.inInbox++
		}
		switch {
		case refs == 0:
			t.missing++
			if tk.Queue != inbox {
				t.movedNoNote = append(t.movedNoNote, id)
			}
		case refs > 1:
			t.duplicates += refs - 1
		}
		if otai != refs || len(tk.Articles) != 1+refs {
			t.problems = append(t.problems, fmt.Sprintf("ticket %s has %d articles, %d otai notes, %d with its reference", id, len(tk.Articles), otai, refs))
		}
		if tk.Queue != want.queue {
			t.wrongQueue++
		}
		if tk.Priority != want.priority {
			t.wrongPriority++
		}
		if refs == 1 && tk.Queue == want.queue && tk.Priority == want.priority {
			t.done++
		}
	}
	return t
}

// otaiProc is one `otai run` child.
type otaiProc struct {
	cmd      *exec.Cmd
	out, err *syncBuffer
	exited   chan error
}

func startOtai(t *testing.T, cfg, dataDir string) *otaiProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "run", "--config", cfg, "--data-dir", dataDir, "--output", "json", "--log-level", envOr("OTAI_CRASH_LOG_LEVEL", "warn"))
	cmd.Env = append(os.Environ(), asMain+"=1", "OTAI_SECRET_OTOBO_PASSWORD="+otobofake.DefaultPassword)
	p := &otaiProc{cmd: cmd, out: &syncBuffer{max: 64 << 10}, err: &syncBuffer{max: 64 << 10}, exited: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.out, p.err
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- cmd.Wait() }()
	return p
}

// afterKill is what a kill left behind: tickets the help desk changed that
// otai's state does not know are finished.
type afterKill struct {
	movedNoNote map[string]bool // the update was written, the note not
	notedNoMark map[string]bool // the note was written, the processed mark not
}

func inspect(t *testing.T, w *world, dbPath string) afterKill {
	t.Helper()
	ctx := context.Background()
	st, err := state.Open(ctx, dbPath)
	if err != nil {
		t.Fatalf("state.db after a kill: %v", err)
	}
	defer st.Close()
	a := afterKill{movedNoNote: map[string]bool{}, notedNoMark: map[string]bool{}}
	for _, id := range w.order {
		tk, _ := w.srv.Ticket(id)
		noted := len(tk.Articles) > 1
		_, marked, err := st.Processed(ctx, runnerID+"/"+forEachID+"/"+id)
		if err != nil {
			t.Fatalf("reading the processed mark of ticket %s after a kill: %v", id, err)
		}
		switch {
		case !noted && tk.Queue != inbox:
			a.movedNoNote[id] = true
		case noted && !marked:
			a.notedNoMark[id] = true
		}
	}
	return a
}

// newIn counts the keys of now that were not in before.
func newIn(now, before map[string]bool) int {
	n := 0
	for k := range now {
		if !before[k] {
			n++
		}
	}
	return n
}

// TestCrashRestart is the crash run: `otai run` on an interval trigger
// against the OTOBO fake in this process, killed with SIGKILL s.kills
// times at points aimed at the fetch, an update, the gap between update
// and note, a note, and the state writes after it; restarted each time;
// then left to finish. Every inbox ticket must end in its queue with its
// priority and exactly one otai note; nothing else may be touched; state.db
// must open and its decisions must read.
func TestCrashRestart(t *testing.T) {
	if testing.Short() && os.Getenv("OTAI_CRASH_TICKETS") == "" {
		t.Log("short mode: 200 tickets")
	}
	s := loadSettings(t)
	rng := rand.New(rand.NewPCG(s.seed, 0x6f746169))
	w := seed(s, rng)
	defer w.srv.Close()
	plans := makePlans(s, rng)

	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(configYAML(s, w.srv)), 0o600); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dataDir, "state.db")

	tr := &trigger{srv: w.srv, fired: make(chan string, 1)}
	w.srv.Use(tr.hook)

	start := time.Now()
	hits := make([]int, nWindows)
	var prev afterKill
	var leftMoved, leftNoted int // kills that left such a ticket behind
	var killLog []string
	for k, p := range plans {
		proc := startOtai(t, cfg, dataDir)
		tr.arm(p, proc.cmd.Process.Pid)
		var what string
		var err error
		select {
		case what = <-tr.fired:
			err = <-proc.exited
		case err = <-proc.exited:
			// The kill reports after it killed: the process may be reaped first.
			select {
			case what = <-tr.fired:
			case <-time.After(5 * time.Second):
				t.Fatalf("kill %d: otai exited on its own (%v) before the kill\nstderr:\n%s", k+1, err, proc.err)
			}
		case <-time.After(60 * time.Second):
			tr.disarm()
			proc.cmd.Process.Kill()
			<-proc.exited
			t.Fatalf("kill %d (%s): no matching request within 60s; tally %+v\nstderr:\n%s", k+1, windowNames[p.win], w.tally(), proc.err)
		}
		if ws, ok := proc.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("kill %d: otai ended with %v, not by SIGKILL\nstderr:\n%s", k+1, err, proc.err)
		}
		hits[p.win]++
		a := inspect(t, w, dbPath)
		nm, nn := newIn(a.movedNoNote, prev.movedNoNote), newIn(a.notedNoMark, prev.notedNoMark)
		if nm > 0 {
			leftMoved++
		}
		if nn > 0 {
			leftNoted++
		}
		prev = a
		killLog = append(killLog, fmt.Sprintf("kill %2d %-26s %2d. match +%-7v %-30s left: %d moved without note, %d noted without mark (outstanding %d, %d)",
			k+1, windowNames[p.win], p.countdown, p.delay.Round(10*time.Microsecond), clip(what, 30), nm, nn, len(a.movedNoNote), len(a.notedNoMark)))
	}
	killsDone := time.Since(start)

	// The last start runs to completion: until every inbox ticket is done,
	// or nothing has changed for a while, or the bound.
	proc := startOtai(t, cfg, dataDir)
	deadline := time.Now().Add(s.finish)
	var last tally
	lastWrites, quietSince := -1, time.Now()
	for {
		last = w.tally()
		if last.done == len(w.order) {
			break
		}
		if c := w.srv.Calls("TicketUpdate"); c != lastWrites {
			lastWrites, quietSince = c, time.Now()
		} else if last.inInbox == 0 && time.Since(quietSince) > 5*time.Second {
			break // the inbox is empty and otai has gone quiet: what is missing stays missing
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case err := <-proc.exited:
			t.Fatalf("the last otai exited on its own: %v\nstderr:\n%s", err, proc.err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	proc.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-proc.exited:
		if err != nil {
			t.Errorf("the last otai exited with %v after SIGINT\nstderr:\n%s", err, proc.err)
		}
	case <-time.After(30 * time.Second):
		proc.cmd.Process.Kill()
		<-proc.exited
		t.Errorf("the last otai did not stop within 30s of SIGINT")
	}
	wall := time.Since(start)
	final := w.tally()

	for _, l := range killLog {
		t.Log(l)
	}
	var byWindow []string
	for i, n := range hits {
		byWindow = append(byWindow, fmt.Sprintf("%s %d", windowNames[i], n))
	}
	t.Logf("tickets %d (+%d outside the inbox), kills %d (%s), restarts %d",
		len(w.order), len(w.outsides), len(plans), strings.Join(byWindow, ", "), len(plans))
	t.Logf("%d kills left a ticket moved without its note, %d a ticket noted without its processed mark; outstanding after the last kill: %d and %d",
		leftMoved, leftNoted, len(prev.movedNoNote), len(prev.notedNoMark))
	t.Logf("result: done %d, duplicates %d, missing notes %d, wrong queues %d, wrong priorities %d, still in inbox %d; kills took %v, wall time %v",
		final.done, final.duplicates, final.missing, final.wrongQueue, final.wrongPriority, final.inInbox,
		killsDone.Round(time.Millisecond), wall.Round(time.Millisecond))

	if final.duplicates != 0 {
		t.Errorf("%d duplicate notes", final.duplicates)
	}
	if final.missing != 0 {
		t.Errorf("%d tickets without their note (%d of them moved out of the inbox without it: %v)", final.missing, len(final.movedNoNote), first(final.movedNoNote, 10))
	}
	if final.wrongQueue != 0 || final.wrongPriority != 0 {
		t.Errorf("%d tickets in the wrong queue, %d with the wrong priority", final.wrongQueue, final.wrongPriority)
	}
	for _, p := range first(final.problems, 20) {
		t.Error(p)
	}
	w.checkUntouched(t)
	checkState(t, w, dbPath)
	if t.Failed() {
		t.Logf("stderr of the last otai:\n%s", proc.err)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// checkUntouched: tickets outside the inbox are exactly as seeded; inbox
// tickets kept their title, state, type, owner, customer and first article.
func (w *world) checkUntouched(t *testing.T) {
	t.Helper()
	for _, id := range w.outsides {
		got, _ := w.srv.Ticket(id)
		if !reflect.DeepEqual(got, w.initial[id]) {
			t.Errorf("ticket %s outside the inbox was touched:\n got %+v\nwant %+v", id, got, w.initial[id])
		}
	}
	bad := 0
	for _, id := range w.order {
		got, was := w.srv.Ticket(id)
		if !was {
			continue
		}
		init := w.initial[id]
		if got.Title != init.Title || got.State != init.State || got.Type != init.Type || got.Owner != init.Owner ||
			got.CustomerUser != init.CustomerUser || !reflect.DeepEqual(got.Articles[0], init.Articles[0]) ||
			!reflect.DeepEqual(got.DynamicFields, init.DynamicFields) {
			if bad++; bad <= 10 {
				t.Errorf("inbox ticket %s: a field otai does not set changed:\n got %+v\nwant %+v", id, got, init)
			}
		}
	}
}

// checkState: state.db passes SQLite's integrity check, opens, and its
// decisions and marks read; every inbox ticket has a processed mark and a
// decision.
func checkState(t *testing.T, w *world, dbPath string) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Errorf("state.db integrity_check: %q, %v", res, err)
	}
	db.Close()
	st, err := state.Open(ctx, dbPath)
	if err != nil {
		t.Fatalf("state.db does not open: %v", err)
	}
	defer st.Close()
	ds, err := st.Decisions(ctx, state.Filter{Limit: 1 << 30})
	if err != nil {
		t.Fatalf("state.db decisions do not read: %v", err)
	}
	decided := map[string]bool{}
	for _, d := range ds {
		if d.Runner == runnerID && d.Outcome != "failed" {
			decided[d.TicketID] = true
		}
	}
	var unmarked, undecided []string
	for _, id := range w.order {
		if _, ok, err := st.Processed(ctx, runnerID+"/"+forEachID+"/"+id); err != nil {
			t.Fatalf("reading a processed mark: %v", err)
		} else if !ok {
			unmarked = append(unmarked, id)
		}
		if !decided[id] {
			undecided = append(undecided, id)
		}
	}
	t.Logf("state.db: integrity ok, %d decisions, %d of %d tickets marked processed, %d with a decision",
		len(ds), len(w.order)-len(unmarked), len(w.order), len(w.order)-len(undecided))
	if len(unmarked) > 0 {
		t.Errorf("%d tickets have no processed mark: %v", len(unmarked), first(unmarked, 10))
	}
	if len(undecided) > 0 {
		t.Errorf("%d tickets have no decision: %v", len(undecided), first(undecided, 10))
	}
}
