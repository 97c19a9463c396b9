package pipes

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/ticket"
)

// Journal is what a Marks store may also keep (the SQLite state.Store
// does): which tickets a for-each started and has not finished. A
// for-each records a ticket as started before its steps run and forgets
// it once the ticket is marked processed; a ticket otai was killed on, or
// whose steps failed, stays started, and the next run resumes it (see
// resume), even when it no longer matches the fetch.
type Journal interface {
	// MarkStarted records that work on key began at t.
	MarkStarted(ctx context.Context, key string, t time.Time) error
	// Unfinished lists the started keys that begin with prefix, oldest first.
	Unfinished(ctx context.Context, prefix string) ([]string, error)
	// Forget drops key's started record.
	Forget(ctx context.Context, key string) error
}

// resume puts the tickets this for-each started in an earlier run and did
// not finish before ts, read back from the ticket system, unless ts has
// them already. Without it, a ticket whose update moved it out of the
// fetched queue and whose note was then lost (otai killed, the note
// failed) would never be noted, marked or recorded. An unfinished ticket
// that is marked processed and unchanged since (otai was killed between
// the mark and forgetting it) is forgotten, as is one that no longer
// exists; one that cannot be read now is tried again next run.
//
// It also returns the ids of the unfinished tickets it kept, fetched or
// read back (see pipe.Context.Resumed), and a failed item for each one it
// could not read back: the run then reports them (and fails) instead of
// looking done while a ticket waits for its note.
func resume(ctx context.Context, rc *pipe.Context, pipeID, system string, ts []ticket.Ticket) ([]ticket.Ticket, map[string]bool, []pipe.ItemResult) {
	j, ok := rc.Marks.(Journal)
	if !ok {
		return ts, nil, nil
	}
	prefix := markKey(rc, pipeID, "")
	keys, err := j.Unfinished(ctx, prefix)
	if err != nil {
		rc.Log().Warn("could not list unfinished tickets; they are not resumed this run", "error", err)
		return ts, nil, []pipe.ItemResult{{Status: pipe.StatusFailed,
			Message: "could not list the tickets an earlier run left unfinished; trying again next run: " + err.Error()}}
	}
	if len(keys) == 0 {
		return ts, nil, nil
	}
	fetched := make(map[string]*ticket.Ticket, len(ts))
	for i := range ts {
		fetched[ts[i].ID] = &ts[i]
	}
	forget := func(key, why string) {
		rc.Log().Debug("forgetting an unfinished ticket: "+why, "key", key)
		if err := j.Forget(ctx, key); err != nil {
			rc.Log().Warn("could not forget an unfinished ticket", "key", key, "error", err)
		}
	}
	var sys ticket.System
	var resumed []ticket.Ticket
	unfinished := map[string]bool{}
	var unread []pipe.ItemResult
	for _, key := range keys {
		id := strings.TrimPrefix(key, prefix)
		if id == "" || strings.Contains(id, "/") {
			continue
		}
		t := fetched[id]
		if t == nil {
			if sys == nil {
				if sys, err = rc.Services.TicketSystem(system); err != nil {
					rc.Log().Warn("cannot resume unfinished tickets: name their ticket_system in the for-each's params", "error", err)
					return ts, nil, []pipe.ItemResult{{Status: pipe.StatusFailed,
						Message: "cannot resume unfinished tickets: name their ticket_system in the for-each's params: " + err.Error()}}
				}
			}
			t, err = sys.GetTicket(ctx, id)
			switch {
			case errors.Is(err, ticket.ErrNotFound):
				forget(key, "it no longer exists")
				continue
			case err != nil:
				rc.Log().Warn("could not read an unfinished ticket; trying again next run", "ticket", id, "error", err)
				unread = append(unread, pipe.ItemResult{TicketID: id, Status: pipe.StatusFailed,
					Message: "resuming: could not read the ticket back; trying again next run: " + err.Error()})
				continue
			}
		}
		m, done, err := processedMark(ctx, rc.Marks, key)
		switch {
		case err != nil:
			rc.Log().Warn("could not read the processed mark of an unfinished ticket", "ticket", id, "error", err)
		case done && (!t.UpdatedAt.After(m.At) || (m.Fingerprint != "" && m.Fingerprint == pipe.Fingerprint(t))):
			// Finished (killed between the mark and forgetting it), and
			// not changed since in a way that matters: the for-each would
			// skip it, so there is nothing to resume.
			forget(key, "it was finished")
			continue
		}
		unfinished[id] = true
		if fetched[id] == nil {
			resumed = append(resumed, *t)
			fetched[id] = t
		}
	}
	if len(resumed) == 0 {
		return ts, unfinished, unread
	}
	rc.Log().Info("resuming tickets started earlier and not finished", "tickets", len(resumed))
	return append(resumed, ts...), unfinished, unread
}
