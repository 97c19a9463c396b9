package local

import (
	"context"
	"fmt"
	"strings"

	"github.com/otai-dev/otai/ticket"
)

// Check reports, for `otai check`, whether the database opens, whether a
// search works, whether a ticket can be read, and whether each queue in
// opts.Queues exists.
func (s *Store) Check(ctx context.Context, opts ticket.CheckOptions) []ticket.CheckResult {
	var out []ticket.CheckResult
	if err := s.db.PingContext(ctx); err != nil {
		return append(out, ticket.CheckResult{Name: "open", Message: fmt.Sprintf("cannot open ticket store %s: %v", s.path, err)})
	}
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return append(out, ticket.CheckResult{Name: "open", Message: fmt.Sprintf("cannot read ticket store %s: %v", s.path, err)})
	}
	out = append(out, ticket.CheckResult{Name: "open", OK: true,
		Message: fmt.Sprintf("ticket store %s, schema version %d", s.path, version)})

	n, err := s.Count(ctx, ticket.SearchCriteria{})
	if err != nil {
		return append(out, ticket.CheckResult{Name: "search", Message: fmt.Sprintf("searching tickets failed: %v", err)})
	}
	out = append(out, ticket.CheckResult{Name: "search", OK: true, Message: fmt.Sprintf("%d tickets", n)})
	if n > 0 {
		first, err := s.FindFirstTicket(ctx, ticket.SearchCriteria{})
		if err == nil {
			_, err = s.GetTicket(ctx, first.ID)
		}
		if err != nil {
			out = append(out, ticket.CheckResult{Name: "get", Message: fmt.Sprintf("reading a ticket failed: %v", err)})
		} else {
			out = append(out, ticket.CheckResult{Name: "get", OK: true, Message: "read ticket " + first.ID})
		}
	}

	if len(opts.Queues) == 0 {
		return out
	}
	queues, err := s.Queues(ctx)
	if err != nil {
		return append(out, ticket.CheckResult{Name: "queues", Message: err.Error()})
	}
	names := make([]string, len(queues))
	for i, q := range queues {
		names[i] = q.Name
	}
	for _, want := range opts.Queues {
		r := ticket.CheckResult{Name: "queue " + want}
		for _, q := range queues {
			if q.Matches(ticket.Entity{Name: want}) || q.ID == want {
				r.OK, r.Message = true, fmt.Sprintf("queue %s exists (id %s)", q.Name, q.ID)
				break
			}
		}
		if !r.OK {
			r.Message = fmt.Sprintf("queue %q does not exist (known: %s): add it to the local ticket system's queues: param, or fix the name",
				want, strings.Join(names, ", "))
		}
		out = append(out, r)
	}
	return out
}
