package otobo_test

import (
	"context"
	"strings"
	"testing"

	"github.com/otai-dev/otai/ticket"
	"github.com/otai-dev/otai/ticketsystem/otobo/otobofake"
)

// TestUpdateRefusesUndecodableReply: the fault run (internal/e2e
// TestFaults) found that a TicketUpdate whose HTTP 200 reply was cut short
// or garbled read as success: the update decodes no reply, and a body that
// merely started with '{' was accepted. A business error that is cut
// short (the GI answers those with 200) then counted as a written update:
// the ticket was marked processed and never moved. A reply that is not
// valid JSON proves nothing and must be an error (ErrUnavailable, so the
// next run tries again).
func TestUpdateRefusesUndecodableReply(t *testing.T) {
	refused := otobofake.GIError("TicketUpdate.AccessDenied", "TicketUpdate: Does not have permissions to update queue!").Body
	for name, body := range map[string]string{
		"truncated error":   refused[:len(refused)/2],
		"truncated success": `{"TicketID":"1","TicketNu`,
		"missing comma":     strings.Replace(refused, `","`, `" "`, 1),
		"trailing comma":    strings.TrimSuffix(refused, "}") + ",}",
	} {
		t.Run(name, func(t *testing.T) {
			srv := newFake(t, otobofake.Options{})
			id := srv.AddTicket(otobofake.Ticket{Title: "x", Queue: "Raw"})
			srv.Use(func(r *otobofake.Request) *otobofake.Reply {
				if r.Operation == "TicketUpdate" {
					return &otobofake.Reply{Status: 200, Body: body}
				}
				return nil
			})
			c := newClient(t, srv, nil)
			err := c.UpdateTicket(context.Background(), id, ticket.Update{Queue: &ticket.Entity{Name: "Misc"}})
			if kindOf(err) != ticket.ErrUnavailable {
				t.Fatalf("UpdateTicket with reply %q: got %v, want ErrUnavailable", body, err)
			}
			if !strings.Contains(err.Error(), "undecodable reply") {
				t.Errorf("error %q does not say the reply was undecodable", err)
			}
		})
	}
}
