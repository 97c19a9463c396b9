// Package zammadfake is an in-memory Zammad REST API (/api/v1) for tests,
// following the project's API notes: Token and Basic auth (no credentials
// 403 "Authentication required", a bad token 401 with X-Failure), the
// {error, error_human} error body, list and search with page/per_page caps
// of 100 and 200, expand=true giving an array of tickets with names, and
// both shapes of a search without expand (OldSearchShape switches to the
// {tickets, tickets_count, assets} shape of Zammad <= 6.4).
package zammadfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Ticket is a stored ticket.
type Ticket struct {
	ID, GroupID, PriorityID, StateID, OwnerID, CustomerID int64
	Number, Title                                         string
	Custom                                                map[string]any
	Tags                                                  []string
	CreatedAt, UpdatedAt                                  time.Time
}

// Article is a stored article.
type Article struct {
	ID, TicketID                             int64
	Subject, Body, ContentType, Type, Sender string
	Internal                                 bool
	CreatedAt                                time.Time
}

// Options configure the fake.
type Options struct {
	Token          string
	User, Password string
	OldSearchShape bool // search without expand answers {tickets, tickets_count, assets}
	Now            func() time.Time
}

// Server is the fake; URL() is the base_url to configure.
type Server struct {
	*httptest.Server
	o        Options
	mu       sync.Mutex
	tickets  map[int64]*Ticket
	articles []*Article
	next     int64
	nextArt  int64
	Groups   map[int64]string
	States   map[int64]string
	Prios    map[int64]string
	Users    map[int64]string // id -> login
	requests map[string]int
	hooks    []Hook
}

// New starts a fake with Zammad's default reference data plus groups
// Billing (2) and IT (3).
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{o: o, tickets: map[int64]*Ticket{}, next: 1, nextArt: 1,
		Groups:   map[int64]string{1: "Users", 2: "Billing", 3: "IT"},
		States:   map[int64]string{1: "new", 2: "open", 3: "pending reminder", 4: "closed"},
		Prios:    map[int64]string{1: "1 low", 2: "2 normal", 3: "3 high"},
		Users:    map[int64]string{1: "-", 3: "otai@example.com", 7: "customer@example.com"},
		requests: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the base URL (without /api/v1, as users configure it).
func (s *Server) URL() string { return s.Server.URL }

// AddTicket stores t with a first article body and returns its id.
func (s *Server) AddTicket(t Ticket, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.ID = s.next
	s.next++
	if t.Number == "" {
		t.Number = strconv.FormatInt(31000+t.ID, 10)
	}
	for _, d := range []struct {
		p *int64
		v int64
	}{{&t.GroupID, 1}, {&t.PriorityID, 2}, {&t.StateID, 1}, {&t.OwnerID, 1}, {&t.CustomerID, 7}} {
		if *d.p == 0 {
			*d.p = d.v
		}
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.o.Now().UTC()
	}
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = t.CreatedAt
	}
	s.tickets[t.ID] = &t
	s.articles = append(s.articles, &Article{ID: s.nextArt, TicketID: t.ID, Subject: t.Title, Body: body, ContentType: "text/plain",
		Type: "email", Sender: "Customer", CreatedAt: t.CreatedAt})
	s.nextArt++
	return t.ID
}

// Ticket returns a copy of a ticket and its articles.
func (s *Server) Ticket(id int64) (Ticket, []Article) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := *s.tickets[id]
	t.Tags = slices.Clone(t.Tags)
	var arts []Article
	for _, a := range s.articles {
		if a.TicketID == id {
			arts = append(arts, *a)
		}
	}
	return t, arts
}

// Requests counts requests by "METHOD /path-with-{id}".
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.requests {
		out[k] = v
	}
	return out
}

type zerr struct {
	status int
	msg    string
}

func fail(status int, msg string) *zerr { return &zerr{status, msg} }

var (
	reID   = regexp.MustCompile(`/\d+`)
	reAttr = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// Hook runs for every authenticated request before it is routed. A
// non-zero status answers the request with {error, error_human: msg}
// instead; the request is counted in Requests either way. Hooks run with
// the server locked: they must not call the Server's methods or read the
// request body.
type Hook func(r *http.Request) (status int, msg string)

// Use adds a hook, e.g. to make the note on one ticket fail.
func (s *Server) Use(h Hook) {
	s.mu.Lock()
	s.hooks = append(s.hooks, h)
	s.mu.Unlock()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[r.Method+" "+reID.ReplaceAllString(r.URL.Path, "/{id}")]++
	auth := r.Header.Get("Authorization")
	switch {
	case auth == "":
		writeErr(w, fail(403, "Authentication required"))
		return
	case strings.HasPrefix(auth, "Token token="):
		if s.o.Token == "" || strings.TrimPrefix(auth, "Token token=") != s.o.Token {
			w.Header().Set("X-Failure", "Can't find User for Token")
			writeErr(w, fail(401, "Can't find User for Token"))
			return
		}
	case strings.HasPrefix(auth, "Basic "):
		b, _ := base64.StdEncoding.DecodeString(auth[6:])
		if s.o.User == "" || string(b) != s.o.User+":"+s.o.Password {
			w.Header().Set("X-Failure", "Invalid BasicAuth credentials")
			writeErr(w, fail(401, "Invalid BasicAuth credentials"))
			return
		}
	default:
		writeErr(w, fail(401, "Not authorized"))
		return
	}
	for _, h := range s.hooks {
		if st, msg := h(r); st != 0 {
			writeErr(w, fail(st, msg))
			return
		}
	}
	status, body, e := s.route(r)
	if e != nil {
		writeErr(w, e)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func writeErr(w http.ResponseWriter, e *zerr) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(map[string]string{"error": e.msg, "error_human": e.msg})
}

var (
	reTicket = regexp.MustCompile(`^/api/v1/tickets/(\d+)$`)
	reByTkt  = regexp.MustCompile(`^/api/v1/ticket_articles/by_ticket/(\d+)$`)
)

func (s *Server) route(r *http.Request) (int, any, *zerr) {
	p, q := r.URL.Path, r.URL.Query()
	expand := q.Get("expand") == "true"
	switch {
	case p == "/api/v1/users/me" && r.Method == "GET":
		return 200, map[string]any{"id": 3, "login": "otai@example.com", "email": "otai@example.com",
			"group_ids": map[string][]string{"1": {"full"}, "2": {"full"}, "3": {"read"}}}, nil
	case p == "/api/v1/groups" && r.Method == "GET":
		var out []any
		for _, id := range sortedKeys(s.Groups) {
			out = append(out, map[string]any{"id": id, "name": s.Groups[id], "active": true})
		}
		return 200, out, nil
	case p == "/api/v1/tickets" && r.Method == "GET":
		page, per := paging(q, 100)
		all := s.sorted(func(*Ticket) bool { return true })
		return 200, s.render(window(all, page, per), expand), nil
	case p == "/api/v1/tickets/search" && r.Method == "GET":
		pred, err := parseQuery(q.Get("query"), s)
		if err != nil {
			return 0, nil, fail(422, err.Error())
		}
		page, per := paging(q, 200)
		hits := window(s.sorted(pred), page, per)
		if !expand && s.o.OldSearchShape {
			ids := []int64{}
			assets := map[string]any{}
			for _, t := range hits {
				ids = append(ids, t.ID)
				assets[strconv.FormatInt(t.ID, 10)] = s.ticketJSON(t, false)
			}
			return 200, map[string]any{"tickets": ids, "tickets_count": len(ids), "assets": map[string]any{"Ticket": assets}}, nil
		}
		return 200, s.render(hits, expand), nil
	case p == "/api/v1/tickets" && r.Method == "POST":
		return s.create(r)
	case p == "/api/v1/ticket_articles" && r.Method == "POST":
		var in map[string]any
		if json.NewDecoder(r.Body).Decode(&in) != nil {
			return 0, nil, fail(422, "Invalid JSON")
		}
		id, _ := in["ticket_id"].(float64)
		if s.tickets[int64(id)] == nil {
			return 0, nil, fail(404, fmt.Sprintf("Couldn't find Ticket with 'id'=%v", in["ticket_id"]))
		}
		a, e := s.addArticle(int64(id), in)
		if e != nil {
			return 0, nil, e
		}
		return 201, articleJSON(a), nil
	case p == "/api/v1/tags" && r.Method == "GET":
		id, _ := strconv.ParseInt(q.Get("o_id"), 10, 64)
		t := s.tickets[id]
		if t == nil {
			return 0, nil, fail(404, "Couldn't find Ticket with 'id'="+q.Get("o_id"))
		}
		return 200, map[string]any{"tags": append([]string{}, t.Tags...)}, nil
	case (p == "/api/v1/tags/add" && r.Method == "POST") || (p == "/api/v1/tags/remove" && r.Method == "DELETE"):
		var in struct {
			Item   string `json:"item"`
			Object string `json:"object"`
			OID    int64  `json:"o_id"`
		}
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.Item == "" || in.Object != "Ticket" {
			return 0, nil, fail(422, "Need item, object and o_id")
		}
		t := s.tickets[in.OID]
		if t == nil {
			return 0, nil, fail(404, fmt.Sprintf("Couldn't find Ticket with 'id'=%d", in.OID))
		}
		if strings.HasSuffix(p, "add") {
			if !slices.Contains(t.Tags, in.Item) {
				t.Tags = append(t.Tags, in.Item)
			}
			return 201, true, nil
		}
		t.Tags = slices.DeleteFunc(t.Tags, func(x string) bool { return x == in.Item })
		return 200, true, nil
	}
	if m := reTicket.FindStringSubmatch(p); m != nil {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		t := s.tickets[id]
		if t == nil {
			return 0, nil, fail(404, "Couldn't find Ticket with 'id'="+m[1])
		}
		switch r.Method {
		case "GET":
			return 200, s.ticketJSON(t, expand), nil
		case "PUT":
			var in map[string]any
			if json.NewDecoder(r.Body).Decode(&in) != nil {
				return 0, nil, fail(422, "Invalid JSON")
			}
			cp := *t
			if e := s.apply(&cp, in); e != nil {
				return 0, nil, e
			}
			cp.UpdatedAt = s.o.Now().UTC()
			*t = cp
			return 200, s.ticketJSON(t, expand), nil
		}
	}
	if m := reByTkt.FindStringSubmatch(p); m != nil && r.Method == "GET" {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		if s.tickets[id] == nil {
			return 0, nil, fail(404, "Couldn't find Ticket with 'id'="+m[1])
		}
		out := []any{}
		for _, a := range s.articles {
			if a.TicketID == id {
				out = append(out, articleJSON(a))
			}
		}
		return 200, out, nil
	}
	return 0, nil, fail(404, "No route matches ["+r.Method+"] \""+p+"\"")
}

func (s *Server) addArticle(ticketID int64, in map[string]any) (*Article, *zerr) {
	body, _ := in["body"].(string)
	if body == "" {
		return nil, fail(422, `Need at least article: { body: "some text" }`)
	}
	a := &Article{ID: s.nextArt, TicketID: ticketID, Body: body, ContentType: "text/plain", Type: "note", Sender: "Agent", CreatedAt: s.o.Now().UTC()}
	if v, ok := in["subject"].(string); ok {
		a.Subject = v
	}
	if v, ok := in["content_type"].(string); ok && v != "" {
		a.ContentType = v
	}
	if v, ok := in["type"].(string); ok && v != "" {
		a.Type = v
	}
	if v, ok := in["sender"].(string); ok && v != "" {
		a.Sender = v
	}
	if v, ok := in["internal"].(bool); ok {
		a.Internal = v
	}
	s.nextArt++
	s.articles = append(s.articles, a)
	return a, nil
}

func (s *Server) create(r *http.Request) (int, any, *zerr) {
	var in map[string]any
	if json.NewDecoder(r.Body).Decode(&in) != nil {
		return 0, nil, fail(422, "Invalid JSON")
	}
	art, ok := in["article"].(map[string]any)
	if !ok {
		return 0, nil, fail(422, "article hash is missing")
	}
	delete(in, "article")
	t := Ticket{PriorityID: 2, StateID: 1, OwnerID: 1, CreatedAt: s.o.Now().UTC()}
	t.UpdatedAt = t.CreatedAt
	if _, ok := in["group"]; !ok {
		if _, ok := in["group_id"]; !ok {
			return 0, nil, fail(422, "Attribute 'group_id' required!")
		}
	}
	if e := s.apply(&t, in); e != nil {
		return 0, nil, e
	}
	if body, _ := art["body"].(string); body == "" {
		return 0, nil, fail(422, `Need at least article: { body: "some text" }`)
	}
	if t.CustomerID == 0 {
		return 0, nil, fail(422, "Attribute 'customer_id' required!")
	}
	t.ID = s.next
	s.next++
	t.Number = strconv.FormatInt(31000+t.ID, 10)
	s.tickets[t.ID] = &t
	if _, e := s.addArticle(t.ID, art); e != nil {
		return 0, nil, e
	}
	return 201, s.ticketJSON(&t, r.URL.Query().Get("expand") == "true"), nil
}

// apply sets attributes with name -> id conversion.
func (s *Server) apply(t *Ticket, in map[string]any) *zerr {
	lookup := func(m map[int64]string, v any, what string) (int64, *zerr) {
		switch x := v.(type) {
		case float64:
			if _, ok := m[int64(x)]; ok {
				return int64(x), nil
			}
		case string:
			for id, n := range m {
				if strings.EqualFold(n, x) {
					return id, nil
				}
			}
		}
		return 0, fail(422, fmt.Sprintf("No lookup value found for '%s': %v", what, v))
	}
	for k, v := range in {
		var err *zerr
		switch k {
		case "title":
			t.Title, _ = v.(string)
		case "group", "group_id":
			t.GroupID, err = lookup(s.Groups, v, "group")
		case "state", "state_id":
			t.StateID, err = lookup(s.States, v, "state")
		case "priority", "priority_id":
			t.PriorityID, err = lookup(s.Prios, v, "priority")
		case "owner", "owner_id":
			t.OwnerID, err = lookup(s.Users, v, "owner")
		case "customer", "customer_id":
			if x, ok := v.(string); ok && strings.HasPrefix(x, "guess:") {
				email := strings.TrimPrefix(x, "guess:")
				if !strings.Contains(email, "@") {
					return fail(422, fmt.Sprintf("Invalid email '%s' of customer", email))
				}
				id := int64(0)
				for uid, l := range s.Users {
					if l == email {
						id = uid
					}
				}
				if id == 0 {
					id = int64(100 + len(s.Users))
					s.Users[id] = email
				}
				t.CustomerID = id
			} else {
				t.CustomerID, err = lookup(s.Users, v, "customer")
			}
		case "tags":
			for _, x := range strings.Split(fmt.Sprint(v), ",") {
				if x = strings.TrimSpace(x); x != "" && !slices.Contains(t.Tags, x) {
					t.Tags = append(t.Tags, x)
				}
			}
		case "number", "id", "type":
			if k == "type" {
				if t.Custom == nil {
					t.Custom = map[string]any{}
				}
				t.Custom["type"] = v
			}
		default:
			if t.Custom == nil {
				t.Custom = map[string]any{}
			}
			t.Custom[k] = v
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) sorted(pred func(*Ticket) bool) []*Ticket {
	var out []*Ticket
	for _, t := range s.tickets {
		if pred(t) {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func window(ts []*Ticket, page, per int) []*Ticket {
	lo := (page - 1) * per
	if lo >= len(ts) {
		return nil
	}
	return ts[lo:min(lo+per, len(ts))]
}

func paging(q map[string][]string, maxPer int) (int, int) {
	get := func(k string) int {
		if v, ok := q[k]; ok {
			n, _ := strconv.Atoi(v[0])
			return n
		}
		return 0
	}
	page := max(get("page"), 1)
	per := get("per_page")
	if per == 0 {
		per = get("limit")
	}
	if per <= 0 {
		per = 50
	}
	return page, min(per, maxPer)
}

func (s *Server) render(ts []*Ticket, expand bool) []any {
	out := []any{}
	for _, t := range ts {
		out = append(out, s.ticketJSON(t, expand))
	}
	return out
}

func (s *Server) ticketJSON(t *Ticket, expand bool) map[string]any {
	m := map[string]any{"id": t.ID, "number": t.Number, "title": t.Title, "group_id": t.GroupID, "priority_id": t.PriorityID,
		"state_id": t.StateID, "owner_id": t.OwnerID, "customer_id": t.CustomerID, "organization_id": nil, "note": nil,
		"type": nil, "article_count": 0, "preferences": map[string]any{}, "created_by_id": t.CustomerID, "updated_by_id": 3,
		"created_at": t.CreatedAt.Format("2006-01-02T15:04:05.000Z"), "updated_at": t.UpdatedAt.Format("2006-01-02T15:04:05.000Z")}
	for k, v := range t.Custom {
		m[k] = v
	}
	if expand {
		m["group"], m["state"], m["priority"] = s.Groups[t.GroupID], s.States[t.StateID], s.Prios[t.PriorityID]
		m["owner"], m["customer"] = s.Users[t.OwnerID], s.Users[t.CustomerID]
		var ids []int64
		for _, a := range s.articles {
			if a.TicketID == t.ID {
				ids = append(ids, a.ID)
			}
		}
		m["article_ids"] = ids
	}
	return m
}

func articleJSON(a *Article) map[string]any {
	return map[string]any{"id": a.ID, "ticket_id": a.TicketID, "subject": a.Subject, "body": a.Body, "content_type": a.ContentType,
		"internal": a.Internal, "type": a.Type, "sender": a.Sender, "from": nil, "to": nil, "created_by": "otai@example.com",
		"created_at": a.CreatedAt.Format("2006-01-02T15:04:05.000Z"), "updated_at": a.CreatedAt.Format("2006-01-02T15:04:05.000Z"), "attachments": []any{}}
}

func sortedKeys(m map[int64]string) []int64 {
	var ks []int64
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// parseQuery understands the subset the adapter writes: terms joined by
// AND, each field:value or field:"quoted value", and date ranges
// updated_at:[time TO *] or {* TO time} ([ ] inclusive, { } exclusive).
// Like Elasticsearch's query_string, it refuses a colon outside quotes
// and brackets (updated_at:>=10:00:00Z).
func parseQuery(q string, s *Server) (func(*Ticket) bool, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, fmt.Errorf("query is missing")
	}
	var preds []func(*Ticket) bool
	for _, term := range strings.Split(q, " AND ") {
		f, v, ok := strings.Cut(strings.TrimSpace(term), ":")
		if !ok {
			return nil, fmt.Errorf("cannot parse %q", term)
		}
		if strings.Contains(v, ":") && !strings.HasPrefix(v, `"`) && !strings.HasPrefix(v, "[") && !strings.HasPrefix(v, "{") {
			return nil, fmt.Errorf("cannot parse %q: ':' is reserved outside quotes and ranges", term)
		}
		if uq, err := strconv.Unquote(v); err == nil && strings.HasPrefix(v, `"`) {
			v = uq
		}
		name := func(m map[int64]string, get func(*Ticket) int64) func(*Ticket) bool {
			return func(t *Ticket) bool { return strings.EqualFold(m[get(t)], v) }
		}
		id := func(get func(*Ticket) int64) func(*Ticket) bool {
			n, _ := strconv.ParseInt(v, 10, 64)
			return func(t *Ticket) bool { return get(t) == n }
		}
		var p func(*Ticket) bool
		switch f {
		case "group.name", "group":
			p = name(s.Groups, func(t *Ticket) int64 { return t.GroupID })
		case "state.name", "state":
			p = name(s.States, func(t *Ticket) int64 { return t.StateID })
		case "priority.name", "priority":
			p = name(s.Prios, func(t *Ticket) int64 { return t.PriorityID })
		case "owner.login", "owner":
			p = name(s.Users, func(t *Ticket) int64 { return t.OwnerID })
		case "group_id":
			p = id(func(t *Ticket) int64 { return t.GroupID })
		case "state_id":
			p = id(func(t *Ticket) int64 { return t.StateID })
		case "priority_id":
			p = id(func(t *Ticket) int64 { return t.PriorityID })
		case "owner_id":
			p = id(func(t *Ticket) int64 { return t.OwnerID })
		case "title":
			p = func(t *Ticket) bool { return strings.Contains(strings.ToLower(t.Title), strings.ToLower(v)) }
		case "updated_at", "created_at":
			get := func(t *Ticket) time.Time { return t.UpdatedAt }
			if f == "created_at" {
				get = func(t *Ticket) time.Time { return t.CreatedAt }
			}
			lo, hi, err := parseRange(v)
			if err != nil {
				return nil, fmt.Errorf("bad date range %q: %v", term, err)
			}
			p = func(t *Ticket) bool { return lo(get(t)) && hi(get(t)) }
		default:
			if !reAttr.MatchString(f) {
				return nil, fmt.Errorf("unknown field %q", f)
			}
			// A custom object attribute: case-insensitive, as Elasticsearch
			// matches a keyword; a list matches when one element does.
			p = func(t *Ticket) bool {
				switch x := t.Custom[f].(type) {
				case nil:
					return false
				case []any:
					return slices.ContainsFunc(x, func(e any) bool { return strings.EqualFold(fmt.Sprint(e), v) })
				default:
					return strings.EqualFold(fmt.Sprint(x), v)
				}
			}
		}
		preds = append(preds, p)
	}
	return func(t *Ticket) bool {
		for _, p := range preds {
			if !p(t) {
				return false
			}
		}
		return true
	}, nil
}

// parseRange reads [a TO b], {a TO b} or a mix ([ and ] inclusive, { and }
// exclusive, * unbounded) of RFC 3339 times into two bound checks.
func parseRange(v string) (lo, hi func(time.Time) bool, err error) {
	if len(v) < 2 || !strings.ContainsRune("[{", rune(v[0])) || !strings.ContainsRune("]}", rune(v[len(v)-1])) {
		return nil, nil, fmt.Errorf("want [from TO to]")
	}
	a, b, ok := strings.Cut(v[1:len(v)-1], " TO ")
	if !ok {
		return nil, nil, fmt.Errorf("want [from TO to]")
	}
	bound := func(s string, incl, lower bool) (func(time.Time) bool, error) {
		if s == "*" {
			return func(time.Time) bool { return true }, nil
		}
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, err
		}
		return func(at time.Time) bool {
			switch {
			case at.Equal(ts):
				return incl
			case lower:
				return at.After(ts)
			}
			return at.Before(ts)
		}, nil
	}
	if lo, err = bound(a, v[0] == '[', true); err != nil {
		return nil, nil, err
	}
	if hi, err = bound(b, v[len(v)-1] == ']', false); err != nil {
		return nil, nil, err
	}
	return lo, hi, nil
}
