package otobo

import (
	"context"
	"errors"
	"fmt"

	"github.com/otai-dev/otai/ticket"
)

// Check tests the connection for `otai check`: authentication, search,
// reading a ticket, and for each queue otai moves tickets into, whether the
// agent may update tickets there. The update check sends a TicketUpdate
// that sets a ticket's queue to the queue it is already in: the GI checks
// the permission and changes nothing.
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
		authErr := err
		if err != nil && !(errors.As(err, &te) && te.Kind == ticket.ErrAuth) {
			authErr = nil
		}
		if !add("auth", authErr, fmt.Sprintf("agent %s accepted (credentials sent with each request)", c.p.Username)) {
			return out
		}
	}
	if !add("search", err, fmt.Sprintf("TicketSearch works (%s)", c.routes[OpTicketSearch])) {
		return out
	}
	if len(ids) == 0 {
		out = append(out, ticket.CheckResult{Name: "get", OK: true,
			Message: "not verified: the agent sees no tickets (grant ro on the queues otai reads)"})
	} else {
		_, err := c.GetTicket(ctx, ids[0])
		add("get", err, fmt.Sprintf("TicketGet works (ticket %s with articles)", ids[0]))
	}
	for _, q := range opts.Queues {
		name := "update permission on " + q
		found, err := c.SearchTicketIDs(ctx, Query{Queues: []string{q}, Limit: 1})
		if err != nil {
			add(name, err, "")
			continue
		}
		if len(found) == 0 {
			out = append(out, ticket.CheckResult{Name: name, OK: true, Message: fmt.Sprintf(
				"not verified: no ticket in queue %q is visible to %s (the queue may be empty or misspelled; give the agent rw on it)", q, c.p.Username)})
			continue
		}
		err = c.UpdateTicket(ctx, found[0], ticket.Update{Queue: &ticket.Entity{Name: q}})
		add(name, err, fmt.Sprintf("agent %s may update tickets in %q", c.p.Username, q))
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
		return msg + fmt.Sprintf(" — check username/password; %s must be a valid agent (Admin → Agents)", c.p.Username)
	case te.Code == "HTTP::REST" || te.Code == "otai.NoRoute":
		return msg + " — import GenericTicketConnectorREST.yml (Admin → Web Services) or set route_preset/routes to match it"
	case te.Kind == ticket.ErrForbidden:
		return msg + fmt.Sprintf(" — give %s rw on the queue's group (Admin → Agents ↔ Groups)", c.p.Username)
	case te.Kind == ticket.ErrValidation && te.Field == "Queue":
		return msg + " — the queue does not exist; check the name (sub-queues are written Parent::Child)"
	case te.Kind == ticket.ErrUnavailable:
		return msg + " — check base_url, webservice_name and that the help desk is reachable"
	}
	return msg
}
