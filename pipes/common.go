package pipes

import (
	"context"
	"errors"
	"fmt"

	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
)

// Target names the ticket a write pipe works on. It is embedded in the
// params of update and note pipes.
type Target struct {
	TicketSystem string `yaml:"ticket_system" ref:"ticket_system" desc:"Id of the ticket system service; may be left out when only one is configured."`
	TicketID     string `yaml:"ticket_id" default:"{{ ticket.id }}" desc:"Which ticket; defaults to the current ticket of a for-each."`
}

var errNoTicketID = errors.New("ticket_id is empty (outside a for-each, set it explicitly)")

// system resolves the target's ticket system.
func (t Target) system(rc *pipe.Context) (ticket.System, error) {
	if t.TicketID == "" {
		return nil, errNoTicketID
	}
	return rc.Services.TicketSystem(t.TicketSystem)
}

// withParams renders a pipe's params for each run and hands them to fn; a
// template that fails to render fails the pipe.
func withParams[P any](b registry.Build[P], fn func(ctx context.Context, rc *pipe.Context, p P) pipe.Result) pipe.Pipe {
	return pipe.Func(func(ctx context.Context, rc *pipe.Context) pipe.Result {
		p, err := b.Params.Get(rc)
		if err != nil {
			return pipe.Failed(fmt.Errorf("rendering params: %w", err))
		}
		return fn(ctx, rc, p)
	})
}

// systemName is the id for messages, naming the default when left out.
func systemName(id string) string {
	if id == "" {
		return "the configured ticket system"
	}
	return id
}
