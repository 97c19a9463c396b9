package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otai-dev/otai/classify/linear"
	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/state"
	"github.com/otai-dev/otai/ticket"
)

// What 'otai train --corrections --check-tickets' adds: the update pipe
// records a correction only when it meets a ticket again, and a ticket otai
// moved out of the fetched queue (the Inbox) is never fetched again. So
// train reads every ticket otai changed the field of, now, and an agent's
// value that differs from otai's is a correction too.

// liveWorkers is how many tickets are read at a time. The REST adapters
// rate-limit and retry on their own; this only keeps a slow help desk busy.
const liveWorkers = 4

// authGiveUp: after this many authentication failures in a ticket system
// and no ticket read, its other tickets are not tried (the credentials are
// wrong, and a help desk may lock the account after many failed logins).
const authGiveUp = 4

// errNotTried marks the tickets left unread after authGiveUp failures.
var errNotTried = errors.New("not tried after repeated authentication failures")

// changeFieldOf is the Change.Field an update records for the learned field:
// queue, priority, state, type and owner as they are; anything else is a
// custom field ("custom_fields.NAME"), as linear.FieldValue reads it.
func changeFieldOf(field string) string {
	switch f := strings.ToLower(field); f {
	case "queue", "priority", "state", "type", "owner":
		return f
	}
	return "custom_fields." + strings.TrimPrefix(strings.TrimPrefix(field, "custom_fields."), "custom:")
}

// liveTicket is one ticket to read: the newest non-dry-run decision that
// changed the field, and what it changed it from and to.
type liveTicket struct {
	d        pipe.Decision
	from, to string
	sys      int // index into the systems of checkTickets

	// After the lookup: the field's value now, and the ticket's text
	// and time (not its notes: there may be thousands of tickets).
	have, subject, body string
	updated             time.Time
	err                 error
}

// liveStats is what checkTickets found in one ticket system.
type liveStats struct {
	System                                     string // the service id, for messages
	Checked, Agreed, Corrected, SentBack, Gone int
	Unreadable                                 int
	FirstErr                                   error // the first unreadable ticket's error
	Skipped                                    int   // tickets not checked: the config has no such ticket system
	Err                                        error // why the ticket system cannot be used

	decisionSystem   string // as the decisions name it ("" for the only one)
	ticketSystem     ticket.System
	authFailed, read atomic.Int32
}

// latestChanges picks, per ticket system and ticket id, the newest of ds
// (newest first, as state.Decisions lists them) that is no dry run and
// changed field. Within a decision the first change of the field tells
// the value before otai, the last the value otai left.
func latestChanges(ds []pipe.Decision, field string) []liveTicket {
	want := changeFieldOf(field)
	seen := map[string]bool{}
	var out []liveTicket
	for _, d := range ds {
		if d.DryRun {
			continue
		}
		var from, to string
		found := false
		for _, c := range d.Changes {
			if !strings.EqualFold(c.Field, want) {
				continue
			}
			if !found {
				from = c.From
			}
			to, found = c.To, true
		}
		key := d.TicketSystem + "\x00" + d.TicketID
		if !found || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, liveTicket{d: d, from: from, to: to})
	}
	return out
}

// checkTickets reads each ticket of ts from its ticket system (systems
// resolves a decision's ticket system id; defaultSystem names "" in
// messages) and returns the corrections found: tickets whose field now
// holds neither what otai set nor what it had before otai (nor nothing).
// A ticket that is gone or cannot be read is counted, not fatal, unless
// every lookup fails for want of authentication or permission.
func checkTickets(ctx context.Context, ts []liveTicket, field string, systems func(id string) (ticket.System, error), defaultSystem string, now time.Time) ([]pipe.Correction, []*liveStats, error) {
	var stats []*liveStats
	byName := map[string]int{}
	for i := range ts {
		name := ts[i].d.TicketSystem
		idx, ok := byName[name]
		if !ok {
			st := &liveStats{System: name, decisionSystem: name}
			if st.System == "" {
				st.System = defaultSystem
			}
			st.ticketSystem, st.Err = systems(name)
			idx = len(stats)
			byName[name] = idx
			stats = append(stats, st)
		}
		ts[i].sys = idx
		if stats[idx].Err != nil {
			stats[idx].Skipped++
		}
	}

	jobs := make(chan *liveTicket)
	var wg sync.WaitGroup
	for range liveWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lt := range jobs {
				st := stats[lt.sys]
				if st.read.Load() == 0 && st.authFailed.Load() >= authGiveUp {
					lt.err = errNotTried
					continue
				}
				t, err := st.ticketSystem.GetTicket(ctx, lt.d.TicketID)
				switch {
				case err == nil:
					st.read.Add(1)
					lt.have = strings.TrimSpace(linear.FieldValue(t, changeFieldOf(field)))
					lt.subject, lt.body, lt.updated = t.Subject, t.Body, t.UpdatedAt
				case errors.Is(err, ticket.ErrAuth):
					st.authFailed.Add(1)
				}
				lt.err = err
			}
		}()
	}
feed:
	for i := range ts {
		if stats[ts[i].sys].Err != nil {
			continue
		}
		select {
		case jobs <- &ts[i]:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, stats, err
	}

	var cs []pipe.Correction
	lookups, denied := 0, 0
	var firstDenied error
	for i := range ts {
		lt := &ts[i]
		st := stats[lt.sys]
		if st.Err != nil {
			continue
		}
		st.Checked++
		lookups++
		if lt.err != nil {
			if errors.Is(lt.err, ticket.ErrNotFound) {
				st.Gone++
				continue
			}
			st.Unreadable++
			if st.FirstErr == nil && !errors.Is(lt.err, errNotTried) {
				st.FirstErr = fmt.Errorf("ticket %s: %w", lt.d.TicketID, lt.err)
			}
			if errors.Is(lt.err, ticket.ErrAuth) || errors.Is(lt.err, ticket.ErrForbidden) || errors.Is(lt.err, errNotTried) {
				denied++
				if firstDenied == nil && st.FirstErr != nil {
					firstDenied = fmt.Errorf("%s: %w", st.System, st.FirstErr)
				}
			}
			continue
		}
		have := lt.have
		switch {
		case strings.EqualFold(have, strings.TrimSpace(lt.to)):
			st.Agreed++
		case have == "" || strings.EqualFold(have, strings.TrimSpace(lt.from)):
			st.SentBack++
		default:
			st.Corrected++
			at := lt.updated
			if at.IsZero() {
				at = now
			}
			cs = append(cs, pipe.Correction{At: at.UTC(), Runner: lt.d.Runner, TicketSystem: lt.d.TicketSystem, TicketID: lt.d.TicketID,
				Field: field, Otai: lt.to, Agent: have, DecisionID: lt.d.ID, Subject: lt.subject, Body: lt.body})
		}
	}
	if lookups > 0 && denied == lookups {
		return nil, stats, fmt.Errorf("--check-tickets: could not read any of the %s otai changed: %w (check the ticket system's credentials and permissions in the config)",
			plural(lookups, "ticket"), firstDenied)
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].At.Before(cs[j].At) })
	return cs, stats, nil
}

// printLiveStats writes one line per ticket system.
func printLiveStats(w io.Writer, field string, stats []*liveStats) {
	for _, st := range stats {
		name := st.System
		if name == "" {
			name = "the ticket system"
		}
		if st.Err != nil {
			fmt.Fprintf(w, "skipped %s whose %s otai set in %q: %v (give the --config otai runs with)\n", plural(st.Skipped, "ticket"), field, st.decisionSystem, st.Err)
			continue
		}
		line := fmt.Sprintf("checked %s whose %s otai set in %s: %d still as otai set it, %s, %d sent back (set to the value before otai, or emptied), %d gone",
			plural(st.Checked, "ticket"), field, name, st.Agreed,
			corrected(st.Corrected), st.SentBack, st.Gone)
		if st.Unreadable > 0 {
			line += fmt.Sprintf(", %d unreadable", st.Unreadable)
			if st.FirstErr != nil {
				line += fmt.Sprintf(" (first: %v)", st.FirstErr)
			}
		}
		fmt.Fprintln(w, line)
	}
}

// corrected is "1 corrected by an agent" or "n corrected by agents".
func corrected(n int) string {
	if n == 1 {
		return "1 corrected by an agent"
	}
	return fmt.Sprintf("%d corrected by agents", n)
}

// mergeLive puts the corrections found on the tickets with the recorded
// ones, oldest first. Where both have a ticket, the live one stays: it is
// the ticket's state now. replaced counts the recorded ones dropped. A
// ticket system left unnamed ("") is only, the only one configured.
func mergeLive(recorded, live []pipe.Correction, only string) (out []pipe.Correction, replaced int) {
	key := func(c pipe.Correction) string {
		sys := c.TicketSystem
		if sys == "" {
			sys = only
		}
		return sys + "\x00" + c.TicketID
	}
	has := map[string]bool{}
	for _, c := range live {
		has[key(c)] = true
	}
	out = make([]pipe.Correction, 0, len(recorded)+len(live))
	for _, c := range recorded {
		if has[key(c)] {
			replaced++
			continue
		}
		out = append(out, c)
	}
	out = append(out, live...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, replaced
}

// changedDecisions lists the non-dry-run decisions since since (zero: all)
// from the state store, newest first.
func (app *App) changedDecisions(ctx context.Context, since time.Time) ([]pipe.Decision, error) {
	st, err := app.openState(ctx, "", true)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	no := false
	ds, err := st.Decisions(ctx, state.Filter{Since: since, DryRun: &no, Limit: -1})
	if err != nil {
		return nil, envError(fmt.Errorf("--check-tickets: %w", err))
	}
	return ds, nil
}

// liveCorrections is --check-tickets: it reads every ticket whose field a
// real decision (since since) changed from the ticket systems of eng,
// prints what it found, and returns the corrections found merged with
// the recorded ones (mergeLive).
func (app *App) liveCorrections(ctx context.Context, file *config.File, eng *orchestrator.Engine, field string, since time.Time, recorded []pipe.Correction) ([]pipe.Correction, error) {
	ds, err := app.changedDecisions(ctx, since)
	if err != nil {
		return nil, err
	}
	ts := latestChanges(ds, field)
	if len(ts) == 0 {
		fmt.Fprintf(app.Err, "no decision in %s changed %s: no tickets to check\n", app.stateWhere(), field)
		return recorded, nil
	}
	var ids []string
	for _, s := range file.Services {
		if s.Spec != nil && s.Spec.Kind == registry.KindTicketSystem {
			ids = append(ids, s.ID)
		}
	}
	only := ""
	if len(ids) == 1 {
		only = ids[0]
	}
	cs, stats, err := checkTickets(ctx, ts, field, eng.Services().TicketSystem, only, time.Now())
	if ctx.Err() != nil {
		return nil, failure(fmt.Errorf("--check-tickets: %w", ctx.Err()))
	}
	printLiveStats(app.Err, field, stats)
	if err != nil {
		return nil, failure(err)
	}
	merged, _ := mergeLive(recorded, cs, only)
	return merged, nil
}
