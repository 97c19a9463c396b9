package pipes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
)

// ForEachParams are the params of base:ForEachTicketPipe.
type ForEachParams struct {
	Tickets       []ticket.Ticket `yaml:"tickets" otai:"required" desc:"The tickets to work on, usually '{{ pipes.<fetch id>.tickets }}'."`
	Concurrency   int             `yaml:"concurrency" default:"4" desc:"How many tickets are worked on at once."`
	SkipProcessed bool            `yaml:"skip_processed" default:"true" desc:"Skip tickets this runner already finished that have not changed since in a way triage reads (subject, body, queue, priority, state, type, tags, custom fields: a reply, a note or a new owner alone does not count). A dry run keeps its own record: it skips what earlier dry runs recorded, and never makes a real run skip a ticket."`
	ClaimTTL      time.Duration   `yaml:"claim_ttl" default:"5m" desc:"How long a ticket stays leased to the otai process working on it; replicas sharing a state store skip it meanwhile, and take it over this long after a process died (at once when the dead process ran on the same machine). Renewed while the ticket is worked on."`
	Resume        bool            `yaml:"resume" default:"true" desc:"Also work on tickets this runner started and did not finish (otai was killed, or a step failed), read back from ticket_system, even when they no longer match the fetch: a move out of the fetched queue must not cost a ticket its note."`
	TicketSystem  string          `yaml:"ticket_system" desc:"Id of the ticket system unfinished tickets are read back from (resume); may be left out when only one is configured."`
}

func init() {
	registry.RegisterPipe(registry.Info{
		ID:        "base:ForEachTicketPipe",
		Aliases:   []string{"base:ForEachTicket", "base:ForEach", "otai_base:pipes.ForEachTicketPipe"},
		Summary:   "Run steps for every ticket, several at once; one ticket's failure never stops the others.",
		Container: true,
	}, newForEach)
}

func newForEach(b registry.Build[ForEachParams]) (pipe.Pipe, error) {
	if len(b.Steps) == 0 {
		return nil, fmt.Errorf("needs at least one step")
	}
	return pipe.Func(func(ctx context.Context, rc *pipe.Context) pipe.Result {
		p, err := b.Params.Get(rc)
		if err != nil {
			return pipe.Failed(fmt.Errorf("rendering params: %w", err))
		}
		// Work on copies: tickets usually come from an earlier pipe's
		// result, which other tickets' steps may read while this one is
		// updated (and which should still show the tickets as fetched).
		p.Tickets = slices.Clone(p.Tickets)
		var unfinished map[string]bool
		var unread []pipe.ItemResult
		if p.Resume && !rc.DryRun {
			p.Tickets, unfinished, unread = resume(ctx, rc, b.ID, p.TicketSystem, p.Tickets)
		}
		conc := max(1, min(p.Concurrency, 64))
		items := make([]pipe.ItemResult, len(p.Tickets))
		sem := make(chan struct{}, conc)
		var wg sync.WaitGroup
		started := 0
	loop:
		for i := range p.Tickets {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				break loop
			}
			if rc.IsStopping() {
				<-sem
				break
			}
			started++
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				defer func() { <-sem }()
				items[i] = runItem(ctx, rc, b.ID, b.Steps, &p.Tickets[i], p.SkipProcessed, p.ClaimTTL, unfinished[p.Tickets[i].ID])
			}(i)
		}
		wg.Wait()
		for i := started; i < len(items); i++ {
			t := &p.Tickets[i]
			items[i] = pipe.ItemResult{TicketID: t.ID, Number: t.Number, Subject: t.Subject, Queue: t.Queue.String(),
				Priority: t.Priority.String(), Status: pipe.StatusSkipped,
				Message: "not started: otai is shutting down; it will be picked up next run"}
		}
		items = append(items, unread...)
		var ok, skipped, failed int
		for _, it := range items {
			switch it.Status {
			case pipe.StatusSucceeded:
				ok++
			case pipe.StatusSkipped:
				skipped++
			case pipe.StatusFailed:
				failed++
			}
		}
		r := pipe.Result{Status: pipe.StatusSucceeded, Items: items,
			Data:    map[string]any{"succeeded": ok, "skipped": skipped, "failed": failed, "total": len(items)},
			Message: fmt.Sprintf("%d tickets: %d succeeded, %d skipped, %d failed", len(items), ok, skipped, failed)}
		if failed > 0 {
			r.Status = pipe.StatusFailed
		}
		return r
	}), nil
}

func markKey(rc *pipe.Context, pipeID, ticketID string) string {
	return rc.Runner + "/" + pipeID + "/" + ticketID
}

// dryRunKeyPrefix sets a dry run's processed marks (and leases) apart from
// a real run's: a shadow run skips the tickets it already recorded and
// that have not changed since, as a real run does, without making a real
// run of the same runner skip them. (Journal prefixes, runner/pipe/,
// never match them.)
const dryRunKeyPrefix = "dry-run:"

// itemKey is the key of a ticket's processed mark, journal entry and
// lease in rc's run.
func itemKey(rc *pipe.Context, pipeID, ticketID string) string {
	if rc.DryRun {
		return dryRunKeyPrefix + markKey(rc, pipeID, ticketID)
	}
	return markKey(rc, pipeID, ticketID)
}

// ErrLeaseLost ends the work on a ticket whose lease another process took
// over while this one still worked on it.
var ErrLeaseLost = errors.New("lost the lease on the ticket to another otai instance (this process stalled for longer than claim_ttl); stopped working on it")

// notClaimed is the message of a ticket another replica is working on.
const notClaimed = "being worked on by another otai instance"

func runItem(ctx context.Context, parent *pipe.Context, pipeID string, steps []*pipe.Step, t *ticket.Ticket, skipProcessed bool, claimTTL time.Duration, resumed bool) pipe.ItemResult {
	it := pipe.ItemResult{TicketID: t.ID, Number: t.Number, Subject: t.Subject, Queue: t.Queue.String(), Priority: t.Priority.String()}
	rc := parent.Child(t)
	rc.Resumed = resumed
	rc.DecisionID = pipe.NewDecisionID(time.Now())
	key := itemKey(parent, pipeID, t.ID)
	if rc.Claims != nil {
		// The lease comes first and the processed mark is read after it:
		// two replicas that fetched the same ticket cannot both find it
		// unmarked, because the second one gets the lease only after the
		// first has marked the ticket and released it.
		// Losing the lease (this process stalled for longer than its ttl
		// and another one took the ticket) stops the ticket's work: its
		// steps not yet run are not run, and requests in flight end.
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		ok, stop, err := claim(ctx, rc, key, claimTTL, func() { cancel(ErrLeaseLost) })
		if err != nil {
			it.Status, it.Message = pipe.StatusFailed, err.Error()
			return it
		}
		if !ok {
			it.Status, it.Message = pipe.StatusSkipped, notClaimed
			return it
		}
		defer stop()
	}
	if skipProcessed && rc.Marks != nil {
		m, ok, err := processedMark(ctx, rc.Marks, key)
		if err != nil {
			it.Status, it.Message = pipe.StatusFailed, err.Error()
			return it
		}
		// A ticket changed after we finished it in a way that matters to
		// triage (an agent moved it, the customer edited the subject) is
		// worked on again; one nobody touched, or that only got notes or
		// replies or a new owner (same fingerprint), is not.
		switch {
		case ok && !t.UpdatedAt.After(m.At):
			it.Status, it.Message = pipe.StatusSkipped, "already processed at "+m.At.Format(time.RFC3339)+" and unchanged since"
			return it
		case ok && m.Fingerprint != "" && m.Fingerprint == pipe.Fingerprint(t):
			it.Status, it.Message = pipe.StatusSkipped, "already processed at "+m.At.Format(time.RFC3339)+"; changed since only in ways triage does not read (notes, replies, owner)"
			return it
		}
	}
	if j, ok := rc.Marks.(Journal); ok && !rc.DryRun {
		// Recorded before the first write, kept until the ticket is marked
		// processed: if otai dies in between, or a step fails, the next run
		// resumes the ticket even when it no longer matches the fetch.
		if err := j.MarkStarted(ctx, key, time.Now()); err != nil {
			it.Status, it.Message = pipe.StatusFailed, err.Error()
			return it
		}
	}
	it.Steps = pipe.RunSteps(ctx, rc, steps)
	it.Status = pipe.Summarize(it.Steps)
	if it.Status == pipe.StatusFailed {
		for _, s := range it.Steps {
			if s.Status == pipe.StatusFailed {
				it.Message = s.Pipe + ": " + s.Message
				break
			}
		}
		rc.Log().Warn("ticket failed", "detail", it.Message)
		record(ctx, rc, pipeID, it)
		return it
	}
	// The decision is recorded before the ticket is marked processed: a
	// kill in between leaves the ticket unfinished (it is resumed, and its
	// second decision says nothing more was written), never finished
	// without a decision.
	record(ctx, rc, pipeID, it)
	if rc.Marks != nil { // in a dry run under its own key (itemKey)
		if err := markProcessed(ctx, rc.Marks, key, pipe.Mark{At: time.Now(), Fingerprint: pipe.Fingerprint(rc.Ticket)}); err != nil {
			rc.Log().Warn("could not record ticket as processed; it may be worked on again", "error", err)
		} else if j, ok := rc.Marks.(Journal); ok && !rc.DryRun {
			// Killed before this, the next run finds the ticket processed
			// and unchanged, and forgets it then (resume).
			if err := j.Forget(ctx, key); err != nil {
				rc.Log().Warn("could not record ticket as finished; the next run checks it again", "error", err)
			}
		}
	}
	return it
}

// claim takes the lease on key and keeps renewing it (every third of the
// ttl) until stop is called, which releases it. A release that fails is
// logged: the lease then runs out by itself.
//
// When a renewal finds the lease held by another owner, lost is called
// and renewing ends.
func claim(ctx context.Context, rc *pipe.Context, key string, ttl time.Duration, lost func()) (ok bool, stop func(), err error) {
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	ok, err = rc.Claims.Claim(ctx, key, rc.Owner, ttl)
	if err != nil {
		return false, nil, fmt.Errorf("claiming the ticket: %w", err)
	}
	if !ok {
		rc.Log().Debug("ticket skipped: " + notClaimed)
		return false, nil, nil
	}
	done := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		tk := time.NewTicker(ttl / 3)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tk.C:
				held, err := rc.Claims.Claim(context.WithoutCancel(ctx), key, rc.Owner, ttl)
				switch {
				case err != nil:
					rc.Log().Warn("could not renew the lease on the ticket", "error", err)
				case !held:
					rc.Log().Warn("lost the lease on the ticket: it ran out and another otai instance took it over; stopping work on it")
					lost()
					return
				}
			}
		}
	}()
	return true, func() {
		close(done)
		<-renewed
		if err := rc.Claims.Release(context.WithoutCancel(ctx), key, rc.Owner); err != nil {
			rc.Log().Warn("could not release the lease on the ticket; it runs out by itself", "error", err)
		}
	}, nil
}

// record keeps the ticket's decision. Losing a record is logged, not
// fatal: the ticket itself was handled.
func record(ctx context.Context, rc *pipe.Context, pipeID string, it pipe.ItemResult) {
	if rc.Decisions == nil {
		return
	}
	d := pipe.DecisionOf(rc, pipeID, it, time.Now().UTC())
	if err := rc.Decisions.RecordDecision(context.WithoutCancel(ctx), d); err != nil {
		rc.Log().Warn("could not record the decision", "error", err)
	}
}

// processedMark reads key's mark, with its fingerprint when the marks keep
// one.
func processedMark(ctx context.Context, ms pipe.Marks, key string) (pipe.Mark, bool, error) {
	if fm, ok := ms.(pipe.FingerprintMarks); ok {
		return fm.ProcessedMark(ctx, key)
	}
	at, ok, err := ms.Processed(ctx, key)
	return pipe.Mark{At: at}, ok, err
}

// markProcessed records m, with its fingerprint when the marks keep one.
func markProcessed(ctx context.Context, ms pipe.Marks, key string, m pipe.Mark) error {
	if fm, ok := ms.(pipe.FingerprintMarks); ok {
		return fm.MarkProcessedAs(ctx, key, m)
	}
	return ms.MarkProcessed(ctx, key, m.At)
}
