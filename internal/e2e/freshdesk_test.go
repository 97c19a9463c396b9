package e2e_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otai-dev/otai/ticketsystem/freshdesk/freshdeskfake"
)

const freshdeskSecret = "fdE2E-ApiKey-5b7c0d9e1f"

func freshdeskDesk(t *testing.T) *desk {
	fake := freshdeskfake.New(freshdeskfake.Options{APIKey: freshdeskSecret})
	t.Cleanup(fake.Close)
	groups := map[string]int64{"Inbox": 1, "Billing": 2, "IT": 3}
	names := map[int64]string{1: "Inbox", 2: "Billing", 3: "IT"}
	prios := map[int]string{1: "Low", 2: "Medium", 3: "High", 4: "Urgent"}
	return &desk{
		service: fmt.Sprintf(`  - id: desk
    use: freshdesk:FreshdeskTicketSystemService
    params:
      base_url: %s
      api_key: '${{ secrets.FRESHDESK_API_KEY }}'
      timeout: 5s`, fake.URL()),
		inbox: "Inbox", billing: "Billing", hardware: "IT",
		prioBilling: "Medium", prioHardware: "High", stateBilling: "Medium", stateHardware: "High",
		secretName: "FRESHDESK_API_KEY", secretValue: freshdeskSecret,
		add: func(subject, body, queue string, created time.Time) string {
			return strconv.FormatInt(fake.AddTicket(freshdeskfake.Ticket{Subject: subject, Description: "<div>" + body + "</div>",
				GroupID: groups[queue], CreatedAt: created}), 10)
		},
		state: func(id string) snapshot {
			n, _ := strconv.ParseInt(id, 10, 64)
			tk, ok := fake.Ticket(n)
			if !ok {
				t.Fatalf("ticket %s vanished", id)
			}
			s := snapshot{Queue: names[tk.GroupID], Priority: prios[tk.Priority], Updated: tk.UpdatedAt}
			for _, c := range tk.Conversations {
				s.Notes = append(s.Notes, note{Body: c.Body, Internal: c.Private})
			}
			return s
		},
		writes: func() int {
			st := fake.Stats().ByRoute
			return st["PUT /tickets/{id}"] + st["POST /tickets/{id}/notes"] + st["POST /tickets"]
		},
		failUpdatesOf: func(id string, on *atomic.Bool) {
			fake.Use(func(r *http.Request) (int, any) {
				if on.Load() && r.Method == http.MethodPut && r.URL.Path == "/api/v2/tickets/"+id {
					return 400, map[string]any{"description": "Validation failed",
						"errors": []map[string]string{{"field": "group_id", "message": "Group is not accessible to this agent", "code": "invalid_value"}}}
				}
				return 0, nil
			})
		},
		failureMessage: "Group is not accessible to this agent",
	}
}

func TestTriageFreshdesk(t *testing.T)         { testTriage(t, freshdeskDesk(t)) }
func TestOneTicketFailsFreshdesk(t *testing.T) { testOneTicketFails(t, freshdeskDesk(t)) }
