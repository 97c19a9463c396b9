// Package pipe is the contract of otai's pipeline steps. A Pipe runs with a
// Context (the ticket at hand, the results of earlier pipes, variables and
// services) and returns a Result that says succeeded, skipped or failed, why,
// and what data later pipes may read as pipes.<id>.<key>.
package pipe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/otai-dev/otai/classify"
	"github.com/otai-dev/otai/ticket"
)

// Pipe is one step of a runner.
type Pipe interface {
	Run(ctx context.Context, rc *Context) Result
}

// Func adapts a function to Pipe.
type Func func(ctx context.Context, rc *Context) Result

// Run calls f.
func (f Func) Run(ctx context.Context, rc *Context) Result { return f(ctx, rc) }

// Status is the outcome of a pipe.
type Status string

const (
	StatusSucceeded Status = "succeeded"
	StatusSkipped   Status = "skipped"
	StatusFailed    Status = "failed"
)

// Result is what a pipe reports. Data is visible to later pipes as
// pipes.<id>.<key>; Action is a short human phrase for summaries
// ("moved Inbox -> Billing", "noted"). Items are per-ticket outcomes of a
// for-each; Steps are the results of a container's children.
type Result struct {
	Pipe     string         `json:"pipe"`
	Use      string         `json:"use,omitempty"`
	Status   Status         `json:"status"`
	Message  string         `json:"message,omitempty"`
	Action   string         `json:"action,omitempty"`
	Data     map[string]any `json:"data,omitempty"`
	Err      error          `json:"-"`
	Duration time.Duration  `json:"duration_ns"`
	Retries  int            `json:"retries,omitempty"`
	Steps    []Result       `json:"steps,omitempty"`
	Items    []ItemResult   `json:"items,omitempty"`
}

// ItemResult is the outcome of one ticket in a for-each.
type ItemResult struct {
	TicketID string   `json:"ticket_id"`
	Number   string   `json:"number,omitempty"`
	Subject  string   `json:"subject,omitempty"`
	Queue    string   `json:"queue,omitempty"`    // at fetch time
	Priority string   `json:"priority,omitempty"` // at fetch time
	Status   Status   `json:"status"`
	Message  string   `json:"message,omitempty"`
	Steps    []Result `json:"steps"`
}

// Succeeded returns a succeeded result with data.
func Succeeded(data map[string]any) Result { return Result{Status: StatusSucceeded, Data: data} }

// Skipped returns a skipped result with a reason.
func Skipped(format string, a ...any) Result {
	return Result{Status: StatusSkipped, Message: fmt.Sprintf(format, a...)}
}

// Failed returns a failed result for err.
func Failed(err error) Result {
	return Result{Status: StatusFailed, Message: err.Error(), Err: err}
}

// Failf returns a failed result with a formatted error.
func Failf(format string, a ...any) Result { return Failed(fmt.Errorf(format, a...)) }

// WithAction sets the summary phrase and returns r.
func (r Result) WithAction(format string, a ...any) Result {
	r.Action = fmt.Sprintf(format, a...)
	return r
}

// Failures lists every failure below r (itself, its steps, its items) as
// "pipe: message" or "ticket 42: pipe: message".
func (r *Result) Failures() []string {
	var out []string
	var walk func(prefix string, r *Result)
	walk = func(prefix string, r *Result) {
		if r.Status == StatusFailed && len(r.Steps) == 0 && len(r.Items) == 0 {
			out = append(out, prefix+r.Pipe+": "+r.Message)
		}
		for i := range r.Steps {
			walk(prefix, &r.Steps[i])
		}
		for _, it := range r.Items {
			for i := range it.Steps {
				walk(prefix+"ticket "+it.TicketID+": ", &it.Steps[i])
			}
			if it.Status == StatusFailed && len(it.Steps) == 0 {
				out = append(out, prefix+"ticket "+it.TicketID+": "+it.Message)
			}
		}
	}
	walk("", r)
	return out
}

// Counts tallies items (tickets) by status below r, recursively.
func (r *Result) Counts() map[Status]int {
	c := map[Status]int{}
	var walk func(r *Result)
	walk = func(r *Result) {
		for _, it := range r.Items {
			c[it.Status]++
			for i := range it.Steps {
				walk(&it.Steps[i])
			}
		}
		for i := range r.Steps {
			walk(&r.Steps[i])
		}
	}
	walk(r)
	return c
}

// Services looks up configured services by id.
type Services interface {
	TicketSystem(id string) (ticket.System, error)
	Classifier(id string) (classify.Classifier, error)
}

// ErrNoService is returned (wrapped) for an unknown or mistyped service id.
var ErrNoService = errors.New("no such service")

// Context is the data a pipe runs with. A for-each gives each ticket a child
// context: the ticket set and its own copy of the results map, so parallel
// tickets never see each other's results.
type Context struct {
	Runner   string
	Ticket   *ticket.Ticket
	Pipes    map[string]map[string]any // earlier results' data, by pipe id
	Vars     map[string]any            // the "context" map of templates
	Env      map[string]any            // environment variables, secrets removed
	Services Services
	Logger   *slog.Logger
	DryRun   bool
	Marks    Marks // nil: nothing is remembered between runs
	// Decisions records what was decided per ticket; nil: not recorded.
	Decisions DecisionRecorder
	// Claims leases tickets to this process, so that replicas sharing a
	// state store never work on one ticket at once; nil: no leases (one
	// process). Owner is this process's id as a lease holder.
	Claims Claims
	Owner  string
	// Stopping is closed when otai is shutting down: containers finish
	// the work they started and begin no new ticket.
	Stopping <-chan struct{}
	// DecisionID is the id the ticket's decision will be recorded under
	// (set per ticket by the for-each), so that write-backs can carry it.
	DecisionID string
	// Resumed is set on a ticket an earlier run started and did not
	// finish (otai was killed, or a step failed): its steps may find their
	// own earlier writes in place, with no decision recording them.
	Resumed bool
}

// Child returns a context for one ticket: same runner, vars and services,
// a copy of the results so far.
func (rc *Context) Child(t *ticket.Ticket) *Context {
	c := *rc
	c.Ticket = t
	c.Pipes = maps.Clone(rc.Pipes)
	if c.Pipes == nil {
		c.Pipes = map[string]map[string]any{}
	}
	if t != nil && rc.Logger != nil {
		c.Logger = rc.Logger.With("ticket", t.ID)
	}
	return &c
}

// Record makes r's data visible to later pipes under its id (and, when the
// id has dashes, also under the id with underscores, so that templates can
// write pipes.fetch_open as well as pipes["fetch-open"]).
func (rc *Context) Record(r Result) {
	if rc.Pipes == nil {
		rc.Pipes = map[string]map[string]any{}
	}
	d := make(map[string]any, len(r.Data)+2)
	maps.Copy(d, r.Data)
	d["status"] = string(r.Status)
	d["message"] = r.Message
	rc.Pipes[r.Pipe] = d
	if strings.Contains(r.Pipe, "-") {
		rc.Pipes[strings.ReplaceAll(r.Pipe, "-", "_")] = d
	}
}

// Scope is the template environment: ticket, pipes, context, env.
func (rc *Context) Scope() map[string]any {
	var t any
	if rc.Ticket != nil {
		t = rc.Ticket
	}
	pipes := make(map[string]any, len(rc.Pipes))
	for k, v := range rc.Pipes {
		pipes[k] = v
	}
	vars := rc.Vars
	if vars == nil {
		vars = map[string]any{}
	}
	env := rc.Env
	if env == nil {
		env = map[string]any{}
	}
	return map[string]any{"ticket": t, "pipes": pipes, "context": vars, "env": env}
}

// IsStopping reports whether shutdown has begun.
func (rc *Context) IsStopping() bool {
	if rc.Stopping == nil {
		return false
	}
	select {
	case <-rc.Stopping:
		return true
	default:
		return false
	}
}

// Log returns the context's logger or a discarding one.
func (rc *Context) Log() *slog.Logger {
	if rc.Logger != nil {
		return rc.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Mark is a processed mark: when a ticket was finished, and the
// fingerprint of what it looked like then (see Fingerprint; "" unknown).
type Mark struct {
	At          time.Time
	Fingerprint string
}

// FingerprintMarks are Marks that keep a fingerprint with each mark, so
// that a ticket changed only in ways that do not matter to triage (a note,
// a reply, a new owner) is not triaged again.
type FingerprintMarks interface {
	ProcessedMark(ctx context.Context, key string) (Mark, bool, error)
	MarkProcessedAs(ctx context.Context, key string, m Mark) error
}

// Fingerprint hashes what triage reads and writes of a ticket: subject,
// body, queue, priority, state, type, tags and custom fields (entities by
// name, case-folded, else by id). Notes, articles, the owner and the
// update time are left out.
func Fingerprint(t *ticket.Ticket) string {
	h := sha256.New()
	ent := func(e ticket.Entity) string {
		if e.Name != "" {
			return "n:" + strings.ToLower(e.Name)
		}
		return "i:" + e.ID
	}
	tags := make([]string, len(t.Tags))
	for i, x := range t.Tags {
		tags[i] = strings.ToLower(x)
	}
	slices.Sort(tags)
	keys := slices.Sorted(maps.Keys(t.CustomFields))
	fmt.Fprintf(h, "%q\x00%q\x00%s\x00%s\x00%s\x00%s\x00%q", t.Subject, t.Body,
		ent(t.Queue), ent(t.Priority), ent(t.State), ent(t.Type), tags)
	for _, k := range keys {
		fmt.Fprintf(h, "\x00%q=%q", k, fmt.Sprint(t.CustomFields[k]))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Marks remembers which tickets a for-each has finished, so a later cycle
// does not triage a ticket again unless it changed since.
type Marks interface {
	// Processed returns when key was last marked, and whether it was.
	Processed(ctx context.Context, key string) (time.Time, bool, error)
	// MarkProcessed records key as done at t.
	MarkProcessed(ctx context.Context, key string, t time.Time) error
}
