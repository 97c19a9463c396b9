package otobo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/ticket"
)

// Check tests the connection for `otai check`: authentication, search,
// reading a ticket, the permission to move tickets out of each source
// queue, and whether each target queue can be seen. Nothing is written.
//
// The GI's TicketUpdate checks a queue change with TicketPermission(Type =>
// 'move') on the queue the ticket is in now, before it notices that the
// data is unchanged; it checks nothing on the target queue. So the move
// check sends, for a ticket in each source queue, a TicketUpdate that sets
// the queue it is already in: the permission is checked and nothing
// changes. Target queues cannot be probed without moving a ticket; Check
// reports what it could see and what stays unverified.
func (c *Client) Check(ctx context.Context, opts ticket.CheckOptions) []ticket.CheckResult {
	var out []ticket.CheckResult
	add := func(name string, err error, okMsg string) bool {
		r := ticket.CheckResult{Name: name, OK: err == nil, Message: okMsg}
		if err != nil {
			r.Message = advice(err, c)
		}
		out = append(out, r)
		return err == nil
	}
	warn := func(name, msg string) {
		out = append(out, ticket.CheckResult{Name: name, OK: true, Warn: true, Message: msg})
	}

	// auth
	if c.p.Auth == AuthSession {
		_, err := c.sessionID(ctx)
		if !add("auth", err, fmt.Sprintf("session created for agent %s", c.p.Username)) {
			return out
		}
	}
	ids, err := c.SearchTicketIDs(ctx, Query{Limit: 1, OrderBy: "Down"})
	if c.p.Auth == AuthPerRequest {
		var te *ticket.Error
		switch {
		case err == nil:
			add("auth", nil, fmt.Sprintf("agent %s accepted (credentials sent with each request)", c.p.Username))
		case errors.As(err, &te) && te.Kind == ticket.ErrAuth:
			add("auth", err, "")
			return out
		default:
			// The search failed before the GI judged the credentials (or
			// for another reason): the credentials are neither good nor bad.
			warn("auth", "not verified: the search failed for another reason (see below), so the credentials were not tested")
		}
	}
	if !add("search", err, fmt.Sprintf("TicketSearch works (%s)", c.routes[OpTicketSearch])) {
		return out
	}
	if len(ids) == 0 {
		warn("get", "not verified: the agent sees no tickets (grant ro on the queues otai reads)")
	} else {
		_, err := c.GetTicket(ctx, ids[0])
		add("get", err, fmt.Sprintf("TicketGet works (ticket %s with articles)", ids[0]))
	}
	for _, q := range dedupe(opts.SourceQueues) {
		name := "moving tickets out of " + q
		found, err := c.SearchTicketIDs(ctx, Query{Queues: []string{q}, Limit: 1})
		if err != nil {
			add(name, err, "")
			continue
		}
		if len(found) == 0 {
			warn(name, fmt.Sprintf("not verified: no ticket in queue %q is visible to %s (the queue is empty, misspelled, "+
				"or the agent lacks ro on its group; sub-queues are written Parent::Child). TicketUpdate checks the move "+
				"permission on the queue a ticket is in: give %s rw on the group of %q", q, c.p.Username, c.p.Username, q))
			continue
		}
		// Setting the queue the ticket is already in: the GI checks 'move'
		// on it and then finds nothing to change.
		err = c.UpdateTicket(ctx, found[0], ticket.Update{Queue: &ticket.Entity{Name: q}})
		if errors.Is(err, ticket.ErrForbidden) {
			out = append(out, ticket.CheckResult{Name: name, Message: fmt.Sprintf("%v — TicketUpdate checks the move "+
				"permission on the queue a ticket is in: give %s rw on the group of %q (Admin → Agents ↔ Groups)", err, c.p.Username, q)})
			continue
		}
		add(name, err, fmt.Sprintf("agent %s may move tickets out of %q (checked on ticket %s; nothing was changed)", c.p.Username, q, found[0]))
	}
	for _, q := range dedupe(opts.Queues) {
		name := "target queue " + q
		found, err := c.SearchTicketIDs(ctx, Query{Queues: []string{q}, Limit: 1})
		if err != nil {
			add(name, err, "")
			continue
		}
		if len(found) == 0 {
			// The GI answers a search in a queue that does not exist with
			// {}, exactly like one in an empty queue or a queue the agent
			// may not read: which of the three it is cannot be told.
			warn(name, fmt.Sprintf("not verified: no ticket in queue %q is visible to %s, and the GI answers a search in a "+
				"queue that does not exist the same way; check the name (exact spelling, sub-queues are Parent::Child) "+
				"and give %s at least ro (rw for notes) on its group", q, c.p.Username, c.p.Username))
			continue
		}
		out = append(out, ticket.CheckResult{Name: name, OK: true, Message: fmt.Sprintf(
			"queue %q exists and %s sees its tickets; not verified without writing: adding the note to a ticket "+
				"moved here needs note (or rw) on the group of %q", q, c.p.Username, q)})
	}
	return out
}

func dedupe(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range s {
		v = strings.TrimSpace(v)
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	return out
}

// advice turns an error into a message an admin can act on.
func advice(err error, c *Client) string {
	var te *ticket.Error
	if !errors.As(err, &te) {
		return err.Error()
	}
	msg := te.Error()
	switch {
	case te.Kind == ticket.ErrAuth:
		if strings.Contains(msg, "check username") { // sessionID already says what to check
			return msg + " (Admin → Agents)"
		}
		return msg + fmt.Sprintf(" — check username and password; %s must be a valid agent, not a customer (Admin → Agents)", c.p.Username)
	case te.Code == "HTTP::REST" || te.Code == "otai.NoRoute":
		return msg + " — import GenericTicketConnectorREST.yml (Admin → Web Services) or set route_preset/routes to match it"
	case te.Kind == ticket.ErrForbidden:
		return msg + fmt.Sprintf(" — give %s rw on the queue's group (Admin → Agents ↔ Groups)", c.p.Username)
	case te.Kind == ticket.ErrValidation && te.Field == "Queue":
		return msg + " — the queue does not exist; check the name (sub-queues are written Parent::Child)"
	case te.Kind == ticket.ErrUnavailable && httpx.IsTLSError(te):
		return msg + " — the server's TLS certificate was not accepted: set tls_ca_file to a PEM file with the CA " +
			"that signed it (an internal CA), or tls_verify: false on a test system only"
	case te.Kind == ticket.ErrUnavailable:
		return msg + " — check base_url, webservice_name and that the help desk is reachable"
	}
	return msg
}
