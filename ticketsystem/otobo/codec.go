package otobo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/otai-dev/otai/secret"
	"github.com/otai-dev/otai/ticket"
)

// flexString decodes a JSON string, number or null into a string: the GI
// emits ids as strings in one reply and as numbers in the next. "" and null
// both mean absent.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*s = ""
		return nil
	}
	switch b[0] {
	case '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
		return nil
	case 't', 'f':
		var v bool
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		if v {
			*s = "1"
		} else {
			*s = "0"
		}
		return nil
	case '{', '[':
		return fmt.Errorf("expected a string or number, got %.20s", b)
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*s = flexString(n.String())
	return nil
}

func (s flexString) String() string { return strings.TrimSpace(string(s)) }

// flexBool decodes 1/0, "1"/"0", "y"/"n", true/false and "" (false).
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	switch strings.ToLower(s.String()) {
	case "", "0", "n", "no", "false":
		*f = false
	default:
		*f = true
	}
	return nil
}

// idList decodes ["1","2"], [1,2], "1", 1, null and a missing key.
type idList []string

func (l *idList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var raw []flexString
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		out := make(idList, 0, len(raw))
		for _, r := range raw {
			if v := r.String(); v != "" {
				out = append(out, v)
			}
		}
		*l = out
		return nil
	}
	var one flexString
	if err := one.UnmarshalJSON(b); err != nil {
		return err
	}
	if v := one.String(); v != "" {
		*l = idList{v}
	} else {
		*l = nil
	}
	return nil
}

// oneOrMany decodes a JSON object or an array of objects into a slice:
// TicketGet returns Ticket as an array, create/update with
// IncludeTicketData as an object; Article is an array in OTOBO's TicketGet
// and Znuny's replies and an object in OTOBO's create reply.
type oneOrMany[T any] []T

func (l *oneOrMany[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null" || string(b) == `""`:
		*l = nil
		return nil
	case b[0] == '[':
		var v []T
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*l = v
		return nil
	case b[0] == '{':
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*l = oneOrMany[T]{v}
		return nil
	}
	return fmt.Errorf("expected an object or an array, got %.20s", b)
}

// giError is the GI's business error: {"Error":{"ErrorCode":..,"ErrorMessage":..}}.
type giError struct {
	ErrorCode    flexString `json:"ErrorCode"`
	ErrorMessage flexString `json:"ErrorMessage"`
}

type envelope struct {
	Error *giError `json:"Error"`
	// Operation failures (HTTP 500) carry a SOAP-style fault in JSON.
	FaultCode   flexString `json:"faultcode"`
	FaultString flexString `json:"faultstring"`
}

type sessionCreateReply struct {
	SessionID flexString `json:"SessionID"`
}

type sessionGetReply struct {
	SessionData []struct {
		Key   flexString      `json:"Key"`
		Value json.RawMessage `json:"Value"`
	} `json:"SessionData"`
}

type searchReply struct {
	TicketID idList `json:"TicketID"`
}

type ticketGetReply struct {
	Ticket oneOrMany[giTicket] `json:"Ticket"`
}

// writeReply is what TicketCreate and TicketUpdate return. ArticleID is an
// array when Znuny created several articles. Ticket is present when the
// operation is configured with IncludeTicketData.
type writeReply struct {
	TicketID     flexString          `json:"TicketID"`
	TicketNumber flexString          `json:"TicketNumber"`
	ArticleID    idList              `json:"ArticleID"`
	Ticket       oneOrMany[giTicket] `json:"Ticket"`
}

type historyReply struct {
	TicketHistory oneOrMany[struct {
		TicketID flexString `json:"TicketID"`
		History  []struct {
			HistoryType flexString `json:"HistoryType"`
			Name        flexString `json:"Name"`
			CreateTime  flexString `json:"CreateTime"`
			ArticleID   flexString `json:"ArticleID"`
			QueueID     flexString `json:"QueueID"`
		} `json:"History"`
	}] `json:"TicketHistory"`
}

type giDynamicField struct {
	Name  flexString      `json:"Name"`
	Value json.RawMessage `json:"Value"`
}

type giArticle struct {
	ArticleID              flexString `json:"ArticleID"`
	ArticleNumber          flexString `json:"ArticleNumber"`
	TicketID               flexString `json:"TicketID"`
	CommunicationChannel   flexString `json:"CommunicationChannel"`
	CommunicationChannelID flexString `json:"CommunicationChannelID"`
	SenderType             flexString `json:"SenderType"`
	IsVisibleForCustomer   flexBool   `json:"IsVisibleForCustomer"`
	From                   flexString `json:"From"`
	To                     flexString `json:"To"`
	Subject                flexString `json:"Subject"`
	Body                   flexString `json:"Body"`
	ContentType            flexString `json:"ContentType"`
	MimeType               flexString `json:"MimeType"`
	CreateTime             flexString `json:"CreateTime"`
}

type giTicket struct {
	TicketID       flexString                `json:"TicketID"`
	TicketNumber   flexString                `json:"TicketNumber"`
	Title          flexString                `json:"Title"`
	Queue          flexString                `json:"Queue"`
	QueueID        flexString                `json:"QueueID"`
	State          flexString                `json:"State"`
	StateID        flexString                `json:"StateID"`
	StateType      flexString                `json:"StateType"`
	Priority       flexString                `json:"Priority"`
	PriorityID     flexString                `json:"PriorityID"`
	Type           flexString                `json:"Type"`
	TypeID         flexString                `json:"TypeID"`
	Owner          flexString                `json:"Owner"`
	OwnerID        flexString                `json:"OwnerID"`
	Responsible    flexString                `json:"Responsible"`
	CustomerID     flexString                `json:"CustomerID"`
	CustomerUserID flexString                `json:"CustomerUserID"`
	Lock           flexString                `json:"Lock"`
	Created        flexString                `json:"Created"`
	Changed        flexString                `json:"Changed"`
	DynamicField   oneOrMany[giDynamicField] `json:"DynamicField"`
	Article        oneOrMany[giArticle]      `json:"Article"`
}

// giTimeLayout is how the GI writes times: no zone, the system's zone.
const giTimeLayout = "2006-01-02 15:04:05"

func parseTime(s flexString, loc *time.Location) time.Time {
	v := s.String()
	if v == "" || strings.HasPrefix(v, "0000") {
		return time.Time{}
	}
	t, err := time.ParseInLocation(giTimeLayout, v, loc)
	if err != nil {
		return time.Time{}
	}
	return t
}

func formatTime(t time.Time, loc *time.Location) string { return t.In(loc).Format(giTimeLayout) }

// toTicket converts a GI ticket to the unified model. Body is the first
// article's body (articles are requested oldest first); every article
// becomes a note.
func (g *giTicket) toTicket(loc *time.Location) ticket.Ticket {
	t := ticket.Ticket{
		ID:        g.TicketID.String(),
		Number:    g.TicketNumber.String(),
		Subject:   g.Title.String(),
		Queue:     ticket.Entity{ID: g.QueueID.String(), Name: g.Queue.String()},
		Priority:  ticket.Entity{ID: g.PriorityID.String(), Name: g.Priority.String()},
		State:     ticket.Entity{ID: g.StateID.String(), Name: g.State.String()},
		Type:      ticket.Entity{ID: g.TypeID.String(), Name: g.Type.String()},
		Owner:     ticket.Entity{ID: g.OwnerID.String(), Name: g.Owner.String()},
		Customer:  ticket.Entity{ID: g.CustomerUserID.String()},
		CreatedAt: parseTime(g.Created, loc),
		UpdatedAt: parseTime(g.Changed, loc),
	}
	for _, df := range g.DynamicField {
		v := dfValue(df.Value)
		if df.Name == "" || v == nil {
			continue
		}
		if t.CustomFields == nil {
			t.CustomFields = map[string]any{}
		}
		t.CustomFields[df.Name.String()] = v
	}
	for i, a := range g.Article {
		if i == 0 {
			t.Body = a.Body.String()
		}
		t.Notes = append(t.Notes, a.toNote(loc))
	}
	return t
}

func (a *giArticle) toNote(loc *time.Location) ticket.Note {
	ct := a.MimeType.String()
	if ct == "" {
		ct, _, _ = strings.Cut(a.ContentType.String(), ";")
		ct = strings.TrimSpace(ct)
	}
	return ticket.Note{
		ID:          a.ArticleID.String(),
		Subject:     a.Subject.String(),
		Body:        string(a.Body),
		ContentType: strings.ToLower(ct),
		Internal:    !bool(a.IsVisibleForCustomer),
		Author:      a.From.String(),
		CreatedAt:   parseTime(a.CreateTime, loc),
	}
}

// dfValue turns a dynamic field value (string, number, array, null) into a
// plain Go value; nil means unset.
func dfValue(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil
	}
	return v
}

// maxBody bounds how much of a reply is read (TicketGet with attachments can
// be large; anything beyond this is not a reply otai can use).
const maxBody = 64 << 20

// decodeReply checks an HTTP reply from the GI and decodes a successful one
// into out. Every failure is a *ticket.Error with Kind, Status, Code and the
// server's Message (redacted); the caller fills Op.
func decodeReply(status int, header http.Header, body []byte, out any) error {
	trimmed := bytes.TrimSpace(body)
	isJSONObject := len(trimmed) > 0 && trimmed[0] == '{'
	var env envelope
	envOK := isJSONObject && json.Unmarshal(trimmed, &env) == nil

	// A business error wins whatever the status: the GI answers them with 200.
	if envOK && env.Error != nil && (env.Error.ErrorCode != "" || env.Error.ErrorMessage != "") {
		return giErrorToTicket(status, env.Error.ErrorCode.String(), env.Error.ErrorMessage.String())
	}
	if status >= 200 && status < 300 {
		if len(trimmed) == 0 {
			return &ticket.Error{Kind: ticket.ErrUnavailable, Status: status, Message: "empty reply"}
		}
		if !isJSONObject {
			return &ticket.Error{Kind: ticket.ErrUnavailable, Status: status,
				Message: "reply is not a JSON object (is base_url the GenericInterface endpoint?): " + snippet(trimmed)}
		}
		if out == nil {
			// Nothing to decode, but a body cut short or garbled on the
			// way proves nothing: it may have been a business error (the
			// GI sends those with 200 too). Only valid JSON is a success.
			if !json.Valid(trimmed) {
				return &ticket.Error{Kind: ticket.ErrUnavailable, Status: status,
					Message: "undecodable reply: truncated or malformed JSON: " + snippet(trimmed)}
			}
			return nil
		}
		if err := json.Unmarshal(trimmed, out); err != nil {
			return &ticket.Error{Kind: ticket.ErrUnavailable, Status: status,
				Message: "undecodable reply: " + secret.Redact(err.Error())}
		}
		return nil
	}
	e := &ticket.Error{Status: status}
	text := snippet(trimmed)
	switch {
	case status == http.StatusTooManyRequests:
		e.Kind, e.Message = ticket.ErrRateLimited, text
		e.RetryAfter = retryAfter(header.Get("Retry-After"))
	case status == http.StatusUnauthorized:
		e.Kind, e.Message = ticket.ErrAuth, "HTTP 401 from a proxy in front of the GenericInterface (the GI itself never sends it)"
	case status == http.StatusForbidden:
		e.Kind, e.Message = ticket.ErrForbidden, orDefault(text, "HTTP 403 from the web server")
	case status == http.StatusNotFound:
		// The GI never answers 404: the URL is wrong, not the ticket.
		e.Kind, e.Message = ticket.ErrValidation, "URL not found: check base_url and webservice_name"
	case status == http.StatusRequestEntityTooLarge:
		e.Kind, e.Message = ticket.ErrValidation, orDefault(text, "request too large")
	case envOK && env.FaultString != "":
		// TicketCreate/Update operation failure: database, sysconfig.
		e.Kind, e.Code, e.Message = ticket.ErrUnavailable, env.FaultCode.String(), env.FaultString.String()
	case strings.Contains(text, "determine Operation"):
		e.Kind, e.Code = ticket.ErrValidation, "HTTP::REST"
		e.Message = text + " (no route for this operation: import GenericTicketConnectorREST.yml or set route_preset/routes)"
	case strings.Contains(text, "decoding request content"), strings.Contains(text, "Unsupported request content"):
		e.Kind, e.Code, e.Message = ticket.ErrValidation, "HTTP::REST", text
	case status == http.StatusInternalServerError && len(trimmed) == 0:
		e.Kind = ticket.ErrUnavailable
		e.Message = "empty HTTP 500 reply: the web service name may be wrong (check webservice_name) or the server failed"
	case status >= 500 || status == http.StatusRequestTimeout:
		e.Kind, e.Message = ticket.ErrUnavailable, text
	default:
		e.Kind, e.Message = ticket.ErrValidation, text
	}
	return e
}

var fieldRe = regexp.MustCompile(`(?:\w+->)?(\w+) parameter is`)

// giErrorToTicket maps a GI ErrorCode ("TicketGet.AccessDenied") to a kind.
func giErrorToTicket(status int, code, msg string) *ticket.Error {
	e := &ticket.Error{Status: status, Code: secret.Redact(code), Message: secret.Redact(msg)}
	_, suffix, ok := strings.Cut(code, ".")
	if !ok {
		suffix = code
	}
	switch suffix {
	case "AuthFail", "SessionInvalid":
		e.Kind = ticket.ErrAuth
	case "AccessDenied":
		e.Kind = ticket.ErrForbidden
	case "NotTicketData":
		e.Kind = ticket.ErrNotFound
	default: // MissingParameter, InvalidParameter, WrongStructure, EmptyRequest, NotValidTicketID, InvalidConfiguration
		e.Kind = ticket.ErrValidation
	}
	if e.Kind == ticket.ErrValidation {
		if m := fieldRe.FindStringSubmatch(msg); m != nil {
			e.Field = m[1]
		}
	}
	return e
}

// noAccessToTicket reports whether err is the GI's answer for a ticket that
// does not exist (or that the agent may not read: the GI does not tell them
// apart).
func noAccessToTicket(err error) bool {
	var te *ticket.Error
	return errors.As(err, &te) && te.Kind == ticket.ErrForbidden &&
		strings.Contains(strings.ToLower(te.Message), "does not have access to the ticket")
}

func isAuthFail(err error) bool {
	var te *ticket.Error
	return errors.As(err, &te) && te.Kind == ticket.ErrAuth && te.Status != http.StatusUnauthorized
}

func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		const most = 24 * time.Hour // beyond that a value is nonsense, not a plan
		if n > int(most/time.Second) {
			return most
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// snippet returns at most 300 bytes of a reply body as valid, redacted text.
func snippet(b []byte) string {
	const n = 300
	s := string(b)
	if len(s) > n {
		s = s[:n]
		for !utf8.ValidString(s) && len(s) > 0 {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return secret.Redact(strings.ToValidUTF8(s, "?"))
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
