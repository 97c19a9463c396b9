package freshdesk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/otai-dev/otai/ticket"
)

// Check tests the connection for `otai check`: the API key, listing and
// reading a ticket, and whether the agent can work in each given group.
func (c *Client) Check(ctx context.Context, opts ticket.CheckOptions) []ticket.CheckResult {
	var out []ticket.CheckResult
	var me Agent
	if _, err := c.get(ctx, "checking the API key", "/agents/me", nil, &me); err != nil {
		msg := err.Error()
		switch {
		case errors.Is(err, ticket.ErrAuth):
			msg += " (use the API key from the agent's Profile settings; password logins are retired)"
		case errors.Is(err, ticket.ErrUnavailable):
			msg += " (check domain / base_url and the network)"
		}
		return append(out, ticket.CheckResult{Name: "auth", Message: msg})
	}
	out = append(out, ticket.CheckResult{Name: "auth", OK: true,
		Message: fmt.Sprintf("agent %d %s", me.ID, me.Contact.Email)})

	ts, err := c.FindTickets(ctx, ticket.SearchCriteria{Limit: 1})
	switch {
	case err != nil:
		out = append(out, ticket.CheckResult{Name: "search", Message: err.Error()})
	default:
		out = append(out, ticket.CheckResult{Name: "search", OK: true, Message: fmt.Sprintf("listing tickets works (%d seen)", len(ts))})
	}
	if len(ts) > 0 {
		if _, err := c.GetTicket(ctx, ts[0].ID); err != nil {
			out = append(out, ticket.CheckResult{Name: "get", Message: err.Error()})
		} else {
			out = append(out, ticket.CheckResult{Name: "get", OK: true, Message: "read ticket " + ts[0].ID + " with its conversations"})
		}
	}

	groups, gerr := c.groupNames(ctx)
	for _, q := range opts.Queues {
		name := "update permission on " + q
		if gerr != nil {
			out = append(out, ticket.CheckResult{Name: name, Message: gerr.Error()})
			continue
		}
		id, err := c.resolveGroup(ctx, "checking group "+q, ticket.Entity{Name: q})
		if err != nil {
			var known []string
			for _, n := range groups {
				known = append(known, n)
			}
			slices.Sort(known)
			out = append(out, ticket.CheckResult{Name: name, Message: fmt.Sprintf("no group %q in Freshdesk (groups: %s); create it under Admin -> Groups or fix the label", q, strings.Join(known, ", "))})
			continue
		}
		switch {
		case me.TicketScope == 2 && !slices.Contains(me.GroupIDs, id):
			out = append(out, ticket.CheckResult{Name: name, Message: fmt.Sprintf("the agent has group scope and is not in group %q (id %d): tickets moved there leave its view; give it global ticket scope", q, id)})
		case me.TicketScope == 3:
			out = append(out, ticket.CheckResult{Name: name, Message: "the agent has restricted ticket scope (only its own tickets); give it global ticket scope"})
		default:
			out = append(out, ticket.CheckResult{Name: name, OK: true, Message: fmt.Sprintf("group %q is id %d", q, id)})
		}
	}
	return out
}
