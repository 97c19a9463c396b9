package freshdesk

import (
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/ticket"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

func golden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(want) != string(b) {
		t.Errorf("%s differs from golden:\n%s", name, b)
	}
}

func TestGoldenDecoding(t *testing.T) {
	groups := map[int64]string{12: "Hardware"}
	for _, name := range []string{"ticket_1", "ticket_2_html_only"} {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var ft Ticket
			if err := json.Unmarshal(raw, &ft); err != nil {
				t.Fatal(err)
			}
			golden(t, name, toUnified(&ft, groups))
		})
	}
	raw, _ := os.ReadFile("testdata/note_1.json")
	var c Conversation
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	golden(t, "note_1", noteToUnified(&c))
}

func TestMapValidationError(t *testing.T) {
	raw, _ := os.ReadFile("testdata/validation_error.json")
	err := mapError("creating ticket", &httpx.Error{Method: "POST", URL: "https://x/api/v2/tickets", Status: 400, Body: raw})
	var te *ticket.Error
	if !errors.As(err, &te) || !errors.Is(err, ticket.ErrValidation) || te.Field != "email" || te.Code != "invalid_value" ||
		!strings.Contains(te.Message, "There is no contact matching the given email") {
		t.Fatalf("err = %#v", err)
	}
}

func TestSearchQuery(t *testing.T) {
	g, s, a := int64(12), 2, int64(7)
	q, err := searchQuery(ticket.SearchCriteria{}, filter{group: &g, status: &s, agent: &a})
	if err != nil || q != `"group_id:12 AND status:2 AND agent_id:7"` {
		t.Fatalf("q = %s, %v", q, err)
	}
	if got := quote(`it's "x"`); got != `'its x'` {
		t.Fatalf("quote = %s", got)
	}
}

func TestNextLink(t *testing.T) {
	h := http.Header{}
	h.Set("Link", `<https://acme.freshdesk.com/api/v2/tickets?page=2&per_page=100>; rel="next"`)
	if got := nextLink(h); got != "/tickets?page=2&per_page=100" {
		t.Fatalf("next = %q, want it relative to the API root", got)
	}
	h.Set("Link", `<https://elsewhere.example/other?page=2>; rel="next"`)
	if got := nextLink(h); got != "https://elsewhere.example/other?page=2" {
		t.Fatalf("next = %q: a link outside the API is kept as it is (and refused by the transport)", got)
	}
	if nextLink(http.Header{}) != "" {
		t.Fatal("no header, no next")
	}
}

func TestTextHTML(t *testing.T) {
	in := "a < b\nline 2"
	if got := htmlToText(textToHTML(in)); got != in {
		t.Fatalf("round trip = %q", got)
	}
}
