package zammad

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/ticket"
)

// Native fuzz targets for everything that turns Zammad's response bytes,
// status and headers into unified tickets, notes and errors. Run them with
// scripts/fuzz.sh (make fuzz); the seeds below and testdata/fuzz/<target>
// run as plain tests in go test.

// fuzzToken is the token of the client under fuzz; no error may show it.
const fuzzToken = "fuzzZMtoken-Q3vN8kLp2"

func readSeed(f *testing.F, name string) []byte {
	f.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// checkUnified is what every decoded ticket must satisfy.
func checkUnified(t *testing.T, raw *Ticket, u ticket.Ticket) {
	t.Helper()
	if u.ID == "" || u.ID != strconv.FormatInt(raw.ID, 10) || u.Number != raw.Number || u.Subject != raw.Title {
		t.Fatalf("ticket %d %q became %+v", raw.ID, raw.Number, u)
	}
	for k := range u.CustomFields {
		if standardKeys[k] {
			t.Fatalf("standard attribute %q taken for a custom field", k)
		}
	}
	if raw.OwnerID == 1 && (raw.Owner == "" || raw.Owner == "-") && !u.Owner.IsZero() {
		t.Fatalf("owner nobody became %+v", u.Owner)
	}
	if (raw.GroupID != 0) != (u.Queue.ID != "") {
		t.Fatalf("group_id %d became %+v", raw.GroupID, u.Queue)
	}
	if _, err := json.Marshal(u); err != nil { // run logs and the store write tickets as JSON
		t.Fatalf("unified ticket does not marshal: %v", err)
	}
}

// FuzzDecodeTicket: GET /tickets/{id}?expand=true, custom attributes
// included, into a unified ticket.
func FuzzDecodeTicket(f *testing.F) {
	f.Add(readSeed(f, "ticket_expanded.json"))
	f.Add([]byte(`{"id":1,"owner_id":1,"owner":"-","cf":{"a":[1,2]},"group_id":0,"group":"Users","type":""}`))
	f.Add([]byte(`{"id":-1,"number":null,"title":"\u0000","custom":null,"id":2}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var tk Ticket
		if err := json.Unmarshal(body, &tk); err != nil {
			return
		}
		checkUnified(t, &tk, toUnified(&tk))
		cr := ticket.SearchCriteria{Subject: "order", CustomFields: map[string]string{"cf": "1"},
			Queue: &ticket.Entity{Name: "Users"}, Owner: &ticket.Entity{ID: "1"}}
		if matches(&tk, cr) && !strings.Contains(strings.ToLower(tk.Title), "order") {
			t.Fatalf("subject filter matched %q", tk.Title)
		}
	})
}

// FuzzDecodeSearch: both shapes of GET /tickets/search (the array of
// expand=true, and Zammad <= 6.4's {tickets, tickets_count, assets}).
// The old shape yields the listed ids' assets, in the listed order.
func FuzzDecodeSearch(f *testing.F) {
	f.Add(readSeed(f, "search_old_shape.json"))
	f.Add([]byte("[" + string(readSeed(f, "ticket_expanded.json")) + `,{"id":1,"title":"x"}]`))
	f.Add([]byte(`{"tickets":[1,1,2],"assets":{"Ticket":{"1":{"id":5},"x":{}}}}`))
	f.Add([]byte(`{"tickets":null,"assets":null}`))
	f.Add([]byte(`  [ ]  `))
	f.Add([]byte(`"tickets"`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ts, err := decodeTickets(body)
		if err != nil {
			return
		}
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) > 0 && trimmed[0] == '[' {
			var arr []json.RawMessage
			if json.Unmarshal(trimmed, &arr) != nil || len(arr) != len(ts) {
				t.Fatalf("array of %d became %d tickets", len(arr), len(ts))
			}
		} else if len(trimmed) > 0 {
			var old oldSearch
			if err := json.Unmarshal(trimmed, &old); err != nil {
				t.Fatalf("decoded %d tickets from a body that is no old-shape search: %v", len(ts), err)
			}
			i := 0
			for _, id := range old.Tickets {
				if _, ok := old.Assets.Ticket[strconv.FormatInt(id, 10)]; ok {
					if i >= len(ts) || ts[i].ID != old.Assets.Ticket[strconv.FormatInt(id, 10)].ID {
						t.Fatalf("ticket %d: order or content lost", id)
					}
					i++
				}
			}
			if i != len(ts) {
				t.Fatalf("%d listed assets, %d tickets", i, len(ts))
			}
		}
		for i := range ts {
			checkUnified(t, &ts[i], toUnified(&ts[i]))
		}
	})
}

// FuzzDecodeArticles: GET /ticket_articles/by_ticket/{id} into notes. HTML
// bodies become text, others stay as sent; the author is created_by, else
// from.
func FuzzDecodeArticles(f *testing.F) {
	f.Add([]byte("[" + string(readSeed(f, "article.json")) + "]"))
	f.Add([]byte(`[{"id":1,"content_type":"text/plain","body":"<b>x</b>","from":"a@b"},{"id":2,"content_type":"TEXT/HTML","body":"a<br>b&nbsp;"}]`))
	f.Add([]byte(`[{"id":0,"content_type":"html","body":"<p>&#x0;&amp;</p>"}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var arts []Article
		if json.Unmarshal(body, &arts) != nil {
			return
		}
		for i := range arts {
			a := &arts[i]
			n := noteToUnified(a)
			if n.ID == "" || n.ID != strconv.FormatInt(a.ID, 10) || n.Internal != a.Internal || n.Subject != a.Subject {
				t.Fatalf("article %+v became %+v", a, n)
			}
			if !strings.Contains(a.ContentType, "html") && n.Body != a.Body {
				t.Fatalf("plain body %q changed to %q", a.Body, n.Body)
			}
			if strings.Contains(a.ContentType, "html") && strings.Contains(n.Body, "\u00a0") {
				t.Fatalf("html body %q keeps a no-break space: %q", a.Body, n.Body)
			}
			if want := a.CreatedBy; (want != "" && n.Author != want) || (want == "" && n.Author != a.From) {
				t.Fatalf("author %q", n.Author)
			}
			_ = normText(a.Body)
		}
	})
}

// respond is a transport that answers every request with one fuzzed
// response, and fails after a few requests so no loop can run forever.
type respond struct {
	status int
	header http.Header
	body   []byte
	n      int
}

func (r *respond) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	r.n++
	if r.n > 8 {
		return nil, errors.New("fuzz transport: too many requests")
	}
	return &http.Response{StatusCode: r.status, Header: r.header.Clone(), Body: io.NopCloser(bytes.NewReader(r.body)), Request: req}, nil
}

// FuzzDecodeResponse sends reads and a note through the real HTTP client:
// any status, body, Retry-After and X-Failure give either tickets and
// notes with ids or a *ticket.Error of the status' kind (a 403 saying
// "authentication required" or "access disabled" is ErrAuth), and no
// error text shows the token, even when the body echoes it.
func FuzzDecodeResponse(f *testing.F) {
	f.Add(200, "", "", readSeed(f, "ticket_expanded.json"))
	f.Add(200, "", "", readSeed(f, "search_old_shape.json"))
	f.Add(200, "", "", []byte("["+string(readSeed(f, "article.json"))+"]"))
	f.Add(200, "", "", readSeed(f, "article.json"))
	f.Add(401, "", "", []byte(`{"error":"authentication failed"}`))
	f.Add(403, "", "", []byte(`{"error":"Authentication required"}`))
	f.Add(403, "", "Token access disabled!", []byte(``))
	f.Add(403, "", "", []byte(`{"error":"Not authorized","error_human":"Not authorized"}`))
	f.Add(404, "", "", []byte(`{"error":"No such ticket"}`))
	f.Add(422, "", "", []byte(`{"error":"Unprocessable `+fuzzToken+`","error_human":"`+fuzzToken+`"}`))
	f.Add(429, "60", "", []byte(``))
	f.Add(429, "NaN", "", []byte(``))
	f.Add(500, "", fuzzToken, []byte(`<html>Internal Server Error</html>`))
	f.Fuzz(func(t *testing.T, status int, retryAfter, failure string, body []byte) {
		status = 100 + abs(status)%500
		if status >= 300 && status < 400 {
			status = 200 // redirects without Location are the HTTP client's business
		}
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		if failure != "" {
			h.Set("X-Failure", failure)
		}
		rt := &respond{status: status, header: h, body: body}
		now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		c, err := New(&Params{BaseURL: "https://zammad.example.com", Token: fuzzToken, HTTP: &httpx.Options{
			Transport: rt, MaxRetries: 1, MinBackoff: time.Millisecond, MaxRetryAfter: time.Hour,
			Now:   func() time.Time { return now },
			Sleep: func(ctx context.Context, d time.Duration) error { now = now.Add(max(d, 0)); return ctx.Err() },
		}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		got, err := c.GetTicket(ctx, "3")
		checkErr(t, status, err)
		if err == nil && (got == nil || got.ID == "") {
			t.Fatalf("GetTicket = %+v, nil error", got)
		}
		if status >= 400 && err == nil {
			t.Fatalf("HTTP %d gave no error", status)
		}
		rt.n = 0
		ts, err := c.FindTickets(ctx, ticket.SearchCriteria{State: &ticket.Entity{Name: "open"}, Limit: 2})
		checkErr(t, status, err)
		for _, x := range ts {
			if x.ID == "" {
				t.Fatalf("FindTickets: ticket without id: %+v", x)
			}
		}
		rt.n = 0
		n, err := c.AddNote(ctx, "3", ticket.Note{Body: "hello"})
		checkErr(t, status, err)
		if err == nil && (n == nil || n.ID == "") {
			t.Fatalf("AddNote = %+v, nil error", n)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		if n == -n {
			return 0
		}
		return -n
	}
	return n
}

// checkErr: an HTTP error is a *ticket.Error of the status' kind with a
// non-negative RetryAfter; no error shows the token.
func checkErr(t *testing.T, status int, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if strings.Contains(err.Error(), fuzzToken) {
		t.Fatalf("error shows the token: %v", err)
	}
	var te *ticket.Error
	if !errors.As(err, &te) {
		if status >= 400 {
			t.Fatalf("HTTP %d: %T %v, want *ticket.Error", status, err, err)
		}
		return
	}
	if te.RetryAfter < 0 {
		t.Fatalf("RetryAfter %v", te.RetryAfter)
	}
	kind := httpx.Kind(&httpx.Error{Status: te.Status})
	if te.Status == http.StatusForbidden && errors.Is(err, ticket.ErrAuth) {
		l := strings.ToLower(te.Message)
		if !strings.Contains(l, "authentication required") && !strings.Contains(l, "access disabled") {
			t.Fatalf("403 %q became ErrAuth", te.Message)
		}
		return
	}
	if te.Status >= 400 && !errors.Is(err, kind) {
		t.Fatalf("HTTP %d gave kind %v", te.Status, te.Kind)
	}
}
