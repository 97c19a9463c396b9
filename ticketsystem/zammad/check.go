package zammad

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/otai-dev/otai/ticket"
)

// Check tests the connection for `otai check`: credentials, search,
// reading a ticket, and the agent's access to each given group.
func (c *Client) Check(ctx context.Context, opts ticket.CheckOptions) []ticket.CheckResult {
	var out []ticket.CheckResult
	var me User
	if err := c.get(ctx, "checking credentials", "/users/me", nil, &me); err != nil {
		msg := err.Error()
		if errors.Is(err, ticket.ErrAuth) {
			msg += " (create a token under Profile -> Token Access with ticket.agent, or check username and password; an admin may have disabled token or password access)"
		}
		return append(out, ticket.CheckResult{Name: "auth", Message: msg})
	}
	out = append(out, ticket.CheckResult{Name: "auth", OK: true, Message: "logged in as " + me.Login})
	ts, err := c.FindTickets(ctx, ticket.SearchCriteria{Limit: 1})
	if err != nil {
		out = append(out, ticket.CheckResult{Name: "search", Message: err.Error()})
	} else {
		out = append(out, ticket.CheckResult{Name: "search", OK: true, Message: fmt.Sprintf("listing tickets works (%d seen)", len(ts))})
	}
	if len(ts) > 0 {
		if _, err := c.GetTicket(ctx, ts[0].ID); err != nil {
			out = append(out, ticket.CheckResult{Name: "get", Message: err.Error()})
		} else {
			out = append(out, ticket.CheckResult{Name: "get", OK: true, Message: "read ticket " + ts[0].ID + " with its articles"})
		}
	}
	if len(opts.Queues) == 0 {
		return out
	}
	var groups []Group
	gerr := c.get(ctx, "listing groups", "/groups", nil, &groups)
	for _, q := range opts.Queues {
		name := "update permission on " + q
		if gerr != nil {
			out = append(out, ticket.CheckResult{Name: name, Message: gerr.Error()})
			continue
		}
		i := slices.IndexFunc(groups, func(g Group) bool { return strings.EqualFold(g.Name, q) })
		if i < 0 {
			var names []string
			for _, g := range groups {
				names = append(names, g.Name)
			}
			out = append(out, ticket.CheckResult{Name: name, Message: fmt.Sprintf("no group %q in Zammad (groups: %s)", q, strings.Join(names, ", "))})
			continue
		}
		g := groups[i]
		perms, known := me.GroupIDs[strconv.FormatInt(g.ID, 10)]
		switch {
		case me.GroupIDs != nil && !known:
			out = append(out, ticket.CheckResult{Name: name, Message: fmt.Sprintf("the agent has no access to group %q: grant it full (or change) access under Admin -> Users -> Group permissions", q)})
		case known && !slices.Contains(perms, "full") && !slices.Contains(perms, "change"):
			out = append(out, ticket.CheckResult{Name: name, Message: fmt.Sprintf("the agent has %v on group %q; it needs full or change", perms, q)})
		default:
			out = append(out, ticket.CheckResult{Name: name, OK: true, Message: fmt.Sprintf("group %q is id %d", q, g.ID)})
		}
	}
	return out
}
