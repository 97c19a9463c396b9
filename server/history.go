package server

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/secret"
)

// Limits of what a run keeps in memory (and shows).
const (
	subjectLen     = 80  // runes of a subject in a row
	textLen        = 300 // runes of a message, action or failure
	maxTickets     = 500 // ticket rows kept per run
	maxFailures    = 20  // failure lines kept per run
	DefaultHistory = 50  // runs kept when Options.History is 0
)

// RunView is what the UI and /api/runs show of one run: a compact,
// redacted copy of an orchestrator.RunResult without ticket bodies.
type RunView struct {
	Seq          uint64       `json:"seq"`
	Runner       string       `json:"runner"`
	Started      time.Time    `json:"started"`
	Finished     time.Time    `json:"finished"`
	DurationMS   int64        `json:"duration_ms"`
	Status       string       `json:"status"`
	DryRun       bool         `json:"dry_run"`
	Counts       Counts       `json:"counts"`
	HTTPRetries  int          `json:"http_retries"` // HTTP requests the services sent again (429, 5xx, timeouts)
	Failures     []string     `json:"failures"`
	MoreFailures int          `json:"more_failures,omitempty"`
	Tickets      []TicketView `json:"tickets"`
	MoreTickets  int          `json:"more_tickets,omitempty"`
}

// Counts are a run's tickets by outcome.
type Counts struct {
	Succeeded int `json:"succeeded"`
	Skipped   int `json:"skipped"`
	Failed    int `json:"failed"`
}

// Total is the number of tickets.
func (c Counts) Total() int { return c.Succeeded + c.Skipped + c.Failed }

// TicketView is one ticket's outcome in a run.
type TicketView struct {
	ID           string    `json:"id"`
	Number       string    `json:"number,omitempty"`
	Subject      string    `json:"subject"`
	QueueFrom    string    `json:"queue_from,omitempty"`
	QueueTo      string    `json:"queue_to,omitempty"`
	PriorityFrom string    `json:"priority_from,omitempty"`
	PriorityTo   string    `json:"priority_to,omitempty"`
	Labels       []string  `json:"labels,omitempty"`     // the top label of each classify step
	Confidence   []float64 `json:"confidence,omitempty"` // its confidence, 0..1
	Action       string    `json:"action"`
	Status       string    `json:"status"`
	Failed       bool      `json:"failed"`
}

// Queue is "from -> to", or the one queue when nothing moved.
func (t TicketView) Queue() string { return arrow(t.QueueFrom, t.QueueTo) }

// Priority is "from -> to", or the one priority when nothing changed.
func (t TicketView) Priority() string { return arrow(t.PriorityFrom, t.PriorityTo) }

// ConfidenceText is "85% / 60%": each classify step's top confidence.
func (t TicketView) ConfidenceText() string {
	var s []string
	for _, c := range t.Confidence {
		s = append(s, pct(c))
	}
	return strings.Join(s, " / ")
}

// LabelText is "Billing / high": each classify step's top label.
func (t TicketView) LabelText() string { return strings.Join(t.Labels, " / ") }

func arrow(from, to string) string {
	if to == "" || strings.EqualFold(from, to) {
		return from
	}
	if from == "" {
		return to
	}
	return from + " -> " + to
}

// View turns a run result into a RunView: every text redacted and
// clipped, at most 500 tickets and 20 failures.
func View(r orchestrator.RunResult) RunView {
	c := r.Counts()
	v := RunView{
		Runner: text(r.Runner, textLen), Started: r.Started, Finished: r.Started.Add(r.Duration),
		DurationMS: r.Duration.Milliseconds(), Status: text(string(r.Status), 20), DryRun: r.DryRun,
		Counts:      Counts{Succeeded: c[pipe.StatusSucceeded], Skipped: c[pipe.StatusSkipped], Failed: c[pipe.StatusFailed]},
		HTTPRetries: r.HTTPRetries, Failures: []string{}, Tickets: []TicketView{},
	}
	for _, f := range r.Failures() {
		if len(v.Failures) == maxFailures {
			v.MoreFailures++
			continue
		}
		v.Failures = append(v.Failures, text(f, textLen))
	}
	var walk func(res *pipe.Result)
	walk = func(res *pipe.Result) {
		for i := range res.Items {
			if len(v.Tickets) == maxTickets {
				v.MoreTickets++
				continue
			}
			v.Tickets = append(v.Tickets, ticketView(&res.Items[i]))
		}
		for i := range res.Steps {
			walk(&res.Steps[i])
		}
	}
	for i := range r.Steps {
		walk(&r.Steps[i])
	}
	return v
}

// ticketView summarizes one ticket the way `otai run` prints it.
func ticketView(it *pipe.ItemResult) TicketView {
	t := TicketView{ID: text(it.TicketID, 40), Number: text(it.Number, 40), Subject: text(it.Subject, subjectLen),
		QueueFrom: text(it.Queue, 60), PriorityFrom: text(it.Priority, 40), Status: text(string(it.Status), 20),
		Failed: it.Status == pipe.StatusFailed}
	var actions []string
	for _, s := range it.Steps {
		if to, ok := s.Data["queue_to"].(string); ok && to != "" {
			t.QueueTo = text(to, 60)
		}
		if to, ok := s.Data["priority_to"].(string); ok && to != "" {
			t.PriorityTo = text(to, 40)
		}
		if _, isClassify := s.Data["top_k"]; isClassify {
			if conf, ok := s.Data["confidence"].(float64); ok {
				label, _ := s.Data["label"].(string)
				t.Labels = append(t.Labels, text(label, 60))
				t.Confidence = append(t.Confidence, conf)
			}
		}
		switch {
		case s.Status == pipe.StatusFailed:
			t.Failed = true
			actions = append(actions, s.Pipe+" FAILED: "+s.Message)
		case s.Status == pipe.StatusSkipped && s.Action != "":
			actions = append(actions, s.Action)
		case s.Status == pipe.StatusSucceeded && s.Action != "" && s.Data["top_k"] == nil:
			actions = append(actions, s.Action)
		}
	}
	if len(it.Steps) == 0 && it.Message != "" {
		actions = append(actions, string(it.Status)+": "+it.Message)
	}
	t.Action = text(strings.Join(actions, "; "), textLen)
	if t.Action == "" {
		t.Action = t.Status
	}
	return t
}

// text redacts s, collapses its whitespace, drops invalid UTF-8 and clips
// it to n runes.
func text(s string, n int) string {
	s = secret.Redact(s)
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// ring keeps the last n runs. Not safe for concurrent use: Server locks.
type ring struct {
	buf  []RunView
	next int
	full bool
}

func newRing(n int) *ring { return &ring{buf: make([]RunView, n)} }

func (r *ring) add(v RunView) {
	r.buf[r.next] = v
	r.next = (r.next + 1) % len(r.buf)
	if r.next == 0 {
		r.full = true
	}
}

// newestFirst returns a copy of the runs, newest first.
func (r *ring) newestFirst() []RunView {
	n := r.next
	if r.full {
		n = len(r.buf)
	}
	out := make([]RunView, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, r.buf[(r.next-i+len(r.buf))%len(r.buf)])
	}
	return out
}

func pct(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) }
