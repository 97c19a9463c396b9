package zammad

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/ticket"
)

const (
	listMax   = 100 // GET /tickets per_page cap
	searchMax = 200 // GET /tickets/search per_page cap
)

// Client is a Zammad ticket system. It is safe for concurrent use.
type Client struct {
	http            *httpx.Client
	log             *slog.Logger
	allowPublic     bool
	noteSubject     string
	defaultCustomer string
	legacy          bool
}

var (
	_ ticket.System  = (*Client)(nil)
	_ ticket.Checker = (*Client)(nil)
)

// mapError reads Zammad's {error, error_human} body into a *ticket.Error.
func mapError(op string, err error) error {
	var he *httpx.Error
	if !errors.As(err, &he) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var msg string
	if len(he.Body) > 0 {
		var ae APIError
		if json.Unmarshal(he.Body, &ae) == nil {
			msg = ae.ErrorHuman
			if msg == "" {
				msg = ae.Error
			}
		}
	}
	if msg == "" && he.Header != nil {
		msg = he.Header.Get("X-Failure")
	}
	te := httpx.TicketError(op, err, "", msg, "")
	// 403 "Authentication required" / "... access disabled!" are
	// credential problems, not missing permissions.
	var t *ticket.Error
	if errors.As(te, &t) && he.Status == http.StatusForbidden {
		l := strings.ToLower(msg)
		if strings.Contains(l, "authentication required") || strings.Contains(l, "access disabled") {
			t.Kind = ticket.ErrAuth
		}
	}
	return te
}

func (c *Client) do(ctx context.Context, op string, r *httpx.Request, out any) (*httpx.Response, error) {
	resp, err := c.http.Do(ctx, r)
	if err != nil {
		return resp, mapError(op, err)
	}
	if out != nil && len(bytes.TrimSpace(resp.Body)) > 0 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return resp, fmt.Errorf("%s: decoding response: %w", op, err)
		}
	}
	return resp, nil
}

func (c *Client) get(ctx context.Context, op, path string, q url.Values, out any) error {
	_, err := c.do(ctx, op, &httpx.Request{Method: http.MethodGet, Path: path, Query: q}, out)
	return err
}

func checkID(op, id string) (int64, error) { return ticket.NumericID(op, id, "Zammad") }

// quoteES quotes a value for Elasticsearch's query string syntax.
func quoteES(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// searchQuery maps criteria to Zammad's search syntax; "" means no filter.
func (c *Client) searchQuery(cr ticket.SearchCriteria) string {
	var terms []string
	field := func(assoc string, e *ticket.Entity, idField string) {
		if e == nil || e.IsZero() {
			return
		}
		if e.ID != "" {
			if _, err := strconv.ParseInt(e.ID, 10, 64); err == nil {
				terms = append(terms, idField+":"+e.ID)
				return
			}
		}
		name := assoc + ".name"
		if assoc == "owner" {
			name = "owner.login"
		}
		if c.legacy {
			name = assoc
		}
		terms = append(terms, name+":"+quoteES(e.String()))
	}
	field("group", cr.Queue, "group_id")
	field("state", cr.State, "state_id")
	field("priority", cr.Priority, "priority_id")
	field("owner", cr.Owner, "owner_id")
	if cr.Subject != "" {
		terms = append(terms, "title:"+quoteES(cr.Subject))
	}
	// Whole seconds, widened (since: down, before: up); the exact bounds
	// are checked on the client.
	ceil := func(t time.Time) time.Time {
		if f := t.Truncate(time.Second); !f.Equal(t) {
			return f.Add(time.Second)
		}
		return t
	}
	// Ranges in brackets ([since TO *], {* TO before}): a time has
	// colons, which Elasticsearch's query_string syntax reserves outside
	// a bracketed range (updated_at:>=10:00:00 would not parse).
	for _, r := range []struct {
		field         string
		since, before time.Time
	}{
		{"updated_at", cr.UpdatedSince, ceil(cr.UpdatedBefore)},
		{"created_at", cr.CreatedSince, ceil(cr.CreatedBefore)},
	} {
		if !r.since.IsZero() {
			terms = append(terms, r.field+":["+r.since.UTC().Format(time.RFC3339)+" TO *]")
		}
		if !r.before.IsZero() {
			terms = append(terms, r.field+":{* TO "+r.before.UTC().Format(time.RFC3339)+"}")
		}
	}
	for _, k := range cr.SortedCustomFields() {
		terms = append(terms, k+":"+quoteES(cr.CustomFields[k]))
	}
	return strings.Join(terms, " AND ")
}

// attrName is a Zammad object attribute name (Object Manager allows
// lower-case letters, digits and _).
var attrName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// checkCustomFields refuses custom-field filters that are not object
// attribute names (they would change the query's meaning), or empty.
func checkCustomFields(op string, cr ticket.SearchCriteria) error {
	if err := cr.CheckCustomFields(op); err != nil {
		return err
	}
	for _, k := range cr.SortedCustomFields() {
		if !attrName.MatchString(k) {
			return &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "custom_fields." + k,
				Message: "not a Zammad object attribute name (letters, digits and _, as in Admin -> Objects -> Ticket)"}
		}
	}
	return nil
}

func inWindow(at, since, before time.Time) bool {
	return (since.IsZero() || !at.Before(since)) && (before.IsZero() || at.Before(before))
}

// customMatch compares attribute values exactly, as text (search itself
// is case-insensitive and analysed); a multi-select matches when one of
// its values does.
func customMatch(have map[string]any, want map[string]string) bool {
	for k, w := range want {
		switch v := have[k].(type) {
		case nil:
			return false
		case []any:
			if !slices.ContainsFunc(v, func(e any) bool { return e != nil && fmt.Sprint(e) == w }) {
				return false
			}
		default:
			if fmt.Sprint(v) != w {
				return false
			}
		}
	}
	return true
}

func entityMatch(want *ticket.Entity, id int64, name string) bool {
	if want == nil || want.IsZero() {
		return true
	}
	return want.Matches(ent(id, name))
}

func matches(t *Ticket, cr ticket.SearchCriteria) bool {
	return (cr.Subject == "" || strings.Contains(strings.ToLower(t.Title), strings.ToLower(cr.Subject))) &&
		inWindow(t.UpdatedAt, cr.UpdatedSince, cr.UpdatedBefore) && inWindow(t.CreatedAt, cr.CreatedSince, cr.CreatedBefore) &&
		customMatch(t.Custom, cr.CustomFields) &&
		entityMatch(cr.Queue, t.GroupID, t.Group) && entityMatch(cr.State, t.StateID, t.State) &&
		entityMatch(cr.Priority, t.PriorityID, t.Priority) &&
		(cr.Owner == nil || cr.Owner.IsZero() || cr.Owner.Matches(ent(t.OwnerID, t.Owner)))
}

// decodeTickets accepts the array shape (expand=true, any version) and the
// old {tickets, tickets_count, assets} shape.
func decodeTickets(b []byte) ([]Ticket, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, nil
	}
	if b[0] == '[' {
		var ts []Ticket
		return ts, json.Unmarshal(b, &ts)
	}
	var old oldSearch
	if err := json.Unmarshal(b, &old); err != nil {
		return nil, err
	}
	ts := make([]Ticket, 0, len(old.Tickets))
	for _, id := range old.Tickets {
		if t, ok := old.Assets.Ticket[strconv.FormatInt(id, 10)]; ok {
			ts = append(ts, t)
		}
	}
	return ts, nil
}

// FindTickets lists (no filter) or searches with expand=true, page by
// page, re-checks every criterion on the client, orders oldest first, and
// reads each ticket's first article as its body.
func (c *Client) FindTickets(ctx context.Context, cr ticket.SearchCriteria) ([]ticket.Ticket, error) {
	const op = "finding tickets"
	if err := checkCustomFields(op, cr); err != nil {
		return nil, err
	}
	if cr.ID != "" {
		id, err := checkID(op, cr.ID)
		if err != nil {
			return nil, nil
		}
		var t Ticket
		if err := c.get(ctx, op, fmt.Sprintf("/tickets/%d", id), url.Values{"expand": {"true"}}, &t); err != nil {
			if errors.Is(err, ticket.ErrNotFound) {
				return nil, nil
			}
			return nil, err
		}
		if !matches(&t, cr) || cr.Offset > 0 {
			return nil, nil
		}
		return c.withBodies(ctx, op, []Ticket{t})
	}
	query := c.searchQuery(cr)
	path, per := "/tickets", listMax
	if query != "" {
		path, per = "/tickets/search", searchMax
	}
	want := cr.Offset + cr.Limit
	if cr.Limit > 0 && want < per {
		per = max(want, 1)
	}
	var all []Ticket
	for page := 1; ; page++ {
		q := url.Values{"expand": {"true"}, "page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(per)}}
		if query != "" {
			q.Set("query", query)
			q.Set("sort_by", "created_at")
			q.Set("order_by", "asc")
		}
		resp, err := c.do(ctx, op, &httpx.Request{Method: http.MethodGet, Path: path, Query: q}, nil)
		if err != nil {
			return nil, err
		}
		ts, err := decodeTickets(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("%s: decoding response: %w", op, err)
		}
		for i := range ts {
			if matches(&ts[i], cr) {
				all = append(all, ts[i])
			}
		}
		if len(ts) < per || (cr.Limit > 0 && len(all) >= want) {
			break
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if !all[i].CreatedAt.Equal(all[j].CreatedAt) {
			return all[i].CreatedAt.Before(all[j].CreatedAt)
		}
		return all[i].ID < all[j].ID
	})
	if cr.Offset > 0 {
		all = all[min(cr.Offset, len(all)):]
	}
	if cr.Limit > 0 && len(all) > cr.Limit {
		all = all[:cr.Limit]
	}
	return c.withBodies(ctx, op, all)
}

// withBodies converts tickets and sets Body from each first article, four
// requests at a time.
func (c *Client) withBodies(ctx context.Context, op string, ts []Ticket) ([]ticket.Ticket, error) {
	out := make([]ticket.Ticket, len(ts))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	errs := make([]error, len(ts))
	for i := range ts {
		out[i] = toUnified(&ts[i])
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			arts, err := c.articles(ctx, op, ts[i].ID)
			if err != nil {
				errs[i] = err
				return
			}
			if len(arts) > 0 {
				out[i].Body = noteToUnified(&arts[0]).Body
			}
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, ticket.ErrNotFound) {
			return nil, err
		}
	}
	return out, nil
}

func (c *Client) articles(ctx context.Context, op string, id int64) ([]Article, error) {
	var arts []Article
	err := c.get(ctx, op, fmt.Sprintf("/ticket_articles/by_ticket/%d", id), nil, &arts)
	sort.SliceStable(arts, func(i, j int) bool { return arts[i].ID < arts[j].ID })
	return arts, err
}

// FindFirstTicket returns the oldest matching ticket.
func (c *Client) FindFirstTicket(ctx context.Context, cr ticket.SearchCriteria) (*ticket.Ticket, error) {
	return ticket.FindFirst(ctx, c, cr)
}

// GetTicket returns a ticket with its articles as notes and its tags.
func (c *Client) GetTicket(ctx context.Context, id string) (*ticket.Ticket, error) {
	op := "getting ticket " + id
	n, err := checkID(op, id)
	if err != nil {
		return nil, err
	}
	var t Ticket
	if err := c.get(ctx, op, fmt.Sprintf("/tickets/%d", n), url.Values{"expand": {"true"}}, &t); err != nil {
		return nil, err
	}
	arts, err := c.articles(ctx, op, n)
	if err != nil {
		return nil, err
	}
	tags, err := c.tags(ctx, op, n)
	if err != nil {
		return nil, err
	}
	u := toUnified(&t)
	u.Tags = tags
	for i := range arts {
		u.Notes = append(u.Notes, noteToUnified(&arts[i]))
	}
	if len(u.Notes) > 0 {
		u.Body = u.Notes[0].Body
	}
	return &u, nil
}

func (c *Client) tags(ctx context.Context, op string, id int64) ([]string, error) {
	var res struct {
		Tags []string `json:"tags"`
	}
	err := c.get(ctx, op, "/tags", url.Values{"object": {"Ticket"}, "o_id": {strconv.FormatInt(id, 10)}}, &res)
	return res.Tags, err
}

// setEntity writes an entity as assoc_id (when the id is numeric) or by name.
func setEntity(body map[string]any, assoc string, e ticket.Entity) {
	if _, err := strconv.ParseInt(e.ID, 10, 64); err == nil {
		body[assoc+"_id"], _ = strconv.ParseInt(e.ID, 10, 64)
		return
	}
	body[assoc] = e.String()
}

// CreateTicket creates a ticket with its first article.
func (c *Client) CreateTicket(ctx context.Context, nt ticket.NewTicket) (*ticket.Ticket, error) {
	const op = "creating ticket"
	body := map[string]any{}
	for k, v := range nt.CustomFields {
		body[k] = v
	}
	body["title"] = nt.Subject
	for assoc, e := range map[string]ticket.Entity{"group": nt.Queue, "state": nt.State, "priority": nt.Priority, "owner": nt.Owner} {
		if !e.IsZero() {
			setEntity(body, assoc, e)
		}
	}
	switch {
	case nt.Customer.ID != "":
		setEntity(body, "customer", nt.Customer)
	case strings.Contains(nt.Customer.Name, "@"):
		body["customer_id"] = "guess:" + nt.Customer.Name
	case nt.Customer.Name != "":
		body["customer"] = nt.Customer.Name
	case c.defaultCustomer != "":
		body["customer_id"] = "guess:" + c.defaultCustomer
	}
	if !nt.Type.IsZero() {
		body["type"] = nt.Type.String()
	}
	if len(nt.Tags) > 0 {
		body["tags"] = strings.Join(nt.Tags, ",")
	}
	ct := nt.ContentType
	if ct == "" {
		ct = ticket.ContentTypePlain
	}
	body["article"] = map[string]any{"subject": nt.Subject, "body": nt.Body, "content_type": ct, "type": "note", "internal": false}
	var t Ticket
	if _, err := c.do(ctx, op, &httpx.Request{Method: http.MethodPost, Path: "/tickets", Query: url.Values{"expand": {"true"}},
		Body: body, Policy: httpx.RetryIfNotSent}, &t); err != nil {
		return nil, err
	}
	u := toUnified(&t)
	u.Body = nt.Body
	u.Tags = nt.Tags
	return &u, nil
}

// UpdateTicket sends one PUT for attributes, then adds and removes tags.
func (c *Client) UpdateTicket(ctx context.Context, id string, u ticket.Update) error {
	op := "updating ticket " + id
	n, err := checkID(op, id)
	if err != nil {
		return err
	}
	if u.IsEmpty() {
		return nil
	}
	body := map[string]any{}
	for k, v := range u.CustomFields {
		body[k] = v
	}
	if u.Subject != nil {
		body["title"] = *u.Subject
	}
	for assoc, e := range map[string]*ticket.Entity{"group": u.Queue, "state": u.State, "priority": u.Priority, "owner": u.Owner} {
		if e != nil {
			setEntity(body, assoc, *e)
		}
	}
	if u.Type != nil {
		body["type"] = u.Type.String()
	}
	if len(body) > 0 {
		if _, err := c.do(ctx, op, &httpx.Request{Method: http.MethodPut, Path: fmt.Sprintf("/tickets/%d", n), Body: body}, nil); err != nil {
			return err
		}
	}
	for _, tag := range u.AddTags {
		if _, err := c.do(ctx, op, &httpx.Request{Method: http.MethodPost, Path: "/tags/add", Policy: httpx.Idempotent,
			Body: map[string]any{"item": tag, "object": "Ticket", "o_id": n}}, nil); err != nil {
			return err
		}
	}
	for _, tag := range u.RemoveTags {
		if _, err := c.do(ctx, op, &httpx.Request{Method: http.MethodDelete, Path: "/tags/remove", Policy: httpx.Idempotent,
			Body: map[string]any{"item": tag, "object": "Ticket", "o_id": n}}, nil); err != nil {
			return err
		}
	}
	return nil
}

// AddNote creates an internal note article (type note, sender Agent). It
// is public only when allow_public_notes is set and the note is not
// internal. After an ambiguous failure it is re-sent only when the
// ticket's articles show it is absent.
func (c *Client) AddNote(ctx context.Context, id string, n ticket.Note) (*ticket.Note, error) {
	op := "adding note to ticket " + id
	tid, err := checkID(op, id)
	if err != nil {
		return nil, err
	}
	if err := n.Validate(op); err != nil {
		return nil, err
	}
	ct := n.ContentType
	if ct == "" {
		ct = ticket.ContentTypePlain
	}
	subj := n.Subject
	if subj == "" {
		subj = c.noteSubject
	}
	body := articleCreate{TicketID: tid, Subject: subj, Body: n.Body, ContentType: ct, Type: "note",
		Internal: n.Internal || !c.allowPublic, Sender: "Agent"}
	want := normText(n.Body)
	var a Article
	_, err = c.do(ctx, op, &httpx.Request{Method: http.MethodPost, Path: "/ticket_articles", Body: body, Policy: httpx.RetryIfNotSent,
		EffectAbsent: func(ctx context.Context) (bool, error) {
			arts, err := c.articles(ctx, op, tid)
			if err != nil {
				return false, err
			}
			for i := range arts {
				if normText(arts[i].Body) == want {
					return false, nil
				}
			}
			return true, nil
		}}, &a)
	if err != nil {
		return nil, err
	}
	out := noteToUnified(&a)
	return &out, nil
}
