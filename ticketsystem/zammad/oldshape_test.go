package zammad

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/otai-dev/otai/ticketsystem/zammad/zammadfake"
)

// TestOldSearchShapeFromTheFake: Zammad <= 6.4 answers a search without
// expand with {tickets, tickets_count, assets} (with expand=true it
// answers an array on every version, which is why the adapter always sends
// it; see TestFindTicketsShapesAndPaging). decodeTickets reads the old
// shape as the fake serves it over HTTP, in the order of "tickets", and
// the same search with expand=true is an array on the same server.
func TestOldSearchShapeFromTheFake(t *testing.T) {
	const token = "zmTOKEN-abcdef0123456789"
	fake := zammadfake.New(zammadfake.Options{Token: token, OldSearchShape: true})
	defer fake.Close()
	base := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	for i, title := range []string{"Printer jams", "VPN down", "Printer on fire", "Invoice"} {
		fake.AddTicket(zammadfake.Ticket{Title: title, GroupID: int64(1 + i%3), PriorityID: int64(1 + i%3), StateID: 2,
			CreatedAt: base.Add(time.Duration(i) * time.Minute)}, "body")
	}
	search := func(expand bool) []byte {
		t.Helper()
		q := url.Values{"query": {`title:"printer"`}, "per_page": {"50"}}
		if expand {
			q.Set("expand", "true")
		}
		req, _ := http.NewRequest(http.MethodGet, fake.URL()+"/api/v1/tickets/search?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Token token="+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		return b
	}

	old := search(false)
	if !bytes.HasPrefix(bytes.TrimSpace(old), []byte(`{`)) || !bytes.Contains(old, []byte(`"tickets_count":2`)) {
		t.Fatalf("without expand, want the old shape: %s", old)
	}
	ts, err := decodeTickets(old)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, tk := range ts {
		ids = append(ids, tk.ID)
		if tk.Title == "" || tk.GroupID == 0 || tk.PriorityID == 0 || tk.CreatedAt.IsZero() {
			t.Errorf("ticket %d decoded without attributes: %+v", tk.ID, tk)
		}
		if tk.Group != "" {
			t.Errorf("ticket %d: the old shape has no names, got group %q", tk.ID, tk.Group)
		}
	}
	if !slices.Equal(ids, []int64{1, 3}) {
		t.Errorf("old shape: ids %v, want [1 3]", ids)
	}

	arr := search(true)
	if !bytes.HasPrefix(bytes.TrimSpace(arr), []byte(`[`)) {
		t.Fatalf("with expand=true, want an array: %s", arr)
	}
	ts, err = decodeTickets(arr)
	if err != nil || len(ts) != 2 || ts[0].Group != "Users" || ts[1].Priority != "3 high" {
		t.Fatalf("array shape: %v %+v", err, ts)
	}
}
