package e2e_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otai-dev/otai/ticketsystem/otobo/otobofake"
)

const otoboSecret = "e2e-otobo-Pa55w0rd-9f2c41"

func otoboDesk(t *testing.T, preset string) *desk {
	srv := otobofake.New(otobofake.Options{Preset: preset})
	t.Cleanup(srv.Close)
	srv.AddAgent("otai-e2e", otoboSecret)
	for _, q := range []string{"Inbox", "Billing", "Hardware"} {
		srv.AddQueue(q)
	}
	return &desk{
		service: fmt.Sprintf(`  - id: desk
    use: otobo-znuny:OTOBOZnunyTicketSystemService
    params:
      base_url: %s
      webservice_name: GenericTicketConnectorREST
      route_preset: %s
      username: otai-e2e
      password: '${{ secrets.OTOBO_PASSWORD }}'
      timeout: 5s`, srv.BaseURL, preset),
		inbox: "Inbox", billing: "Billing", hardware: "Hardware",
		prioBilling: "2 low", prioHardware: "4 high", stateBilling: "2 low", stateHardware: "4 high",
		secretName: "OTOBO_PASSWORD", secretValue: otoboSecret,
		add: func(subject, body, queue string, created time.Time) string {
			return srv.AddTicket(otobofake.Ticket{Title: subject, Body: body, Queue: queue, Created: created})
		},
		state: func(id string) snapshot {
			tk, ok := srv.Ticket(id)
			if !ok {
				t.Fatalf("ticket %s vanished", id)
			}
			s := snapshot{Queue: tk.Queue, Priority: tk.Priority, Updated: tk.Changed}
			for _, a := range tk.Articles[1:] {
				s.Notes = append(s.Notes, note{Body: a.Body,
					Internal: a.Channel == "Internal" && !a.IsVisibleForCustomer && a.SenderType == "agent"})
			}
			return s
		},
		writes: func() int { return srv.Calls("TicketUpdate") + srv.Calls("TicketCreate") },
		failUpdatesOf: func(id string, on *atomic.Bool) {
			srv.Use(func(r *otobofake.Request) *otobofake.Reply {
				if on.Load() && r.Operation == "TicketUpdate" && fmt.Sprint(r.Data["TicketID"]) == id && r.Data["Article"] == nil {
					return otobofake.GIError("TicketUpdate.InvalidParameter", "TicketUpdate: Queue move refused by ACL!")
				}
				return nil
			})
		},
		failureMessage: "Queue move refused by ACL",
	}
}

func TestTriageOTOBOClassic(t *testing.T) { testTriage(t, otoboDesk(t, otobofake.PresetClassic)) }
func TestTriageOTOBOZnuny7(t *testing.T)  { testTriage(t, otoboDesk(t, otobofake.PresetZnuny7)) }

func TestOneTicketFailsOTOBOClassic(t *testing.T) {
	testOneTicketFails(t, otoboDesk(t, otobofake.PresetClassic))
}

func TestOneTicketFailsOTOBOZnuny7(t *testing.T) {
	testOneTicketFails(t, otoboDesk(t, otobofake.PresetZnuny7))
}
