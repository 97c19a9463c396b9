package pipes

import (
	"context"
	"fmt"

	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
)

// FetchParams are the params of base:FetchTicketsPipe.
type FetchParams struct {
	TicketSystem string                `yaml:"ticket_system" ref:"ticket_system" desc:"Id of the ticket system service to fetch from; may be left out when only one is configured."`
	Criteria     ticket.SearchCriteria `yaml:"ticket_search_criteria" aliases:"criteria,search" desc:"Which tickets: id, subject, queue, state, priority, owner, created_since, created_before, updated_since, updated_before, custom_fields, limit, offset."`
	WithNotes    bool                  `yaml:"with_notes" desc:"Also load each ticket's notes (one more request per ticket on some help desks)."`
}

func init() {
	registry.RegisterPipe(registry.Info{
		ID:      "base:FetchTicketsPipe",
		Aliases: []string{"otai_base:pipes.ticket_system_pipes.FetchTicketsPipe", "base:FetchTickets", "base:Fetch"},
		Summary: "Fetch tickets matching search criteria; later pipes read pipes.<id>.tickets.",
	}, func(b registry.Build[FetchParams]) (pipe.Pipe, error) {
		return withParams(b, func(ctx context.Context, rc *pipe.Context, p FetchParams) pipe.Result {
			sys, err := rc.Services.TicketSystem(p.TicketSystem)
			if err != nil {
				return pipe.Failed(err)
			}
			if p.Criteria.Limit <= 0 {
				p.Criteria.Limit = 100
			}
			ts, err := sys.FindTickets(ctx, p.Criteria)
			if err != nil {
				return pipe.Failed(fmt.Errorf("fetching tickets from %s: %w", systemName(p.TicketSystem), err))
			}
			if p.WithNotes {
				for i := range ts {
					full, err := sys.GetTicket(ctx, ts[i].ID)
					if err != nil {
						return pipe.Failed(fmt.Errorf("fetching notes of ticket %s: %w", ts[i].ID, err))
					}
					ts[i] = *full
				}
			}
			rc.Log().Info("fetched tickets", "ticket_system", p.TicketSystem, "count", len(ts))
			return pipe.Succeeded(map[string]any{"tickets": ts, "count": len(ts), "ticket_system": p.TicketSystem}).
				WithAction("fetched %d %s", len(ts), plural(len(ts), "ticket", "tickets"))
		}), nil
	})
}

// plural picks the singular for n == 1.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
