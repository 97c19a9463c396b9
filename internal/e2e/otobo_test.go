package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/secret"
	"github.com/otai-dev/otai/ticket"
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
		fake:           srv,
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

// TestFetchByDynamicField: custom_fields in a config's search criteria
// reach the GI as a DynamicField filter on the znuny7 preset, and are
// refused with the fix named on the classic one (whose GET search cannot
// carry them).
func TestFetchByDynamicField(t *testing.T) {
	for _, preset := range []string{otobofake.PresetZnuny7, otobofake.PresetClassic} {
		t.Run(preset, func(t *testing.T) {
			d := otoboDesk(t, preset)
			w := seed(t, d)
			srv := d.fake.(*otobofake.Server)
			srv.AddDynamicField("AICategory")
			hw := srv.AddTicket(otobofake.Ticket{Title: "Tagged", Queue: "Inbox", DynamicFields: map[string]any{"AICategory": "Hardware"}})
			srv.AddTicket(otobofake.Ticket{Title: "Tagged too", Queue: "Inbox", DynamicFields: map[string]any{"AICategory": "Billing"}})
			srv.AddTicket(otobofake.Ticket{Title: "Elsewhere", Queue: "Billing", DynamicFields: map[string]any{"AICategory": "Hardware"}})
			yml := fmt.Sprintf(`
services:
%s
pipes:
  - id: fetch
    use: base:FetchTicketsPipe
    params:
      ticket_system: desk
      ticket_search_criteria: { queue: Inbox, custom_fields: { AICategory: Hardware }, created_before: 2999-01-01T00:00:00Z }
orchestrator:
  runners:
    - { id: by-field, pipes: [fetch], triggers: [ { once: true } ] }
`, d.service)
			f, err := config.Parse(t.Name()+".yml", []byte(yml), config.Options{Secrets: secret.Resolver{Dir: t.TempDir()}.Lookup})
			if err != nil {
				t.Fatal(err)
			}
			eng, err := orchestrator.Build(context.Background(), f, orchestrator.Options{Env: map[string]any{}, DataDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer eng.Close()
			r := w.run(t, eng)
			if preset == otobofake.PresetClassic {
				fs := r.Failures()
				if len(fs) != 1 || !strings.Contains(fs[0], "custom_fields") || !strings.Contains(fs[0], "znuny7") {
					t.Fatalf("Failures() = %q, want one naming custom_fields and the znuny7 preset", fs)
				}
				return
			}
			if r.Status != pipe.StatusSucceeded {
				t.Fatalf("run %s: %q", r.Status, r.Failures())
			}
			ts, _ := r.Steps[0].Data["tickets"].([]ticket.Ticket)
			if len(ts) != 1 || ts[0].ID != hw {
				t.Errorf("fetched %+v, want only ticket %s", ts, hw)
			}
			var sent bool
			for _, req := range srv.Requests() {
				if req.Operation == "TicketSearch" && req.Method == "POST" && req.Data["DynamicField"] != nil {
					sent = true
				}
			}
			if !sent {
				t.Error("no POST TicketSearch carried a DynamicField filter")
			}
		})
	}
}
