package e2e_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otai-dev/otai/ticketsystem/zammad/zammadfake"
)

const zammadSecret = "zmE2E-Token-3a8d6f2b9c"

func zammadDesk(t *testing.T) *desk {
	fake := zammadfake.New(zammadfake.Options{Token: zammadSecret})
	t.Cleanup(fake.Close)
	groups := map[string]int64{"Users": 1, "Billing": 2, "IT": 3}
	return &desk{
		service: fmt.Sprintf(`  - id: desk
    use: zammad:ZammadTicketSystemService
    params:
      base_url: %s
      token: '${{ secrets.ZAMMAD_TOKEN }}'
      timeout: 5s`, fake.URL()),
		inbox: "Users", billing: "Billing", hardware: "IT",
		prioBilling: "1 low", prioHardware: "3 high", stateBilling: "1 low", stateHardware: "3 high",
		secretName: "ZAMMAD_TOKEN", secretValue: zammadSecret,
		add: func(subject, body, queue string, created time.Time) string {
			return strconv.FormatInt(fake.AddTicket(zammadfake.Ticket{Title: subject, GroupID: groups[queue], StateID: 1, CreatedAt: created}, body), 10)
		},
		state: func(id string) snapshot {
			n, _ := strconv.ParseInt(id, 10, 64)
			tk, arts := fake.Ticket(n)
			s := snapshot{Queue: fake.Groups[tk.GroupID], Priority: fake.Prios[tk.PriorityID], Updated: tk.UpdatedAt}
			for _, a := range arts[1:] {
				s.Notes = append(s.Notes, note{Body: a.Body, Internal: a.Internal && a.Type == "note"})
			}
			return s
		},
		writes: func() int {
			n := 0
			for route, c := range fake.Requests() {
				switch route {
				case "PUT /api/v1/tickets/{id}", "POST /api/v1/ticket_articles", "POST /api/v1/tickets",
					"POST /api/v1/tags/add", "DELETE /api/v1/tags/remove":
					n += c
				}
			}
			return n
		},
		failUpdatesOf: func(id string, on *atomic.Bool) {
			fake.Use(func(r *http.Request) (int, string) {
				if on.Load() && r.Method == http.MethodPut && r.URL.Path == "/api/v1/tickets/"+id {
					return 422, "Group Billing is locked for this ticket"
				}
				return 0, ""
			})
		},
		failureMessage: "Group Billing is locked for this ticket",
	}
}

func TestTriageZammad(t *testing.T)         { testTriage(t, zammadDesk(t)) }
func TestOneTicketFailsZammad(t *testing.T) { testOneTicketFails(t, zammadDesk(t)) }
