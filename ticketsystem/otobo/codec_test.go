package otobo

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/secret"
	"github.com/otai-dev/otai/ticket"
)

func TestFlexString(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{`"42"`, "42", false},
		{`42`, "42", false},
		{`""`, "", false},
		{`null`, "", false},
		{`1.5`, "1.5", false},
		{`true`, "1", false},
		{`{}`, "", true},
		{`[1]`, "", true},
	}
	for _, tt := range tests {
		var s flexString
		err := json.Unmarshal([]byte(tt.in), &s)
		if (err != nil) != tt.err || (!tt.err && s.String() != tt.want) {
			t.Errorf("%s: got %q, %v", tt.in, s, err)
		}
	}
}

func TestIDListAndOneOrMany(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`{}`, nil},
		{`{"TicketID":["2","3"]}`, []string{"2", "3"}},
		{`{"TicketID":[2,3]}`, []string{"2", "3"}},
		{`{"TicketID":"7"}`, []string{"7"}},
		{`{"TicketID":7}`, []string{"7"}},
		{`{"TicketID":null}`, nil},
		{`{"TicketID":["",1]}`, []string{"1"}},
	}
	for _, tt := range tests {
		var r searchReply
		if err := json.Unmarshal([]byte(tt.in), &r); err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if strings.Join(r.TicketID, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: got %v, want %v", tt.in, r.TicketID, tt.want)
		}
	}
	for _, in := range []string{
		`{"Ticket":{"TicketID":5,"Article":{"ArticleID":"9","Body":"b"}}}`,
		`{"Ticket":[{"TicketID":"5","Article":[{"ArticleID":9,"Body":"b"}]}]}`,
	} {
		var r ticketGetReply
		if err := json.Unmarshal([]byte(in), &r); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if len(r.Ticket) != 1 {
			t.Fatalf("%s: %d tickets", in, len(r.Ticket))
		}
		tk := r.Ticket[0].toTicket(time.UTC)
		if tk.ID != "5" || tk.Body != "b" || len(tk.Notes) != 1 || tk.Notes[0].ID != "9" {
			t.Errorf("%s: got %+v", in, tk)
		}
	}
}

func TestTimeZoneParam(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata")
	}
	got := parseTime("2026-11-21 08:07:45", berlin)
	if want := time.Date(2026, 11, 21, 7, 7, 45, 0, time.UTC); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if !parseTime("0000-00-00 00:00:00", time.UTC).IsZero() || !parseTime("garbage", time.UTC).IsZero() {
		t.Error("invalid times must decode to zero")
	}
}

func TestDecodeReplyTransportShapes(t *testing.T) {
	secret.Register("hunter2-password")
	tests := []struct {
		name   string
		status int
		ct     string
		body   string
		kind   error
		code   string
	}{
		{"business error on 200", 200, "application/json", `{"Error":{"ErrorCode":"TicketGet.AuthFail","ErrorMessage":"TicketGet: Authorization failing!"}}`, ticket.ErrAuth, "TicketGet.AuthFail"},
		{"fault on 500", 500, "text/plain", `{"faultcode":"Server","faultstring":"Ticket could not be created, please contact the system administrator"}`, ticket.ErrUnavailable, "Server"},
		{"unknown route", 500, "text/plain", `HTTP::REST Error while determine Operation for request URI '/X'.`, ticket.ErrValidation, "HTTP::REST"},
		{"unknown web service", 500, "text/plain", ``, ticket.ErrUnavailable, ""},
		{"rate limited", 429, "text/plain", `slow down`, ticket.ErrRateLimited, ""},
		{"proxy 401", 401, "text/html", `<html>`, ticket.ErrAuth, ""},
		{"proxy 404", 404, "text/html", `<html>`, ticket.ErrValidation, ""},
		{"html on 200", 200, "text/html", `<html>login</html>`, ticket.ErrUnavailable, ""},
		{"empty 200", 200, "application/json", ``, ticket.ErrUnavailable, ""},
		{"bad gateway", 502, "text/html", `bad gateway`, ticket.ErrUnavailable, ""},
		{"secret echoed", 500, "text/plain", `failed for password hunter2-password`, ticket.ErrUnavailable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Content-Type": {tt.ct}, "Retry-After": {"7"}}
			err := decodeReply(tt.status, h, []byte(tt.body), &searchReply{})
			var te *ticket.Error
			if !errors.As(err, &te) || te.Kind != tt.kind || te.Code != tt.code {
				t.Fatalf("got %#v, want kind %v code %q", err, tt.kind, tt.code)
			}
			if strings.Contains(err.Error(), "hunter2-password") {
				t.Errorf("secret in error: %v", err)
			}
			if tt.kind == ticket.ErrRateLimited && te.RetryAfter != 7*time.Second {
				t.Errorf("RetryAfter = %v", te.RetryAfter)
			}
		})
	}
}

func TestValidationField(t *testing.T) {
	e := giErrorToTicket(200, "TicketUpdate.InvalidParameter", "TicketUpdate: Ticket->QueueID or Ticket->Queue parameter is invalid!")
	if e.Field != "Queue" || !errors.Is(e, ticket.ErrValidation) {
		t.Errorf("got %+v", e)
	}
}

// FuzzDecodeReply: no input panics the decoder, and every failure is typed.
func FuzzDecodeReply(f *testing.F) {
	for _, s := range []string{`{}`, `{"TicketID":["1"]}`, `{"Ticket":[{"TicketID":2,"Article":{"Body":1}}]}`,
		`{"Error":{"ErrorCode":1}}`, `{"Error":"x"}`, `{"faultstring":"x"}`, `[]`, `"x"`, `{"Ticket":{"DynamicField":{"Name":[]}}}`} {
		f.Add(200, s)
		f.Add(500, s)
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		for _, out := range []any{&searchReply{}, &ticketGetReply{}, &writeReply{}, &sessionCreateReply{}, &historyReply{}, nil} {
			err := decodeReply(status, http.Header{}, []byte(body), out)
			if err != nil {
				var te *ticket.Error
				if !errors.As(err, &te) || te.Kind == nil {
					t.Fatalf("untyped error %v", err)
				}
				continue
			}
			if r, ok := out.(*ticketGetReply); ok {
				for i := range r.Ticket {
					_ = r.Ticket[i].toTicket(time.UTC)
				}
			}
		}
	})
}

func TestRetryAfterBounded(t *testing.T) {
	for _, v := range []string{"99999999999999", "9223372036", "86401"} {
		if d := retryAfter(v); d <= 0 || d > 24*time.Hour {
			t.Errorf("retryAfter(%q) = %v, want within (0, 24h]", v, d)
		}
	}
	if d := retryAfter("30"); d != 30*time.Second {
		t.Errorf("retryAfter(30) = %v", d)
	}
}
