package otobo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/otai-dev/otai/ticket"
)

// Query is a TicketSearch with the filters otai uses. Zero fields do not
// filter. Results are ticket ids, ordered by SortBy/OrderBy.
type Query struct {
	TicketNumber      string
	Title             string // GI pattern: * is a wildcard, case-insensitive
	Queues            []string
	QueueIDs          []string
	UseSubQueues      bool
	States            []string
	StateIDs          []string
	StateType         []string // "Open", "Closed" or state type names ("new", "pending reminder")
	Priorities        []string
	PriorityIDs       []string
	Types             []string
	TypeIDs           []string
	OwnerIDs          []string
	CustomerUserLogin string
	CreatedAfter      time.Time // TicketCreateTimeNewerDate
	CreatedBefore     time.Time // TicketCreateTimeOlderDate
	ChangedAfter      time.Time // TicketLastChangeTimeNewerDate
	ChangedBefore     time.Time // TicketLastChangeTimeOlderDate
	// DynamicFields need a search route that takes a JSON body (POST):
	// route_preset znuny7, open-ticket-ai, or a custom TicketSearch route.
	DynamicFields []DynamicFieldFilter
	SortBy        string // default Age (creation time)
	OrderBy       string // "Up" (default: oldest first) or "Down"
	Limit         int    // 0: the server's default (500)
}

// DynamicFieldFilter is one dynamic-field condition. Set one operator.
type DynamicFieldFilter struct {
	Name   string
	Equals []string
	Like   string // * is a wildcard
	Empty  *bool
}

func (q Query) data(loc *time.Location) map[string]any {
	d := map[string]any{}
	set := func(k string, v []string) {
		if len(v) > 0 {
			d[k] = slices.Clone(v)
		}
	}
	if q.TicketNumber != "" {
		d["TicketNumber"] = q.TicketNumber
	}
	if q.Title != "" {
		d["Title"] = q.Title
	}
	set("Queues", q.Queues)
	set("QueueIDs", q.QueueIDs)
	if q.UseSubQueues {
		d["UseSubQueues"] = 1
	}
	set("States", q.States)
	set("StateIDs", q.StateIDs)
	set("StateType", q.StateType)
	set("Priorities", q.Priorities)
	set("PriorityIDs", q.PriorityIDs)
	set("Types", q.Types)
	set("TypeIDs", q.TypeIDs)
	set("OwnerIDs", q.OwnerIDs)
	if q.CustomerUserLogin != "" {
		d["CustomerUserLogin"] = q.CustomerUserLogin
	}
	for k, t := range map[string]time.Time{
		"TicketCreateTimeNewerDate": q.CreatedAfter, "TicketCreateTimeOlderDate": q.CreatedBefore,
		"TicketLastChangeTimeNewerDate": q.ChangedAfter, "TicketLastChangeTimeOlderDate": q.ChangedBefore,
	} {
		if !t.IsZero() {
			d[k] = formatTime(t, loc)
		}
	}
	if len(q.DynamicFields) > 0 {
		var dfs []any
		for _, f := range q.DynamicFields {
			m := map[string]any{"Name": f.Name}
			if len(f.Equals) == 1 {
				m["Equals"] = f.Equals[0]
			} else if len(f.Equals) > 1 {
				m["Equals"] = slices.Clone(f.Equals)
			}
			if f.Like != "" {
				m["Like"] = f.Like
			}
			if f.Empty != nil {
				m["Empty"] = map[bool]int{true: 1, false: 0}[*f.Empty]
			}
			dfs = append(dfs, m)
		}
		d["DynamicField"] = dfs
	}
	d["SortBy"] = orDefault(q.SortBy, "Age")
	d["OrderBy"] = orDefault(q.OrderBy, "Up")
	if q.Limit > 0 {
		d["Limit"] = q.Limit
	}
	return d
}

// SearchTicketIDs runs TicketSearch and returns the matching ids.
func (c *Client) SearchTicketIDs(ctx context.Context, q Query) ([]string, error) {
	var r searchReply
	if err := c.Call(ctx, "searching tickets", OpTicketSearch, q.data(c.loc), &r); err != nil {
		return nil, err
	}
	return r.TicketID, nil
}

// queryFor maps unified criteria to a GI search. A state name "type:Open"
// filters on the state type (Open, Closed, new, pending reminder, ...).
// Owners given by name only are filtered after fetching (the GI searches
// owners by id).
func (c *Client) queryFor(sc ticket.SearchCriteria) (q Query, ownerName string) {
	if e := sc.Queue; e != nil {
		if e.ID != "" {
			q.QueueIDs = []string{e.ID}
		} else if e.Name != "" {
			q.Queues = []string{e.Name}
		}
	}
	if e := sc.State; e != nil {
		switch {
		case e.ID != "":
			q.StateIDs = []string{e.ID}
		case strings.HasPrefix(strings.ToLower(e.Name), "type:"):
			q.StateType = []string{strings.TrimSpace(e.Name[len("type:"):])}
		case e.Name != "":
			q.States = []string{e.Name}
		}
	}
	if e := sc.Priority; e != nil {
		if e.ID != "" {
			q.PriorityIDs = []string{e.ID}
		} else if e.Name != "" {
			q.Priorities = []string{e.Name}
		}
	}
	if e := sc.Owner; e != nil {
		if e.ID != "" {
			q.OwnerIDs = []string{e.ID}
		} else {
			ownerName = e.Name
		}
	}
	if sc.Subject != "" {
		q.Title = "*" + sc.Subject + "*"
	}
	q.ChangedAfter = sc.UpdatedSince
	// The GI compares whole seconds and both of its bounds are inclusive:
	// "since t" is NewerDate ceil(t), "before t" is OlderDate of the last
	// whole second before t.
	q.CreatedAfter = ceilSecond(sc.CreatedSince)
	q.CreatedBefore = lastSecondBefore(sc.CreatedBefore)
	q.ChangedBefore = lastSecondBefore(sc.UpdatedBefore)
	for _, name := range sc.SortedCustomFields() {
		q.DynamicFields = append(q.DynamicFields, DynamicFieldFilter{Name: name, Equals: []string{sc.CustomFields[name]}})
	}
	if sc.Limit > 0 && ownerName == "" {
		q.Limit = sc.Offset + sc.Limit
	}
	return q, ownerName
}

func ceilSecond(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	if f := t.Truncate(time.Second); !f.Equal(t) {
		return f.Add(time.Second)
	}
	return t
}

func lastSecondBefore(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Add(-time.Nanosecond).Truncate(time.Second)
}

// checkSearchable refuses criteria the configured search route cannot
// carry: dynamic-field filters need a JSON body, which a GET route never
// has (the GI ignores the body of a GET and silently drops
// DynamicField_X=value from a query string).
func (c *Client) checkSearchable(sc ticket.SearchCriteria) error {
	const op = "finding tickets"
	if err := sc.CheckCustomFields(op); err != nil {
		return err
	}
	if len(sc.CustomFields) == 0 || sc.ID != "" {
		return nil
	}
	rt, ok := c.routes[OpTicketSearch]
	if ok && (rt.Method == "GET" || rt.Method == "DELETE") {
		return &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "custom_fields",
			Message: fmt.Sprintf("the TicketSearch route %s cannot filter by dynamic fields (a GET request carries no JSON body); "+
				"use route_preset znuny7 (POST /Ticket/Search) or add a POST search route under routes, e.g. "+
				"{TicketSearch: 'POST /Ticket/Search'}, to the web service and the config", rt)}
	}
	return nil
}

// FindTickets searches, then fetches the matching tickets with their
// articles in batches (TicketGetList, or TicketGet with a comma-separated
// id list) with bounded concurrency. Body is the first article. Custom
// fields are dynamic fields (exact match), which only a POST search route
// can filter by; on a GET route they are refused with ErrValidation.
func (c *Client) FindTickets(ctx context.Context, sc ticket.SearchCriteria) ([]ticket.Ticket, error) {
	if err := c.checkSearchable(sc); err != nil {
		return nil, err
	}
	if sc.ID != "" {
		// One ticket by id; the other criteria still have to match.
		g, err := c.getTicket(ctx, "getting ticket "+sc.ID, sc.ID)
		if errors.Is(err, ticket.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		t := g.toTicket(c.loc)
		if !stateMatches(sc.State, t.State, g.StateType.String()) {
			return nil, nil
		}
		return page(filterTickets([]ticket.Ticket{t}, sc), sc.Offset, sc.Limit), nil
	}
	q, ownerName := c.queryFor(sc)
	ids, err := c.SearchTicketIDs(ctx, q)
	if err != nil {
		return nil, err
	}
	if ownerName == "" {
		ids = page(ids, sc.Offset, sc.Limit)
	}
	ts, err := c.GetTickets(ctx, ids)
	if err != nil {
		return nil, err
	}
	if ownerName != "" {
		ts = filterTickets(ts, sc)
		ts = page(ts, sc.Offset, sc.Limit)
	}
	return ts, nil
}

func page[T any](s []T, offset, limit int) []T {
	if offset > 0 {
		if offset >= len(s) {
			return nil
		}
		s = s[offset:]
	}
	if limit > 0 && len(s) > limit {
		s = s[:limit]
	}
	return s
}

// filterTickets applies sc on the client, where the GI did not: to a ticket
// fetched by id, and to search results when the owner is given by name. A
// state type ("type:Open") is not checked here (see stateMatches).
func filterTickets(ts []ticket.Ticket, sc ticket.SearchCriteria) []ticket.Ticket {
	entity := func(want *ticket.Entity, have ticket.Entity) bool {
		return want == nil || want.IsZero() || want.Matches(have)
	}
	out := ts[:0]
	for _, t := range ts {
		if !entity(sc.Queue, t.Queue) || !entity(sc.Owner, t.Owner) || !entity(sc.Priority, t.Priority) ||
			!stateMatches(sc.State, t.State, "") {
			continue
		}
		if sc.Subject != "" && !strings.Contains(strings.ToLower(t.Subject), strings.ToLower(sc.Subject)) {
			continue
		}
		if !inWindow(t.CreatedAt, sc.CreatedSince, sc.CreatedBefore) || !inWindow(t.UpdatedAt, sc.UpdatedSince, sc.UpdatedBefore) {
			continue
		}
		if !customFieldsMatch(t.CustomFields, sc.CustomFields) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// stateMatches reports whether a ticket's state satisfies want: by id or
// name, or by state type for "type:X" (Open: new, open and pending states;
// Closed: closed, removed and merged, as TicketSearch's StateType). An
// unknown stateType ("") accepts any type.
func stateMatches(want *ticket.Entity, have ticket.Entity, stateType string) bool {
	if want == nil || want.IsZero() {
		return true
	}
	if want.ID == "" {
		if typ, ok := strings.CutPrefix(strings.ToLower(want.Name), "type:"); ok {
			typ = strings.TrimSpace(typ)
			st := strings.ToLower(stateType)
			switch {
			case st == "":
				return true
			case typ == "open":
				return st == "new" || st == "open" || strings.HasPrefix(st, "pending")
			case typ == "closed":
				return st == "closed" || st == "removed" || st == "merged"
			}
			return typ == st
		}
	}
	return want.Matches(have)
}

func inWindow(at, since, before time.Time) bool {
	return (since.IsZero() || !at.Before(since)) && (before.IsZero() || at.Before(before))
}

// customFieldsMatch checks dynamic-field values on the client: a value, or
// one element of a multiselect, equals the wanted one.
func customFieldsMatch(have map[string]any, want map[string]string) bool {
	for k, w := range want {
		switch v := have[k].(type) {
		case string:
			if v != w {
				return false
			}
		case []string:
			if !slices.Contains(v, w) {
				return false
			}
		case []any:
			if !slices.ContainsFunc(v, func(e any) bool { return scalar(e) == w }) {
				return false
			}
		default:
			if v == nil || scalar(v) != w {
				return false
			}
		}
	}
	return true
}

// FindFirstTicket returns the oldest matching ticket, or ErrNotFound.
func (c *Client) FindFirstTicket(ctx context.Context, sc ticket.SearchCriteria) (*ticket.Ticket, error) {
	return ticket.FindFirst(ctx, c, sc)
}

// GetTickets fetches tickets by id with their articles, in the order of ids.
// Tickets that vanished (or became unreadable) between search and get are
// left out.
func (c *Client) GetTickets(ctx context.Context, ids []string) ([]ticket.Ticket, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var batches [][]string
	for s := slices.Clone(ids); len(s) > 0; {
		n := min(c.p.BatchSize, len(s))
		batches = append(batches, s[:n])
		s = s[n:]
	}
	results := make([][]ticket.Ticket, len(batches))
	errs := make([]error, len(batches))
	sem := make(chan struct{}, c.p.Concurrency)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i, b := range batches {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			errs[i] = ctx.Err()
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i], errs[i] = c.getBatch(ctx, b)
			if errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	byID := make(map[string]ticket.Ticket, len(ids))
	for _, r := range results {
		for _, t := range r {
			byID[t.ID] = t
		}
	}
	out := make([]ticket.Ticket, 0, len(ids))
	for _, id := range ids {
		if t, ok := byID[id]; ok {
			out = append(out, t)
		}
	}
	return out, nil
}

func (c *Client) getData(ids []string) map[string]any {
	d := map[string]any{
		"TicketID":      strings.Join(ids, ","),
		"AllArticles":   1,
		"DynamicFields": 1,
		"ArticleOrder":  "ASC",
	}
	if c.p.ArticleLimit > 0 {
		d["ArticleLimit"] = c.p.ArticleLimit
	}
	return d
}

// getBatch fetches one batch. The GI refuses a whole list if one ticket is
// not accessible; then each ticket is fetched alone and the missing ones
// are skipped.
func (c *Client) getBatch(ctx context.Context, ids []string) ([]ticket.Ticket, error) {
	op := OpTicketGet
	if _, ok := c.routes[OpTicketGetList]; ok && len(ids) > 1 {
		op = OpTicketGetList
	}
	what := "getting tickets " + strings.Join(ids, ",")
	if len(ids) == 1 {
		what = "getting ticket " + ids[0]
	}
	var r ticketGetReply
	err := c.Call(ctx, what, op, c.getData(ids), &r)
	if err != nil && noAccessToTicket(err) && len(ids) > 1 {
		var out []ticket.Ticket
		for _, id := range ids {
			t, err := c.GetTicket(ctx, id)
			if errors.Is(err, ticket.ErrNotFound) {
				c.log.WarnContext(ctx, "ticket vanished between search and get", "ticket_id", id)
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, *t)
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]ticket.Ticket, 0, len(r.Ticket))
	for i := range r.Ticket {
		out = append(out, r.Ticket[i].toTicket(c.loc))
	}
	return out, nil
}

// validID reports whether id looks like a GI TicketID (digits only). Anything
// else could address several tickets ("1,2") or another route.
func validID(id string) bool {
	if id == "" || len(id) > 20 {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func notFound(op, id string, cause error) error {
	e := &ticket.Error{Op: op, Kind: ticket.ErrNotFound, Message: "no ticket with id " + id}
	var te *ticket.Error
	if errors.As(cause, &te) {
		e.Status, e.Code, e.Message = te.Status, te.Code, te.Message+" (the GI says this for a missing ticket and for one the agent may not read)"
	}
	return e
}

// GetTicket returns one ticket with all its articles as notes. A missing
// ticket is ErrNotFound although the GI answers TicketGet.AccessDenied.
func (c *Client) GetTicket(ctx context.Context, id string) (*ticket.Ticket, error) {
	op := "getting ticket " + id
	if !validID(id) {
		return nil, notFound(op, id, nil)
	}
	g, err := c.getTicket(ctx, op, id)
	if err != nil {
		return nil, err
	}
	t := g.toTicket(c.loc)
	return &t, nil
}

// getTicket runs TicketGet for one valid id and returns the GI's ticket.
func (c *Client) getTicket(ctx context.Context, op, id string) (*giTicket, error) {
	if !validID(id) {
		return nil, notFound(op, id, nil)
	}
	var r ticketGetReply
	err := c.Call(ctx, op, OpTicketGet, c.getData([]string{id}), &r)
	if noAccessToTicket(err) {
		return nil, notFound(op, id, err)
	}
	if err != nil {
		return nil, err
	}
	for i := range r.Ticket {
		if r.Ticket[i].TicketID.String() == id {
			return &r.Ticket[i], nil
		}
	}
	return nil, notFound(op, id, nil)
}

func setEntity(m map[string]any, key string, e ticket.Entity) {
	if e.ID != "" {
		m[key+"ID"] = e.ID
	} else if e.Name != "" {
		m[key] = e.Name
	}
}

func dynamicFields(cf map[string]any) ([]any, error) {
	if len(cf) == 0 {
		return nil, nil
	}
	names := make([]string, 0, len(cf))
	for k := range cf {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make([]any, 0, len(names))
	for _, n := range names {
		v, err := dfWireValue(cf[n])
		if err != nil {
			return nil, &ticket.Error{Kind: ticket.ErrValidation, Field: n, Message: err.Error()}
		}
		out = append(out, map[string]any{"Name": n, "Value": v})
	}
	return out, nil
}

// dfWireValue converts a value to what the GI accepts: a string, or an array
// of strings for multiselect fields. null clears (""), booleans are "1"/"0".
func dfWireValue(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case []string:
		return x, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if !isScalar(e) {
				return nil, fmt.Errorf("a dynamic field value must be a string or a list of strings")
			}
			out = append(out, scalar(e))
		}
		return out, nil
	case time.Time:
		return x.UTC().Format(giTimeLayout), nil
	case map[string]any:
		return nil, fmt.Errorf("a dynamic field value must be a string or a list of strings")
	}
	if isScalar(v) {
		return scalar(v), nil
	}
	return fmt.Sprint(v), nil
}

func contentType(ct string) string {
	switch strings.ToLower(strings.TrimSpace(ct)) {
	case ticket.ContentTypeHTML:
		return "text/html; charset=utf8"
	default:
		return "text/plain; charset=utf8"
	}
}

// CreateTicket creates a ticket with its first article and returns it as the
// help desk stored it.
func (c *Client) CreateTicket(ctx context.Context, nt ticket.NewTicket) (*ticket.Ticket, error) {
	const op = "creating ticket"
	d := c.p.CreateDefaults
	tk := map[string]any{"Title": nt.Subject}
	setEntity(tk, "Queue", nt.Queue)
	if nt.State.IsZero() {
		nt.State.Name = d.State
	}
	if nt.Priority.IsZero() {
		nt.Priority.Name = d.Priority
	}
	setEntity(tk, "State", nt.State)
	setEntity(tk, "Priority", nt.Priority)
	setEntity(tk, "Type", nt.Type)
	setEntity(tk, "Owner", nt.Owner)
	cust := orDefault(nt.Customer.ID, orDefault(nt.Customer.Name, d.CustomerUser))
	if cust != "" {
		tk["CustomerUser"] = cust
	}
	if len(nt.Tags) > 0 {
		return nil, &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "tags", Message: "OTOBO/Znuny tickets have no tags; use custom_fields (dynamic fields)"}
	}
	art := map[string]any{
		"CommunicationChannel": d.Channel,
		"SenderType":           "customer",
		"IsVisibleForCustomer": 1,
		"Subject":              nt.Subject,
		"Body":                 nt.Body,
		"ContentType":          contentType(nt.ContentType),
	}
	if d.Channel == "Internal" {
		art["SenderType"] = "agent"
	}
	data := map[string]any{"Ticket": tk, "Article": art}
	dfs, err := dynamicFields(nt.CustomFields)
	if err != nil {
		return nil, withOp(err, op)
	}
	if dfs != nil {
		data["DynamicField"] = dfs
	}
	var r writeReply
	if err := c.Call(ctx, op, OpTicketCreate, data, &r); err != nil {
		return nil, err
	}
	id := r.TicketID.String()
	if id == "" {
		return nil, &ticket.Error{Op: op, Kind: ticket.ErrUnavailable, Message: "TicketCreate returned no TicketID"}
	}
	t, err := c.GetTicket(ctx, id)
	if err != nil {
		// Created, but not readable back (no ro on the queue, say): return
		// what we know rather than an error that invites a duplicate.
		c.log.WarnContext(ctx, "created ticket could not be read back", "ticket_id", id, "error", err)
		return &ticket.Ticket{ID: id, Number: r.TicketNumber.String(), Subject: nt.Subject, Body: nt.Body,
			Queue: nt.Queue, Priority: nt.Priority, State: nt.State, Type: nt.Type, Owner: nt.Owner, Customer: nt.Customer}, nil
	}
	return t, nil
}

// UpdateTicket applies u with one TicketUpdate. Tags do not exist in the GI.
func (c *Client) UpdateTicket(ctx context.Context, id string, u ticket.Update) error {
	op := "updating ticket " + id
	if !validID(id) {
		return notFound(op, id, nil)
	}
	if len(u.AddTags) > 0 || len(u.RemoveTags) > 0 {
		return &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "tags", Message: "OTOBO/Znuny tickets have no tags; use custom_fields (dynamic fields)"}
	}
	tk := map[string]any{}
	if u.Subject != nil {
		tk["Title"] = *u.Subject
	}
	for key, e := range map[string]*ticket.Entity{"Queue": u.Queue, "Priority": u.Priority, "State": u.State, "Type": u.Type, "Owner": u.Owner} {
		if e != nil {
			if e.IsZero() {
				return &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: strings.ToLower(key), Message: "needs an id or a name"}
			}
			setEntity(tk, key, *e)
		}
	}
	data := map[string]any{"TicketID": id}
	if len(tk) > 0 {
		data["Ticket"] = tk
	}
	dfs, err := dynamicFields(u.CustomFields)
	if err != nil {
		return withOp(err, op)
	}
	if dfs != nil {
		data["DynamicField"] = dfs
	}
	if len(data) == 1 {
		return nil
	}
	err = c.Call(ctx, op, OpTicketUpdate, data, nil)
	if noAccessToTicket(err) {
		return notFound(op, id, err)
	}
	return err
}

// AddNote adds an article. Notes are internal (channel Internal, not visible
// for the customer) unless allow_public_notes is on and the note says
// internal: false.
func (c *Client) AddNote(ctx context.Context, id string, n ticket.Note) (*ticket.Note, error) {
	op := "adding note to ticket " + id
	if !validID(id) {
		return nil, notFound(op, id, nil)
	}
	if err := n.Validate(op); err != nil {
		return nil, err
	}
	internal := n.Internal || !c.p.AllowPublicNotes
	visible := 0
	if !internal {
		visible = 1
	}
	subject := orDefault(strings.TrimSpace(n.Subject), c.p.NoteSubject)
	art := map[string]any{
		"CommunicationChannel": "Internal",
		"SenderType":           "agent",
		"IsVisibleForCustomer": visible,
		"Subject":              subject,
		"Body":                 n.Body,
		"ContentType":          contentType(n.ContentType),
		"HistoryType":          "AddNote",
		"HistoryComment":       "otai",
	}
	var r writeReply
	err := c.Call(ctx, op, OpTicketUpdate, map[string]any{"TicketID": id, "Article": art}, &r)
	if noAccessToTicket(err) {
		return nil, notFound(op, id, err)
	}
	if err != nil {
		return nil, err
	}
	out := n
	if len(r.ArticleID) > 0 {
		out.ID = r.ArticleID[0]
	}
	out.Subject, out.Internal = subject, internal
	if out.ContentType == "" {
		out.ContentType = ticket.ContentTypePlain
	}
	if out.Author == "" {
		out.Author = c.p.Username
	}
	if out.CreatedAt.IsZero() {
		out.CreatedAt = time.Now().UTC().Truncate(time.Second)
	}
	return &out, nil
}
