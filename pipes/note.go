package pipes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"strings"

	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
)

// NoteParams are the params of base:AddNotePipe.
type NoteParams struct {
	Target
	Note NoteInput `yaml:"note" otai:"required" desc:"The note: subject, body, content_type, internal."`
	Once bool      `yaml:"once" default:"true" desc:"Add the note at most once per ticket for this runner and pipe: the note carries a reference, and a retry or a second run that finds it does not write again."`
}

// NoteInput is a note as configured.
type NoteInput struct {
	Subject     string `yaml:"subject" default:"otai triage" desc:"Note subject (help desks that have one)."`
	Body        string `yaml:"body" otai:"required" desc:"Note text; templates see the ticket and earlier results."`
	ContentType string `yaml:"content_type" default:"text/plain" enum:"text/plain,text/html" desc:"text/plain or text/html."`
	Internal    bool   `yaml:"internal" default:"true" desc:"Visible to agents only. AI notes are internal unless you say otherwise."`
}

func init() {
	registry.RegisterPipe(registry.Info{
		ID:      "base:AddNotePipe",
		Aliases: []string{"otai_base:pipes.ticket_system_pipes.AddNotePipe", "base:AddNote", "base:Note"},
		Summary: "Add a note to a ticket: internal by default, and never twice for the same ticket and runner.",
	}, func(b registry.Build[NoteParams]) (pipe.Pipe, error) {
		return withParams(b, func(ctx context.Context, rc *pipe.Context, p NoteParams) pipe.Result {
			if strings.TrimSpace(p.Note.Body) == "" {
				return pipe.Skipped("the note body rendered empty")
			}
			sys, err := p.system(rc)
			if err != nil {
				return pipe.Failed(err)
			}
			n := ticket.Note{Subject: p.Note.Subject, Body: p.Note.Body, ContentType: p.Note.ContentType, Internal: p.Note.Internal}
			data := map[string]any{"ticket_id": p.TicketID, "ticket_system": p.TicketSystem, "internal": n.Internal, "dry_run": rc.DryRun}
			if p.Once {
				ref := NoteRef(rc.Runner, b.ID, p.TicketID)
				data["ref"] = ref
				// The ref finds the note again after a retry or a crash;
				// the decision id names the decision it explains
				// (otai decisions --format jsonl shows it as id).
				mark := ref
				if rc.DecisionID != "" {
					mark += " decision:" + rc.DecisionID
					data["decision_id"] = rc.DecisionID
				}
				n.Body = withRef(n.Body, n.ContentType, mark)
				t, err := sys.GetTicket(ctx, p.TicketID)
				if err != nil {
					return pipe.Failed(fmt.Errorf("reading notes of ticket %s: %w", p.TicketID, err))
				}
				for _, old := range t.Notes {
					if strings.Contains(old.Body, ref) {
						data["note_id"] = old.ID
						return pipe.Skipped("already noted (note %s carries %s)", old.ID, ref).WithAction("already noted")
					}
				}
			}
			if rc.DryRun {
				return pipe.Succeeded(data).WithAction("would note")
			}
			created, err := sys.AddNote(ctx, p.TicketID, n)
			if err != nil {
				return pipe.Failed(err) // the ticket system names the operation and ticket
			}
			data["note_id"] = created.ID
			if n.Internal {
				return pipe.Succeeded(data).WithAction("noted")
			}
			return pipe.Succeeded(data).WithAction("noted (public)")
		}), nil
	})
}

// NoteRef is the reference a once-only note carries: stable for a runner,
// pipe and ticket, so a retry after a crash finds the note it wrote.
func NoteRef(runner, pipeID, ticketID string) string {
	h := sha256.Sum256([]byte(runner + "\x00" + pipeID + "\x00" + ticketID))
	return "otai-ref:" + hex.EncodeToString(h[:6])
}

func withRef(body, contentType, ref string) string {
	if contentType == ticket.ContentTypeHTML {
		return body + `<p style="color:#888;font-size:smaller">` + html.EscapeString(ref) + `</p>`
	}
	return strings.TrimRight(body, "\n") + "\n\n[" + ref + "]"
}
