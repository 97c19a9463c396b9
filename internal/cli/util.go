package cli

import (
	"context"
	"errors"
	"time"

	"github.com/otai-dev/otai/ticket"
)

func contextWithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// basicCheck is what check does for ticket systems that cannot check
// themselves: search for one ticket and read it.
func basicCheck(ctx context.Context, sys ticket.System) []ticket.CheckResult {
	ts, err := sys.FindTickets(ctx, ticket.SearchCriteria{Limit: 1})
	if err != nil {
		msg := err.Error()
		if errors.Is(err, ticket.ErrAuth) {
			msg += " (check the username and password or token)"
		}
		return []ticket.CheckResult{{Name: "search", Message: msg}}
	}
	out := []ticket.CheckResult{{Name: "search", OK: true, Message: "searching tickets works"}}
	if len(ts) == 0 {
		return append(out, ticket.CheckResult{Name: "get", OK: true, Message: "no ticket to read (the search found none)"})
	}
	if _, err := sys.GetTicket(ctx, ts[0].ID); err != nil {
		return append(out, ticket.CheckResult{Name: "get", Message: err.Error()})
	}
	return append(out, ticket.CheckResult{Name: "get", OK: true, Message: "reading ticket " + ts[0].ID + " works"})
}
