package pipes

import (
	"context"

	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
)

// CreateParams are the params of base:CreateTicketPipe.
type CreateParams struct {
	TicketSystem string           `yaml:"ticket_system" ref:"ticket_system" desc:"Id of the ticket system service; may be left out when only one is configured."`
	Ticket       ticket.NewTicket `yaml:"ticket" aliases:"ticket_payload" otai:"required" desc:"subject, body, queue, priority, state, type, owner, customer, tags, custom_fields."`
}

func init() {
	registry.RegisterPipe(registry.Info{
		ID:      "base:CreateTicketPipe",
		Aliases: []string{"otai_base:pipes.ticket_system_pipes.CreateTicketPipe", "base:CreateTicket"},
		Summary: "Create a ticket with its first message; later pipes read pipes.<id>.ticket.",
	}, func(b registry.Build[CreateParams]) (pipe.Pipe, error) {
		return withParams(b, func(ctx context.Context, rc *pipe.Context, p CreateParams) pipe.Result {
			if rc.DryRun {
				return pipe.Succeeded(map[string]any{"dry_run": true}).WithAction("would create %q", p.Ticket.Subject)
			}
			sys, err := rc.Services.TicketSystem(p.TicketSystem)
			if err != nil {
				return pipe.Failed(err)
			}
			t, err := sys.CreateTicket(ctx, p.Ticket)
			if err != nil {
				return pipe.Failed(err) // the ticket system names the operation
			}
			return pipe.Succeeded(map[string]any{"ticket": t, "id": t.ID}).WithAction("created ticket %s", t.ID)
		}), nil
	})
}
