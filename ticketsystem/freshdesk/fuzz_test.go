package freshdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/ticket"
)

// Native fuzz targets for everything that turns Freshdesk's response
// bytes, status and headers into unified tickets, notes and errors. Run
// them with scripts/fuzz.sh (make fuzz); the seeds below and
// testdata/fuzz/<target> run as plain tests in go test.

// fuzzAPIKey is the key of the client under fuzz; no error may show it.
const fuzzAPIKey = "fuzzFDkey-7hJ2mQ9xW4"

func addGolden(f *testing.F, names ...string) {
	f.Helper()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkUnified is what every decoded ticket must satisfy.
func checkUnified(t *testing.T, raw *Ticket, u ticket.Ticket) {
	t.Helper()
	if u.ID == "" || u.ID != strconv.FormatInt(raw.ID, 10) || u.Number != u.ID {
		t.Fatalf("id %d became ID %q Number %q", raw.ID, u.ID, u.Number)
	}
	if len(u.Notes) != len(raw.Conversations) {
		t.Fatalf("%d conversations became %d notes", len(raw.Conversations), len(u.Notes))
	}
	for i, n := range u.Notes {
		if n.ID == "" || n.ContentType != ticket.ContentTypePlain || n.Internal != raw.Conversations[i].Private {
			t.Fatalf("note %d = %+v", i, n)
		}
	}
	if (raw.Status == 0) != u.State.IsZero() || (raw.Priority == 0) != u.Priority.IsZero() {
		t.Fatalf("status %d priority %d became %+v %+v", raw.Status, raw.Priority, u.State, u.Priority)
	}
	if raw.DescriptionText != "" && u.Body != raw.DescriptionText {
		t.Fatalf("body %q, want description_text %q", u.Body, raw.DescriptionText)
	}
	if _, err := json.Marshal(u); err != nil { // run logs and the store write tickets as JSON
		t.Fatalf("unified ticket does not marshal: %v", err)
	}
}

// FuzzDecodeTicket: GET /tickets/{id} (and a GET /tickets page) into
// unified tickets.
func FuzzDecodeTicket(f *testing.F) {
	addGolden(f, "ticket_1.json", "ticket_2_html_only.json")
	f.Add([]byte(`{"id":0}`))
	f.Add([]byte(`{"id":-9223372036854775808,"status":99,"priority":-1,"group_id":12,"type":"","custom_fields":{"cf_x":[1,{"a":null}],"cf_y":1e308},"conversations":[{"id":1,"body":"<p>a&nbsp;b</p>"}],"requester":{"email":"a@b"}}`))
	f.Add([]byte(`[{"id":1},{"id":2,"created_at":"2020-01-01T00:00:00Z"}]`))
	f.Add([]byte(`{"id":1,"description":"<br><<div>>&amp;lt;&#0;&#x110000;\u00a0</div>"}`))
	groups := map[int64]string{12: "Hardware"}
	f.Fuzz(func(t *testing.T, body []byte) {
		var one Ticket
		if jsonDecode(body, &one) == nil {
			checkUnified(t, &one, toUnified(&one, groups))
		}
		var page []Ticket
		if jsonDecode(body, &page) == nil {
			sortOldestFirst(page)
			for i := range page {
				checkUnified(t, &page[i], toUnified(&page[i], nil))
				_ = matches(&page[i], ticket.SearchCriteria{Subject: "x", CustomFields: map[string]string{"cf_x": "1"}}, &filter{})
			}
		}
	})
}

// FuzzDecodeConversations: a page of GET /tickets/{id}/conversations and
// its Link header. Notes get an id and a plain-text body; the next link
// is the <...> of a rel="next" entry. The body also goes through the
// HTML a note is written as: plain text comes back unchanged.
func FuzzDecodeConversations(f *testing.F) {
	note, err := os.ReadFile("testdata/note_1.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("["+string(note)+"]"), `<https://acme.freshdesk.com/api/v2/tickets/1/conversations?page=2&per_page=100>; rel="next"`, "a < b\nline 2")
	f.Add([]byte(`[{"id":2,"body":"<div>x<br/>y</div>","private":false,"user_id":null}]`), `<a>; rel=prev, <b>;rel=next`, "x")
	f.Add([]byte(`[]`), `<>; rel="next"`, "")
	f.Add([]byte(`[{"id":3,"body_text":"","body":"&lt;script&gt;"}]`), `rel="next"`, "&amp; \"'")
	f.Fuzz(func(t *testing.T, body []byte, link, text string) {
		var page []Conversation
		if jsonDecode(body, &page) == nil {
			for i := range page {
				n := noteToUnified(&page[i])
				if n.ID != strconv.FormatInt(page[i].ID, 10) || n.Internal != page[i].Private {
					t.Fatalf("conversation %+v became %+v", page[i], n)
				}
				if page[i].BodyText == "" && strings.Contains(n.Body, "\u00a0") {
					t.Fatalf("body %q keeps a no-break space", n.Body)
				}
			}
		}
		h := http.Header{"Link": {link}}
		// The next link is the linked URL, or its part after /api/v2.
		if next := nextLink(h); next != "" && ((!strings.Contains(link, "<"+next+">") && !strings.Contains(link, "/api/v2"+next)) || strings.Contains(next, ">")) {
			t.Fatalf("nextLink(%q) = %q", link, next)
		}
		// textToHTML is how AddNote writes plain text.
		if plainRoundTrips(text) {
			if got := htmlToText(textToHTML(text)); got != text {
				t.Fatalf("htmlToText(textToHTML(%q)) = %q", text, got)
			}
		}
	})
}

// plainRoundTrips reports text that htmlToText leaves alone: valid UTF-8,
// no carriage return or no-break space, no trailing blanks on a line, no
// run of blank lines, nothing that reads as markup or an entity.
func plainRoundTrips(s string) bool {
	if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\u00a0<>&") || strings.Contains(s, "\n\n\n") || s != strings.TrimSpace(s) {
		return false
	}
	for _, l := range strings.Split(s, "\n") {
		if l != strings.TrimRight(l, " \t\r") {
			return false
		}
	}
	return true
}

// FuzzDecodeSearch: GET /search/tickets. Hits sort oldest first, ties by
// id, and each converts.
func FuzzDecodeSearch(f *testing.F) {
	t1, _ := os.ReadFile("testdata/ticket_1.json")
	t2, _ := os.ReadFile("testdata/ticket_2_html_only.json")
	f.Add([]byte(`{"total":2,"results":[` + string(t1) + `,` + string(t2) + `]}`))
	f.Add([]byte(`{"total":-1,"results":null}`))
	f.Add([]byte(`{"total":3,"results":[{"id":3,"created_at":"2020-01-01T00:00:00Z"},{"id":1,"created_at":"2020-01-01T00:00:00Z"},{"id":2,"created_at":"0001-01-01T00:00:00Z","spam":true}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var res SearchResult
		if jsonDecode(body, &res) != nil {
			return
		}
		sortOldestFirst(res.Results)
		if !sort.SliceIsSorted(res.Results, func(i, j int) bool {
			a, b := res.Results[i], res.Results[j]
			return a.CreatedAt.Before(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID)
		}) {
			t.Fatal("not oldest first")
		}
		g, s := int64(12), 2
		for i := range res.Results {
			r := &res.Results[i]
			checkUnified(t, r, toUnified(r, nil))
			if matches(r, ticket.SearchCriteria{}, &filter{group: &g, status: &s}) && (r.Spam || r.GroupID == nil || *r.GroupID != 12 || r.Status != 2) {
				t.Fatalf("filter matched %+v", r)
			}
		}
	})
}

// respond is a transport that answers every request with one fuzzed
// response (the Link header only on the first, so paging ends).
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
	h := r.header.Clone()
	if r.n > 1 {
		h.Del("Link")
	}
	return &http.Response{StatusCode: r.status, Header: h, Body: io.NopCloser(bytes.NewReader(r.body)), Request: req}, nil
}

// fuzzClient is a Client whose every request gets rt's answer, on a
// virtual clock (Retry-After and rate-limit pauses cost nothing).
func fuzzClient(t *testing.T, rt http.RoundTripper) *Client {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c, err := New(&Params{BaseURL: "https://acme.freshdesk.com/api/v2", APIKey: fuzzAPIKey, HTTP: &httpx.Options{
		Transport: rt, MaxRetries: 1, MinBackoff: time.Millisecond, MaxRetryAfter: time.Hour,
		Now:   func() time.Time { return now },
		Sleep: func(ctx context.Context, d time.Duration) error { now = now.Add(max(d, 0)); return ctx.Err() },
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// FuzzDecodeResponse sends a ticket read through the real HTTP client: any
// status, body, Retry-After, X-RateLimit-* and Link give either a ticket
// with an id or a *ticket.Error of the status' kind, and no error text
// shows the API key, even when the body echoes it.
func FuzzDecodeResponse(f *testing.F) {
	verr, _ := os.ReadFile("testdata/validation_error.json")
	t1, _ := os.ReadFile("testdata/ticket_1.json")
	f.Add(200, "", "", "", t1)
	f.Add(400, "", "", "", verr)
	f.Add(401, "", "", "", []byte(`{"code":"invalid_credentials","message":"You have to be logged in to perform this action."}`))
	f.Add(403, "", "", "", []byte(`{"code":"access_denied","message":"You are not authorized to perform this action."}`))
	f.Add(404, "", "", "", []byte(``))
	f.Add(429, "30", "0", "", []byte(`{"message":"rate limited"}`))
	f.Add(429, "1e30", "", "", []byte(``))
	f.Add(503, "Fri, 07 Mar 2025 12:00:30 GMT", "", "", []byte(`<html>Service Unavailable</html>`))
	f.Add(400, "", "", "", []byte(`{"description":"bad key `+fuzzAPIKey+`","errors":[{"field":"`+fuzzAPIKey+`","code":"`+fuzzAPIKey+`"}]}`))
	f.Add(401, "", "", "", []byte(`{"code":"`+fuzzAPIKey+`"}`))
	f.Add(200, "", "1", `<https://acme.freshdesk.com/api/v2/tickets/1/conversations?page=2>; rel="next"`, []byte(`[{"id":1,"body":"x"}]`))
	f.Add(200, "", "", `<https://evil.example/x?token=1>; rel="next"`, []byte(`[]`))
	f.Add(302, "", "", "", []byte(`{}`))
	f.Fuzz(func(t *testing.T, status int, retryAfter, remaining, link string, body []byte) {
		status = 100 + abs(status)%500
		if status >= 300 && status < 400 {
			status = 200 // redirects without Location are the HTTP client's business
		}
		h := http.Header{}
		for k, v := range map[string]string{"Retry-After": retryAfter, "X-RateLimit-Remaining": remaining, "Link": link, "X-RateLimit-Total": "100"} {
			if v != "" {
				h.Set(k, v)
			}
		}
		rt := &respond{status: status, header: h, body: body}
		c := fuzzClient(t, rt)
		ctx := context.Background()
		got, err := c.GetTicket(ctx, "1")
		checkErr(t, status, err)
		if err == nil && (got == nil || got.ID == "") {
			t.Fatalf("GetTicket = %+v, nil error", got)
		}
		if status >= 400 && err == nil {
			t.Fatalf("HTTP %d gave no error", status)
		}
		rt.n = 0
		ts, err := c.FindTickets(ctx, ticket.SearchCriteria{Limit: 3})
		checkErr(t, status, err)
		for _, x := range ts {
			if x.ID == "" {
				t.Fatalf("FindTickets: ticket without id: %+v", x)
			}
		}
		rt.n = 0
		n, err := c.AddNote(ctx, "1", ticket.Note{Body: "hello"})
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
// non-negative RetryAfter; no error shows the API key.
func checkErr(t *testing.T, status int, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if strings.Contains(err.Error(), fuzzAPIKey) {
		t.Fatalf("error shows the API key: %v", err)
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
	if te.Status >= 400 && !errors.Is(err, httpx.Kind(&httpx.Error{Status: te.Status})) {
		t.Fatalf("HTTP %d gave kind %v", te.Status, te.Kind)
	}
}
