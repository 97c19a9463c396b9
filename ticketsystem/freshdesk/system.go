package freshdesk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/ticket"
)

const (
	listPageSize   = 100 // GET /tickets per_page maximum
	searchPageSize = 30  // GET /search/tickets, fixed
	maxQueryLen    = 512 // characters of the search expression
)

// FindTickets maps c to the search query language when it filters by
// queue, state, priority or owner and the wanted window fits the 300 results search
// can reach, and always when it filters by creation time, updated_before or
// custom fields (the list endpoint knows only updated_since); otherwise it
// walks the list endpoint (oldest first, 100 per page, following Link
// rel=next) and filters on the client. The search language compares dates
// by day and strings case-insensitively, so Subject, the exact times and
// the exact custom-field values are always checked on the client.
func (c *Client) FindTickets(ctx context.Context, cr ticket.SearchCriteria) ([]ticket.Ticket, error) {
	const op = "finding tickets"
	if err := checkCustomFields(op, cr); err != nil {
		return nil, err
	}
	f, err := c.resolveFilter(ctx, op, cr)
	if err != nil {
		return nil, err
	}
	if cr.ID != "" {
		t, err := c.getTicket(ctx, op, cr.ID, false)
		if errors.Is(err, ticket.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if !matches(t, cr, &f) || cr.Offset > 0 {
			return nil, nil
		}
		return []ticket.Ticket{toUnified(t, c.groupNamesOrNil(ctx))}, nil
	}
	var raw []Ticket
	if c.useSearch(cr, f) {
		raw, err = c.search(ctx, op, cr, f)
		var tooMany *searchTruncated
		if errors.As(err, &tooMany) {
			// Search returns the newest 300 hits only, and otai works
			// oldest first: the list endpoint reaches every ticket and
			// checks every criterion on the client, so it answers exactly.
			c.log.LogAttrs(ctx, slog.LevelInfo, "freshdesk: more search hits than search can page through; reading the ticket list instead",
				slog.Int("hits", tooMany.total), slog.Int("reachable", tooMany.reachable))
			raw, err = c.list(ctx, op, cr, f)
		}
	} else {
		raw, err = c.list(ctx, op, cr, f)
	}
	if err != nil {
		return nil, err
	}
	groups := c.groupNamesOrNil(ctx)
	out := make([]ticket.Ticket, 0, len(raw))
	for i := range raw {
		out = append(out, toUnified(&raw[i], groups))
	}
	return out, nil
}

// filter is SearchCriteria resolved to Freshdesk ids.
type filter struct {
	group, agent     *int64
	status, priority *int
}

func (c *Client) resolveFilter(ctx context.Context, op string, cr ticket.SearchCriteria) (filter, error) {
	var f filter
	if cr.Queue != nil && !cr.Queue.IsZero() {
		id, err := c.resolveGroup(ctx, op, *cr.Queue)
		if err != nil {
			return f, err
		}
		f.group = &id
	}
	if cr.State != nil && !cr.State.IsZero() {
		s, ok := lookupStatus(*cr.State)
		if !ok {
			return f, &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "status",
				Message: fmt.Sprintf("unknown status %q (Open, Pending, Resolved, Closed or a custom status id)", cr.State.String())}
		}
		f.status = &s
	}
	if cr.Priority != nil && !cr.Priority.IsZero() {
		p, ok := lookupPriority(*cr.Priority)
		if !ok {
			return f, &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "priority",
				Message: fmt.Sprintf("unknown priority %q (Low, Medium, High, Urgent or 1-4)", cr.Priority.String())}
		}
		f.priority = &p
	}
	if cr.Owner != nil && !cr.Owner.IsZero() {
		id, err := c.resolveAgent(ctx, op, *cr.Owner)
		if err != nil {
			return f, err
		}
		f.agent = &id
	}
	return f, nil
}

// cfName is a custom field's API name as the search language takes it.
var cfName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// checkCustomFields refuses custom-field filters the search language cannot
// express: names other than API names (cf_...), and values holding a quote
// or backslash (the language has no escapes).
func checkCustomFields(op string, cr ticket.SearchCriteria) error {
	if err := cr.CheckCustomFields(op); err != nil {
		return err
	}
	for _, k := range cr.SortedCustomFields() {
		if !cfName.MatchString(k) {
			return &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "custom_fields." + k,
				Message: "not a Freshdesk custom field API name (letters, digits and _, usually starting with cf_; see GET /api/v2/ticket_fields)"}
		}
		if strings.ContainsAny(cr.CustomFields[k], `'"\`) {
			return &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "custom_fields." + k,
				Message: "the Freshdesk search language cannot express a value with quotes or backslashes"}
		}
	}
	return nil
}

// needsSearch reports criteria the list endpoint cannot filter by.
func needsSearch(cr ticket.SearchCriteria) bool {
	return !cr.CreatedSince.IsZero() || !cr.CreatedBefore.IsZero() || !cr.UpdatedBefore.IsZero() || len(cr.CustomFields) > 0
}

// useSearch: server-side filtering pays off when there is a filter (queue,
// state, priority, owner) and the window (offset+limit) fits in the 10
// pages of 30 that search reaches. The filters the list endpoint lacks
// always go to search (unless find_via is list, which reads every ticket
// and filters on the client).
func (c *Client) useSearch(cr ticket.SearchCriteria, f filter) bool {
	switch {
	case c.findVia == "list":
		return false
	case needsSearch(cr):
		return true
	case f.group == nil && f.status == nil && f.priority == nil && f.agent == nil:
		return false
	case c.findVia == "search":
		return true
	}
	return cr.Limit > 0 && cr.Offset+cr.Limit <= c.searchPages*searchPageSize
}

// matches applies the criteria on the client.
func matches(t *Ticket, cr ticket.SearchCriteria, f *filter) bool {
	if t.Spam {
		return false
	}
	if cr.Subject != "" && !strings.Contains(strings.ToLower(t.Subject), strings.ToLower(cr.Subject)) {
		return false
	}
	if !cr.UpdatedSince.IsZero() && t.UpdatedAt.Before(cr.UpdatedSince) {
		return false
	}
	if !cr.UpdatedBefore.IsZero() && !t.UpdatedAt.Before(cr.UpdatedBefore) {
		return false
	}
	if !cr.CreatedSince.IsZero() && t.CreatedAt.Before(cr.CreatedSince) {
		return false
	}
	if !cr.CreatedBefore.IsZero() && !t.CreatedAt.Before(cr.CreatedBefore) {
		return false
	}
	for k, want := range cr.CustomFields {
		if v, ok := t.CustomFields[k]; !ok || v == nil || fmt.Sprint(v) != want {
			return false
		}
	}
	if f != nil {
		if f.group != nil && (t.GroupID == nil || *t.GroupID != *f.group) {
			return false
		}
		if f.status != nil && t.Status != *f.status {
			return false
		}
		if f.priority != nil && t.Priority != *f.priority {
			return false
		}
		if f.agent != nil && (t.ResponderID == nil || *t.ResponderID != *f.agent) {
			return false
		}
	}
	return true
}

// list walks GET /tickets oldest first.
func (c *Client) list(ctx context.Context, op string, cr ticket.SearchCriteria, f filter) ([]Ticket, error) {
	q := url.Values{
		"include":    {"description"},
		"order_by":   {"created_at"},
		"order_type": {"asc"},
		"per_page":   {strconv.Itoa(listPageSize)},
	}
	if !cr.UpdatedSince.IsZero() {
		q.Set("updated_since", cr.UpdatedSince.UTC().Format(time.RFC3339))
	}
	var out []Ticket
	skip := max(cr.Offset, 0)
	next := "/tickets"
	var pg pager
	for next != "" {
		var page []Ticket
		resp, err := c.get(ctx, op, next, q, &page)
		if err != nil {
			return nil, err
		}
		if next, err = pg.next(op, resp.Header, len(page)); err != nil {
			return nil, err
		}
		for i := range page {
			if !matches(&page[i], cr, &f) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			out = append(out, page[i])
			if cr.Limit > 0 && len(out) >= cr.Limit {
				return out, nil
			}
		}
		q = nil // the next link carries the query
	}
	return out, nil
}

// searchQuery builds the expression of /search/tickets.
func searchQuery(cr ticket.SearchCriteria, f filter) (string, error) {
	var terms []string
	if f.group != nil {
		terms = append(terms, "group_id:"+strconv.FormatInt(*f.group, 10))
	}
	if f.status != nil {
		terms = append(terms, "status:"+strconv.Itoa(*f.status))
	}
	if f.priority != nil {
		terms = append(terms, "priority:"+strconv.Itoa(*f.priority))
	}
	if f.agent != nil {
		terms = append(terms, "agent_id:"+strconv.FormatInt(*f.agent, 10))
	}
	// Dates only, and both bounds include their day: the exact time is
	// checked on the client. "Before t" asks for the day of the last
	// instant before t.
	day := func(t time.Time) string { return quote(t.UTC().Format("2006-01-02")) }
	if !cr.UpdatedSince.IsZero() {
		terms = append(terms, "updated_at:>"+day(cr.UpdatedSince))
	}
	if !cr.UpdatedBefore.IsZero() {
		terms = append(terms, "updated_at:<"+day(cr.UpdatedBefore.Add(-time.Nanosecond)))
	}
	if !cr.CreatedSince.IsZero() {
		terms = append(terms, "created_at:>"+day(cr.CreatedSince))
	}
	if !cr.CreatedBefore.IsZero() {
		terms = append(terms, "created_at:<"+day(cr.CreatedBefore.Add(-time.Nanosecond)))
	}
	for _, k := range cr.SortedCustomFields() {
		terms = append(terms, k+":"+quote(cr.CustomFields[k]))
	}
	q := `"` + strings.Join(terms, " AND ") + `"`
	if len(q) > maxQueryLen {
		return "", fmt.Errorf("search query is %d characters, Freshdesk allows %d: filter by fewer or shorter custom fields", len(q), maxQueryLen)
	}
	return q, nil
}

// quote writes a string value of the query language: single quotes inside
// the double-quoted expression. Values holding either quote cannot be
// expressed and are dropped to an empty match by the caller.
func quote(s string) string {
	s = strings.NewReplacer(`'`, "", `"`, "", `\`, "").Replace(s)
	return "'" + s + "'"
}

// searchTruncated: the search has more hits than its 10 pages of 30 reach.
type searchTruncated struct{ total, reachable int }

func (e *searchTruncated) Error() string {
	return fmt.Sprintf("the search has %d hits and reaches %d", e.total, e.reachable)
}

// search pages through /search/tickets (30 per page), sorts the hits
// oldest first and fetches the bodies the search API leaves out. When
// there are more hits than the pages reach (Freshdesk returns the newest
// first), it returns a *searchTruncated instead of a silently cut list.
func (c *Client) search(ctx context.Context, op string, cr ticket.SearchCriteria, f filter) ([]Ticket, error) {
	query, err := searchQuery(cr, f)
	if err != nil {
		return nil, &ticket.Error{Op: op, Kind: ticket.ErrValidation, Message: err.Error()}
	}
	var all []Ticket
	for page := 1; page <= c.searchPages; page++ {
		var res SearchResult
		if _, err := c.get(ctx, op, "/search/tickets", url.Values{"query": {query}, "page": {strconv.Itoa(page)}}, &res); err != nil {
			return nil, err
		}
		if reach := c.searchPages * searchPageSize; res.Total > reach {
			return nil, &searchTruncated{total: res.Total, reachable: reach}
		}
		all = append(all, res.Results...)
		if len(res.Results) < searchPageSize || len(all) >= res.Total {
			break
		}
	}
	sortOldestFirst(all)
	var out []Ticket
	skip := max(cr.Offset, 0)
	for i := range all {
		if !matches(&all[i], cr, &f) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		out = append(out, all[i])
		if cr.Limit > 0 && len(out) >= cr.Limit {
			break
		}
	}
	return out, c.fillDescriptions(ctx, op, out)
}

// fillDescriptions GETs tickets whose description the search left out,
// four at a time.
func (c *Client) fillDescriptions(ctx context.Context, op string, ts []Ticket) error {
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for i := range ts {
		if ts[i].DescriptionText != "" || ts[i].Description != "" {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(t *Ticket) {
			defer wg.Done()
			defer func() { <-sem }()
			full, err := c.getTicket(ctx, op, strconv.FormatInt(t.ID, 10), false)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil && !errors.Is(err, ticket.ErrNotFound) {
					first = err
				}
				return
			}
			t.Description, t.DescriptionText = full.Description, full.DescriptionText
		}(&ts[i])
	}
	wg.Wait()
	return first
}

// FindFirstTicket returns the oldest matching ticket.
func (c *Client) FindFirstTicket(ctx context.Context, cr ticket.SearchCriteria) (*ticket.Ticket, error) {
	return ticket.FindFirst(ctx, c, cr)
}

// GetTicket returns a ticket with all its conversations.
func (c *Client) GetTicket(ctx context.Context, id string) (*ticket.Ticket, error) {
	op := "getting ticket " + id
	t, err := c.getTicket(ctx, op, id, true)
	if err != nil {
		return nil, err
	}
	u := toUnified(t, c.groupNamesOrNil(ctx))
	return &u, nil
}

func checkID(op, id string) (int64, error) { return ticket.NumericID(op, id, "Freshdesk") }

func (c *Client) getTicket(ctx context.Context, op, id string, withNotes bool) (*Ticket, error) {
	n, err := checkID(op, id)
	if err != nil {
		return nil, err
	}
	var t Ticket
	if _, err := c.get(ctx, op, fmt.Sprintf("/tickets/%d", n), nil, &t); err != nil {
		return nil, err
	}
	if withNotes {
		convs, err := c.conversations(ctx, op, n)
		if err != nil {
			return nil, err
		}
		t.Conversations = convs
	}
	return &t, nil
}

// conversations lists all of a ticket's notes and replies.
func (c *Client) conversations(ctx context.Context, op string, id int64) ([]Conversation, error) {
	var out []Conversation
	next := fmt.Sprintf("/tickets/%d/conversations", id)
	q := url.Values{"per_page": {"100"}}
	var pg pager
	for next != "" {
		var page []Conversation
		resp, err := c.get(ctx, op, next, q, &page)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next, err = pg.next(op, resp.Header, len(page)); err != nil {
			return nil, err
		}
		q = nil
	}
	return out, nil
}

// maxPages bounds one listing: 10,000 pages of 100 is a million tickets.
const maxPages = 10000

// pager follows Link rel="next" headers and stops a server that loops.
type pager struct {
	seen  map[string]bool
	pages int
}

// next returns the link of the next page, "" when the listing is done (no
// link, or an empty page), or an error when the server sends a link it sent
// before or more than maxPages pages.
func (p *pager) next(op string, h http.Header, n int) (string, error) {
	link := nextLink(h)
	if link == "" || n == 0 {
		return "", nil
	}
	p.pages++
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	if p.seen[link] || p.pages >= maxPages {
		return "", &ticket.Error{Op: op, Kind: ticket.ErrUnavailable,
			Message: fmt.Sprintf("the server's pagination does not end (page %d links to a page already read, or too many pages)", p.pages)}
	}
	p.seen[link] = true
	return link, nil
}

// CreateTicket creates a ticket. The requester is the customer (an e-mail,
// or a contact id), else default_requester_email.
func (c *Client) CreateTicket(ctx context.Context, nt ticket.NewTicket) (*ticket.Ticket, error) {
	const op = "creating ticket"
	body := ticketCreate{Subject: nt.Subject, Description: nt.Body, Status: 2, Priority: 1, Source: 2,
		Tags: nt.Tags, CustomFields: nt.CustomFields}
	if nt.ContentType != ticket.ContentTypeHTML {
		body.Description = textToHTML(nt.Body)
	}
	switch {
	case nt.Customer.ID != "":
		id, err := strconv.ParseInt(nt.Customer.ID, 10, 64)
		if err != nil {
			return nil, &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "requester_id", Message: "customer id must be a Freshdesk contact id"}
		}
		body.RequesterID = &id
	case strings.Contains(nt.Customer.Name, "@"):
		body.Email = nt.Customer.Name
	case c.defaultRequester != "":
		body.Email = c.defaultRequester
	default:
		return nil, &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "email",
			Message: "Freshdesk needs a requester: set customer (an e-mail) or default_requester_email"}
	}
	if !nt.State.IsZero() {
		s, ok := lookupStatus(nt.State)
		if !ok {
			return nil, &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "status", Message: fmt.Sprintf("unknown status %q", nt.State.String())}
		}
		body.Status = s
	}
	if !nt.Priority.IsZero() {
		p, ok := lookupPriority(nt.Priority)
		if !ok {
			return nil, &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "priority", Message: fmt.Sprintf("unknown priority %q (Low, Medium, High, Urgent or 1-4)", nt.Priority.String())}
		}
		body.Priority = p
	}
	if !nt.Queue.IsZero() {
		g, err := c.resolveGroup(ctx, op, nt.Queue)
		if err != nil {
			return nil, err
		}
		body.GroupID = &g
	}
	if !nt.Type.IsZero() {
		t := nt.Type.String()
		body.Type = &t
	}
	if !nt.Owner.IsZero() {
		a, err := c.resolveAgent(ctx, op, nt.Owner)
		if err != nil {
			return nil, err
		}
		body.ResponderID = &a
	}
	var created Ticket
	if _, err := c.http.JSON(ctx, http.MethodPost, "/tickets", nil, body, &created, httpx.RetryIfNotSent); err != nil {
		return nil, mapError(op, err)
	}
	u := toUnified(&created, c.groupNamesOrNil(ctx))
	return &u, nil
}

// UpdateTicket sends one PUT with the changed fields. Tag changes read the
// current tags first, since tags in a PUT replace the list.
func (c *Client) UpdateTicket(ctx context.Context, id string, u ticket.Update) error {
	op := "updating ticket " + id
	n, err := checkID(op, id)
	if err != nil {
		return err
	}
	if u.IsEmpty() {
		return nil
	}
	var body ticketUpdate
	body.Subject = u.Subject
	if u.Queue != nil {
		g, err := c.resolveGroup(ctx, op, *u.Queue)
		if err != nil {
			return err
		}
		body.GroupID = &g
	}
	if u.Priority != nil {
		p, ok := lookupPriority(*u.Priority)
		if !ok {
			return &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "priority", Message: fmt.Sprintf("unknown priority %q (Low, Medium, High, Urgent or 1-4)", u.Priority.String())}
		}
		body.Priority = &p
	}
	if u.State != nil {
		s, ok := lookupStatus(*u.State)
		if !ok {
			return &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "status", Message: fmt.Sprintf("unknown status %q (Open, Pending, Resolved, Closed or a custom status id)", u.State.String())}
		}
		body.Status = &s
	}
	if u.Type != nil {
		t := u.Type.String()
		body.Type = &t
	}
	if u.Owner != nil {
		a, err := c.resolveAgent(ctx, op, *u.Owner)
		if err != nil {
			return err
		}
		body.ResponderID = &a
	}
	if len(u.CustomFields) > 0 {
		body.CustomFields = u.CustomFields
	}
	if len(u.AddTags) > 0 || len(u.RemoveTags) > 0 {
		cur, err := c.getTicket(ctx, op, id, false)
		if err != nil {
			return err
		}
		tags := mergeTags(cur.Tags, u.AddTags, u.RemoveTags)
		if !slices.Equal(tags, cur.Tags) {
			body.Tags = &tags
		}
	}
	if _, err := c.http.JSON(ctx, http.MethodPut, fmt.Sprintf("/tickets/%d", n), nil, body, nil, httpx.Idempotent); err != nil {
		return mapError(op, err)
	}
	return nil
}

func mergeTags(cur, add, remove []string) []string {
	out := make([]string, 0, len(cur)+len(add))
	for _, t := range cur {
		if !slices.ContainsFunc(remove, func(r string) bool { return strings.EqualFold(r, t) }) {
			out = append(out, t)
		}
	}
	for _, t := range add {
		if !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, t) }) {
			out = append(out, t)
		}
	}
	return out
}

// AddNote posts a note, private unless allow_public_notes is set and the
// note is not internal. It is retried after an ambiguous failure only when
// the ticket's conversations show the note is not there.
func (c *Client) AddNote(ctx context.Context, id string, n ticket.Note) (*ticket.Note, error) {
	op := "adding note to ticket " + id
	tid, err := checkID(op, id)
	if err != nil {
		return nil, err
	}
	if err := n.Validate(op); err != nil {
		return nil, err
	}
	body := n.Body
	if n.ContentType != ticket.ContentTypeHTML {
		body = textToHTML(n.Body)
	}
	if n.Subject != "" {
		body = "<p><b>" + textToHTML(n.Subject) + "</b></p>" + body
	}
	req := noteCreate{Body: body, Private: n.Internal || !c.allowPublic}
	want := normText(body)
	path := fmt.Sprintf("/tickets/%d/notes", tid)
	var created Conversation
	resp, err := c.http.Do(ctx, &httpx.Request{Method: http.MethodPost, Path: path, Body: req, Policy: httpx.RetryIfNotSent,
		EffectAbsent: func(ctx context.Context) (bool, error) {
			convs, err := c.conversations(ctx, op, tid)
			if err != nil {
				return false, err
			}
			for i := range convs {
				if normText(convs[i].Body) == want || normText(convs[i].BodyText) == want {
					return false, nil
				}
			}
			return true, nil
		}})
	if err != nil {
		return nil, mapError(op, err)
	}
	if err := jsonDecode(resp.Body, &created); err != nil {
		return nil, fmt.Errorf("%s: decoding response: %w", op, err)
	}
	out := noteToUnified(&created)
	return &out, nil
}
