package zammad

import (
	"encoding/json"
	"html"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/otai-dev/otai/ticket"
)

// Ticket is Zammad's ticket as returned with expand=true. Attributes that
// are not standard (custom object attributes) land in Custom.
type Ticket struct {
	ID         int64     `json:"id"`
	Number     string    `json:"number"`
	Title      string    `json:"title"`
	GroupID    int64     `json:"group_id"`
	Group      string    `json:"group,omitempty"`
	PriorityID int64     `json:"priority_id"`
	Priority   string    `json:"priority,omitempty"`
	StateID    int64     `json:"state_id"`
	State      string    `json:"state,omitempty"`
	OwnerID    int64     `json:"owner_id"`
	Owner      string    `json:"owner,omitempty"`
	CustomerID int64     `json:"customer_id"`
	Customer   string    `json:"customer,omitempty"`
	Type       *string   `json:"type"`
	ArticleIDs []int64   `json:"article_ids,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`

	Custom map[string]any `json:"-"`
}

// standardKeys are the attributes of a ticket that are not custom.
var standardKeys = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`id number title group_id group priority_id priority state_id state owner_id owner
		customer_id customer organization_id organization type article_ids article_count created_at updated_at
		created_by_id created_by updated_by_id updated_by note first_response_at first_response_escalation_at
		first_response_in_min first_response_diff_in_min close_at close_escalation_at close_in_min close_diff_in_min
		update_escalation_at update_in_min update_diff_in_min last_close_at last_contact_at last_contact_agent_at
		last_contact_customer_at last_owner_update_at create_article_type_id create_article_type
		create_article_sender_id create_article_sender escalation_at pending_time time_unit preferences
		checklist_id ticket_time_accounting_ids ticket_time_accounting mention_user_ids shared_draft_ids
		time_unit_id time_units_per_type`) {
		standardKeys[k] = true
	}
}

// UnmarshalJSON keeps custom attributes.
func (t *Ticket) UnmarshalJSON(b []byte) error {
	type plain Ticket
	if err := json.Unmarshal(b, (*plain)(t)); err != nil {
		return err
	}
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	for k, v := range all {
		if !standardKeys[k] {
			if t.Custom == nil {
				t.Custom = map[string]any{}
			}
			t.Custom[k] = v
		}
	}
	return nil
}

// Article is a ticket article.
type Article struct {
	ID          int64     `json:"id"`
	TicketID    int64     `json:"ticket_id"`
	Subject     string    `json:"subject"`
	Body        string    `json:"body"`
	ContentType string    `json:"content_type"`
	Internal    bool      `json:"internal"`
	Type        string    `json:"type,omitempty"`
	Sender      string    `json:"sender,omitempty"`
	From        string    `json:"from,omitempty"`
	CreatedBy   string    `json:"created_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// articleCreate is the POST /ticket_articles body; internal is always sent.
type articleCreate struct {
	TicketID    int64  `json:"ticket_id,omitempty"`
	Subject     string `json:"subject,omitempty"`
	Body        string `json:"body"`
	ContentType string `json:"content_type"`
	Type        string `json:"type"`
	Internal    bool   `json:"internal"`
	Sender      string `json:"sender,omitempty"`
}

// APIError is Zammad's error body.
type APIError struct {
	Error      string `json:"error"`
	ErrorHuman string `json:"error_human"`
}

// oldSearch is the search shape of Zammad <= 6.4 without expand.
type oldSearch struct {
	Tickets      []int64 `json:"tickets"`
	TicketsCount int     `json:"tickets_count"`
	Assets       struct {
		Ticket map[string]Ticket `json:"Ticket"`
	} `json:"assets"`
}

// User is GET /users/me.
type User struct {
	ID       int64               `json:"id"`
	Login    string              `json:"login"`
	Email    string              `json:"email"`
	GroupIDs map[string][]string `json:"group_ids"`
}

// Group is an entry of GET /groups.
type Group struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Active bool   `json:"active"`
}

func ent(id int64, name string) ticket.Entity {
	e := ticket.Entity{Name: name}
	if id != 0 {
		e.ID = strconv.FormatInt(id, 10)
	}
	return e
}

func toUnified(t *Ticket) ticket.Ticket {
	out := ticket.Ticket{
		ID:        strconv.FormatInt(t.ID, 10),
		Number:    t.Number,
		Subject:   t.Title,
		Queue:     ent(t.GroupID, t.Group),
		Priority:  ent(t.PriorityID, t.Priority),
		State:     ent(t.StateID, t.State),
		Owner:     ent(t.OwnerID, t.Owner),
		Customer:  ent(t.CustomerID, t.Customer),
		CreatedAt: t.CreatedAt,
		UpdatedAt: t.UpdatedAt,
	}
	if t.OwnerID == 1 && (t.Owner == "" || t.Owner == "-") {
		out.Owner = ticket.Entity{} // user 1 is Zammad's "nobody"
	}
	if t.Type != nil && *t.Type != "" {
		out.Type = ticket.Entity{ID: *t.Type, Name: *t.Type}
	}
	if len(t.Custom) > 0 {
		out.CustomFields = t.Custom
	}
	return out
}

func noteToUnified(a *Article) ticket.Note {
	body := a.Body
	if strings.Contains(a.ContentType, "html") {
		body = htmlToText(body)
	}
	author := a.CreatedBy
	if author == "" {
		author = a.From
	}
	return ticket.Note{ID: strconv.FormatInt(a.ID, 10), Subject: a.Subject, Body: body, ContentType: ticket.ContentTypePlain,
		Internal: a.Internal, Author: author, CreatedAt: a.CreatedAt}
}

var (
	reBreak = regexp.MustCompile(`(?i)<br\s*/?>|</p>|</div>|</li>`)
	reTag   = regexp.MustCompile(`<[^>]*>`)
)

func htmlToText(s string) string {
	s = reBreak.ReplaceAllString(s, "\n")
	s = html.UnescapeString(reTag.ReplaceAllString(s, ""))
	return strings.TrimSpace(strings.ReplaceAll(s, "\u00a0", " "))
}

func normText(s string) string { return strings.Join(strings.Fields(htmlToText(s)), " ") }
