package freshdesk

import (
	"encoding/json"
	"html"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/otai-dev/otai/ticket"
)

// Freshdesk's fixed enumerations (§2.2 of the API notes). Accounts may add
// custom statuses with ids above 5; they are read and written by id.
var (
	statusNames   = map[int]string{2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed"}
	priorityNames = map[int]string{1: "Low", 2: "Medium", 3: "High", 4: "Urgent"}
)

// Ticket is Freshdesk's ticket object as the API returns it.
type Ticket struct {
	ID              int64          `json:"id"`
	Subject         string         `json:"subject"`
	Description     string         `json:"description,omitempty"`
	DescriptionText string         `json:"description_text,omitempty"`
	Status          int            `json:"status"`
	Priority        int            `json:"priority"`
	Source          int            `json:"source,omitempty"`
	Type            *string        `json:"type"`
	RequesterID     *int64         `json:"requester_id"`
	ResponderID     *int64         `json:"responder_id"`
	GroupID         *int64         `json:"group_id"`
	CompanyID       *int64         `json:"company_id,omitempty"`
	Tags            []string       `json:"tags"`
	CustomFields    map[string]any `json:"custom_fields,omitempty"`
	Spam            bool           `json:"spam,omitempty"`
	CreatedAt       time.Time      `json:"created_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
	DueBy           *time.Time     `json:"due_by,omitempty"`
	Conversations   []Conversation `json:"conversations,omitempty"`
	Requester       *Contact       `json:"requester,omitempty"`
}

// Contact is the requester embedded with include=requester.
type Contact struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Conversation is a note or a reply.
type Conversation struct {
	ID        int64     `json:"id"`
	Body      string    `json:"body"`
	BodyText  string    `json:"body_text"`
	Incoming  bool      `json:"incoming"`
	Private   bool      `json:"private"`
	UserID    *int64    `json:"user_id"`
	Source    int       `json:"source,omitempty"`
	TicketID  int64     `json:"ticket_id"`
	FromEmail *string   `json:"from_email"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SearchResult is the body of GET /search/tickets.
type SearchResult struct {
	Total   int      `json:"total"`
	Results []Ticket `json:"results"`
}

// Group is an entry of GET /groups.
type Group struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Agent is an entry of GET /agents and GET /agents/me.
type Agent struct {
	ID          int64   `json:"id"`
	TicketScope int     `json:"ticket_scope"` // 1 global, 2 group, 3 restricted
	GroupIDs    []int64 `json:"group_ids"`
	Contact     struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"contact"`
}

// APIError is Freshdesk's error body: {description, errors:[...]} for 400,
// {code, message} for 401/403.
type APIError struct {
	Description string       `json:"description"`
	Errors      []FieldError `json:"errors"`
	Code        string       `json:"code"`
	Message     string       `json:"message"`
}

// FieldError is one entry of APIError.Errors.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Code    string `json:"code"`
}

// ticketUpdate is the PUT /tickets/{id} body: only set fields are sent.
type ticketUpdate struct {
	Subject      *string        `json:"subject,omitempty"`
	GroupID      *int64         `json:"group_id,omitempty"`
	Priority     *int           `json:"priority,omitempty"`
	Status       *int           `json:"status,omitempty"`
	Type         *string        `json:"type,omitempty"`
	ResponderID  *int64         `json:"responder_id,omitempty"`
	Tags         *[]string      `json:"tags,omitempty"`
	CustomFields map[string]any `json:"custom_fields,omitempty"`
}

// ticketCreate is the POST /tickets body.
type ticketCreate struct {
	Email        string         `json:"email,omitempty"`
	RequesterID  *int64         `json:"requester_id,omitempty"`
	Subject      string         `json:"subject"`
	Description  string         `json:"description"`
	Status       int            `json:"status"`
	Priority     int            `json:"priority"`
	Source       int            `json:"source,omitempty"`
	Type         *string        `json:"type,omitempty"`
	GroupID      *int64         `json:"group_id,omitempty"`
	ResponderID  *int64         `json:"responder_id,omitempty"`
	Tags         []string       `json:"tags,omitempty"`
	CustomFields map[string]any `json:"custom_fields,omitempty"`
}

// noteCreate is the POST /tickets/{id}/notes body. Private has no
// omitempty: false must be sent, since the server's default is private
// (the bug a popular Go client has).
type noteCreate struct {
	Body    string `json:"body"`
	Private bool   `json:"private"`
}

func idString(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

// toUnified converts a Freshdesk ticket. groups names group ids (may be nil).
func toUnified(t *Ticket, groups map[int64]string) ticket.Ticket {
	out := ticket.Ticket{
		ID:        strconv.FormatInt(t.ID, 10),
		Number:    strconv.FormatInt(t.ID, 10),
		Subject:   t.Subject,
		Body:      t.DescriptionText,
		Priority:  ticket.Entity{ID: strconv.Itoa(t.Priority), Name: priorityNames[t.Priority]},
		State:     ticket.Entity{ID: strconv.Itoa(t.Status), Name: statusNames[t.Status]},
		Owner:     ticket.Entity{ID: idString(t.ResponderID)},
		Customer:  ticket.Entity{ID: idString(t.RequesterID)},
		Tags:      append([]string(nil), t.Tags...),
		CreatedAt: t.CreatedAt,
		UpdatedAt: t.UpdatedAt,
	}
	if out.Body == "" && t.Description != "" {
		out.Body = htmlToText(t.Description)
	}
	if t.Priority == 0 {
		out.Priority = ticket.Entity{}
	}
	if t.Status == 0 {
		out.State = ticket.Entity{}
	}
	if t.GroupID != nil {
		out.Queue = ticket.Entity{ID: idString(t.GroupID), Name: groups[*t.GroupID]}
	}
	if t.Type != nil && *t.Type != "" {
		out.Type = ticket.Entity{ID: *t.Type, Name: *t.Type}
	}
	if t.Requester != nil {
		out.Customer.Name = t.Requester.Email
	}
	if len(t.CustomFields) > 0 {
		out.CustomFields = make(map[string]any, len(t.CustomFields))
		for k, v := range t.CustomFields {
			out.CustomFields[k] = v
		}
	}
	for i := range t.Conversations {
		out.Notes = append(out.Notes, noteToUnified(&t.Conversations[i]))
	}
	return out
}

func noteToUnified(c *Conversation) ticket.Note {
	body := c.BodyText
	if body == "" {
		body = htmlToText(c.Body)
	}
	return ticket.Note{
		ID:          strconv.FormatInt(c.ID, 10),
		Body:        body,
		ContentType: ticket.ContentTypePlain,
		Internal:    c.Private,
		Author:      idString(c.UserID),
		CreatedAt:   c.CreatedAt,
	}
}

var (
	reBreak = regexp.MustCompile(`(?i)<br\s*/?>|</p>|</div>|</li>|</h[1-6]>|</tr>`)
	reTag   = regexp.MustCompile(`<[^>]*>`)
	reBlank = regexp.MustCompile(`\n{3,}`)
)

// htmlToText turns Freshdesk's HTML bodies into plain text.
func htmlToText(s string) string {
	s = reBreak.ReplaceAllString(s, "\n")
	s = reTag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = strings.ReplaceAll(s, "\u00a0", " ")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return strings.TrimSpace(reBlank.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}

// textToHTML turns a plain-text body into the HTML Freshdesk expects.
func textToHTML(s string) string {
	var b strings.Builder
	for i, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if i > 0 {
			b.WriteString("<br>")
		}
		b.WriteString(html.EscapeString(p))
	}
	return "<div>" + b.String() + "</div>"
}

// normText compares bodies across HTML rewriting by the server.
func normText(s string) string { return strings.Join(strings.Fields(htmlToText(s)), " ") }

func sortOldestFirst(ts []Ticket) {
	sort.SliceStable(ts, func(i, j int) bool {
		if !ts[i].CreatedAt.Equal(ts[j].CreatedAt) {
			return ts[i].CreatedAt.Before(ts[j].CreatedAt)
		}
		return ts[i].ID < ts[j].ID
	})
}

// lookupStatus resolves a state entity to a status code.
func lookupStatus(e ticket.Entity) (int, bool) {
	return lookupEnum(e, statusNames, 2, 1<<30)
}

// lookupPriority resolves a priority entity to 1-4. Besides the names, a
// few common synonyms are accepted ("normal", "critical").
func lookupPriority(e ticket.Entity) (int, bool) {
	switch strings.ToLower(strings.TrimSpace(e.Name)) {
	case "normal":
		return 2, true
	case "critical":
		return 4, true
	}
	return lookupEnum(e, priorityNames, 1, 4)
}

func lookupEnum(e ticket.Entity, names map[int]string, lo, hi int) (int, bool) {
	for _, s := range []string{e.ID, e.Name} {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			return n, n >= lo && n <= hi
		}
	}
	for k, v := range names {
		if strings.EqualFold(v, strings.TrimSpace(e.Name)) {
			return k, true
		}
	}
	return 0, false
}

func jsonDecode(b []byte, out any) error {
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	return json.Unmarshal(b, out)
}
