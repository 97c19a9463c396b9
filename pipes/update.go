package pipes

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
)

// UpdateParams are the params of base:UpdateTicketPipe.
type UpdateParams struct {
	Target
	RespectHumans bool          `yaml:"respect_humans" default:"true" desc:"Never set a field otai has set on this ticket before: if an agent changed it since, keep the agent's value and record a correction (for training); if not, there is nothing to do."`
	Updates       ticket.Update `yaml:"updates" aliases:"updated_ticket,fields" otai:"required" desc:"What to change: queue, priority, state, type, owner, subject, add_tags, remove_tags, custom_fields. An empty name or id leaves that field alone."`
}

func init() {
	registry.RegisterPipe(registry.Info{
		ID:      "base:UpdateTicketPipe",
		Aliases: []string{"otai_base:pipes.ticket_system_pipes.UpdateTicketPipe", "base:UpdateTicket", "base:Update"},
		Summary: "Change a ticket's queue, priority, state, tags or fields; unchanged fields are not written.",
	}, func(b registry.Build[UpdateParams]) (pipe.Pipe, error) {
		return withParams(b, func(ctx context.Context, rc *pipe.Context, p UpdateParams) pipe.Result {
			sys, err := p.system(rc)
			if err != nil {
				return pipe.Failed(err)
			}
			var cur *ticket.Ticket
			if rc.Ticket != nil && rc.Ticket.ID == p.TicketID {
				cur = rc.Ticket
			}
			updates := p.Updates
			var kept []string
			if p.RespectHumans {
				if kept, err = respectHumans(ctx, rc, p.Target, cur, &updates); err != nil {
					return pipe.Failed(err)
				}
			}
			u, changes := plan(updates, cur)
			// A resumed ticket may show otai's own write of the run that
			// died before recording it: count a field already at its
			// target as set by otai, so that an agent who changes it later
			// is respected (and recorded as a correction).
			var settled []Change
			if rc.Resumed && !rc.DryRun {
				settled = alreadySet(updates, cur)
			}
			data := map[string]any{"ticket_id": p.TicketID, "ticket_system": p.TicketSystem, "changes": slices.Concat(changes, settled), "dry_run": rc.DryRun}
			if len(kept) > 0 {
				data["kept"] = kept
			}
			for _, c := range changes {
				data[c.Field+"_from"] = c.From
				data[c.Field+"_to"] = c.To
			}
			if u.IsEmpty() {
				var parts []string
				if len(kept) > 0 {
					parts = append(parts, "kept "+strings.Join(kept, ", "))
				}
				if len(settled) > 0 {
					parts = append(parts, "found "+describeSettled(settled)+" already set (resumed)")
				}
				if len(parts) > 0 {
					return pipe.Succeeded(data).WithAction("%s", strings.Join(parts, "; "))
				}
				return pipe.Succeeded(data).WithAction("no change")
			}
			verb := describe(changes)
			if rc.DryRun {
				return pipe.Succeeded(data).WithAction("would set %s", verb)
			}
			if err := sys.UpdateTicket(ctx, p.TicketID, u); err != nil {
				return pipe.Failed(err) // the ticket system names the operation and ticket
			}
			if cur != nil {
				apply(cur, u)
			}
			rc.Log().Info("ticket updated", "changes", verb)
			return pipe.Succeeded(data).WithAction("set %s", verb)
		}), nil
	})
}

// Change is one field an update changes.
type Change = pipe.Change

// alreadySet lists the entity fields of u that cur already shows at their
// target value (From = To, as cur shows it).
func alreadySet(u ticket.Update, cur *ticket.Ticket) []Change {
	if cur == nil {
		return nil
	}
	var out []Change
	for _, f := range []struct {
		name string
		want *ticket.Entity
		have ticket.Entity
	}{
		{"queue", u.Queue, cur.Queue}, {"priority", u.Priority, cur.Priority}, {"state", u.State, cur.State},
		{"type", u.Type, cur.Type}, {"owner", u.Owner, cur.Owner},
	} {
		if f.want != nil && !f.want.IsZero() && f.want.Matches(f.have) {
			// As the ticket shows it (a name where the config wrote an
			// id), which is what a later run compares with.
			out = append(out, Change{Field: f.name, From: f.have.String(), To: f.have.String()})
		}
	}
	return out
}

func describeSettled(cs []Change) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Field + " " + c.To
	}
	return strings.Join(parts, ", ")
}

// plan drops empty entities and fields already at their target value.
func plan(u ticket.Update, cur *ticket.Ticket) (ticket.Update, []Change) {
	var out ticket.Update
	var changes []Change
	ent := func(field string, want *ticket.Entity, have *ticket.Entity) *ticket.Entity {
		if want == nil || want.IsZero() {
			return nil
		}
		from := ""
		if have != nil {
			if want.Matches(*have) {
				return nil
			}
			from = have.String()
		}
		changes = append(changes, Change{Field: field, From: from, To: want.String()})
		w := *want
		return &w
	}
	var h func(f func(*ticket.Ticket) *ticket.Entity) *ticket.Entity = func(f func(*ticket.Ticket) *ticket.Entity) *ticket.Entity {
		if cur == nil {
			return nil
		}
		return f(cur)
	}
	out.Queue = ent("queue", u.Queue, h(func(t *ticket.Ticket) *ticket.Entity { return &t.Queue }))
	out.Priority = ent("priority", u.Priority, h(func(t *ticket.Ticket) *ticket.Entity { return &t.Priority }))
	out.State = ent("state", u.State, h(func(t *ticket.Ticket) *ticket.Entity { return &t.State }))
	out.Type = ent("type", u.Type, h(func(t *ticket.Ticket) *ticket.Entity { return &t.Type }))
	out.Owner = ent("owner", u.Owner, h(func(t *ticket.Ticket) *ticket.Entity { return &t.Owner }))
	if u.Subject != nil && *u.Subject != "" && (cur == nil || cur.Subject != *u.Subject) {
		from := ""
		if cur != nil {
			from = cur.Subject
		}
		s := *u.Subject
		out.Subject = &s
		changes = append(changes, Change{Field: "subject", From: from, To: s})
	}
	for _, t := range u.AddTags {
		if t = strings.TrimSpace(t); t != "" && (cur == nil || !cur.HasTag(t)) {
			out.AddTags = append(out.AddTags, t)
			changes = append(changes, Change{Field: "tag", To: "+" + t})
		}
	}
	for _, t := range u.RemoveTags {
		if t = strings.TrimSpace(t); t != "" && (cur == nil || cur.HasTag(t)) {
			out.RemoveTags = append(out.RemoveTags, t)
			changes = append(changes, Change{Field: "tag", To: "-" + t})
		}
	}
	for k, v := range u.CustomFields {
		if cur != nil && fmt.Sprint(cur.CustomFields[k]) == fmt.Sprint(v) {
			continue
		}
		if out.CustomFields == nil {
			out.CustomFields = map[string]any{}
		}
		out.CustomFields[k] = v
		changes = append(changes, Change{Field: "custom_fields." + k, To: fmt.Sprint(v)})
	}
	return out, changes
}

func describe(cs []Change) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		switch {
		case c.Field == "tag":
			parts = append(parts, "tag "+c.To)
		case c.From != "":
			parts = append(parts, fmt.Sprintf("%s %s -> %s", c.Field, c.From, c.To))
		default:
			parts = append(parts, fmt.Sprintf("%s %s", c.Field, c.To))
		}
	}
	return strings.Join(parts, ", ")
}

// apply mirrors the written update on the in-memory ticket, so later steps
// (a note saying "moved to Billing", a second update) see the ticket as it
// now is. Entities are set as written (an id stays an id), removed tags go,
// and the slices and maps are copied, not changed in place.
func apply(t *ticket.Ticket, u ticket.Update) {
	set := func(dst *ticket.Entity, e *ticket.Entity) {
		if e != nil {
			*dst = *e
		}
	}
	set(&t.Queue, u.Queue)
	set(&t.Priority, u.Priority)
	set(&t.State, u.State)
	set(&t.Type, u.Type)
	set(&t.Owner, u.Owner)
	if u.Subject != nil {
		t.Subject = *u.Subject
	}
	if len(u.AddTags) > 0 || len(u.RemoveTags) > 0 {
		tags := make([]string, 0, len(t.Tags)+len(u.AddTags))
		for _, x := range t.Tags {
			if !slices.ContainsFunc(u.RemoveTags, func(r string) bool { return strings.EqualFold(r, x) }) {
				tags = append(tags, x)
			}
		}
		t.Tags = append(tags, u.AddTags...)
	}
	if len(u.CustomFields) > 0 {
		cf := maps.Clone(t.CustomFields)
		if cf == nil {
			cf = map[string]any{}
		}
		maps.Copy(cf, u.CustomFields)
		t.CustomFields = cf
	}
}

// respectHumans drops from u every entity field otai has set on the ticket
// before. Where the ticket no longer has otai's value an agent changed it:
// that is recorded as a correction, and the agent's value is kept. It
// returns what was kept, e.g. "queue Sales (agent)".
func respectHumans(ctx context.Context, rc *pipe.Context, t Target, cur *ticket.Ticket, u *ticket.Update) ([]string, error) {
	hist, ok := rc.Decisions.(pipe.DecisionHistory)
	if !ok || cur == nil {
		return nil, nil
	}
	applied, err := hist.Applied(ctx, t.TicketSystem, t.TicketID)
	if err != nil {
		return nil, fmt.Errorf("reading what otai set on ticket %s before: %w", t.TicketID, err)
	}
	if len(applied) == 0 {
		return nil, nil
	}
	var kept []string
	for _, f := range []struct {
		name string
		want **ticket.Entity
		have ticket.Entity
	}{
		{"queue", &u.Queue, cur.Queue},
		{"priority", &u.Priority, cur.Priority},
		{"state", &u.State, cur.State},
		{"type", &u.Type, cur.Type},
		{"owner", &u.Owner, cur.Owner},
	} {
		a, ok := applied[f.name]
		if !ok || *f.want == nil || (*f.want).IsZero() {
			continue
		}
		*f.want = nil
		have := f.have.String()
		if strings.EqualFold(have, a.To) {
			continue // still as otai set it: nothing to do, and no flapping
		}
		kept = append(kept, fmt.Sprintf("%s %s (agent)", f.name, have))
		if have == "" || strings.EqualFold(have, a.From) {
			// Sent back (to the inbox, say) or emptied: the agent says
			// "not this", not what it should be; nothing to learn.
			rc.Log().Info("an agent set back what otai set; keeping it, not learning from it", "field", f.name, "otai", a.To, "agent", have)
			continue
		}
		c := pipe.Correction{At: time.Now().UTC(), Runner: rc.Runner, TicketSystem: t.TicketSystem, TicketID: t.TicketID,
			Field: f.name, Otai: a.To, Agent: have, DecisionID: a.DecisionID, Subject: cur.Subject, Body: cut(cur.Body, 20000)}
		if !rc.DryRun {
			if err := hist.RecordCorrection(ctx, c); err != nil {
				rc.Log().Warn("could not record a correction", "field", f.name, "error", err)
			}
		}
		rc.Log().Info("an agent changed what otai set; keeping it", "field", f.name, "otai", a.To, "agent", have)
	}
	return kept, nil
}
