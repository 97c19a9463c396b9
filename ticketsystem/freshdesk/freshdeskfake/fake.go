// Package freshdeskfake is an in-memory Freshdesk API v2 for tests. It
// follows the behaviour described in the project's API notes: Basic auth
// with the API key as user name, list pagination with Link rel="next" and a
// per_page cap of 100, the quoted search query language with 30 results per
// page and at most 10 pages, {description, errors[]} validation errors,
// {code, message} 401s, empty 404s, and a per-"minute" rate limit with 429,
// Retry-After and X-RateLimit-* headers. The limit counts credits: a
// request costs one, plus extra credits for each include= value (see
// Options.ListIncludeCredits), reported in X-RateLimit-Used-CurrentRequest.
// The minute can be shortened (Options.Window) to scale the clock for
// benchmarks.
package freshdeskfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Ticket is the fake's stored ticket.
type Ticket struct {
	ID            int64
	Subject       string
	Description   string // HTML
	Status        int
	Priority      int
	Source        int
	Type          string
	RequesterID   int64
	ResponderID   int64 // 0: none
	GroupID       int64 // 0: none
	Tags          []string
	CustomFields  map[string]any
	Spam          bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Conversations []Conversation
}

// Conversation is a stored note or reply.
type Conversation struct {
	ID        int64
	Body      string
	Private   bool
	Incoming  bool
	UserID    int64
	CreatedAt time.Time
}

// Group and Agent are reference data.
type Group struct {
	ID   int64
	Name string
}

// Agent is an agent account; the first one is "me".
type Agent struct {
	ID          int64
	Email       string
	TicketScope int
	GroupIDs    []int64
}

// Options configure the fake.
type Options struct {
	APIKey string // required user name of Basic auth
	// RateLimit is credits per Window (0: unlimited). 429 responses do not
	// count; every other response does, failed or not. A request is served
	// while the window has a credit left and is charged its whole cost, so
	// the last one may overdraw the window by its extra credits (how
	// Freshdesk treats a request costing more than what remains is not
	// documented).
	RateLimit int
	Window    time.Duration // default time.Minute
	Groups    []Group       // default Inbox 1, Billing 2, IT 3
	Agents    []Agent       // default one global agent, id 100
	Types     []string      // default Question, Incident, Problem, Feature Request
	Now       func() time.Time
	// PublicHost, when set, is the host the Link headers name (https),
	// as when otai reaches Freshdesk through a proxy: the links then
	// point at https://<domain>.freshdesk.com, not at the proxy.
	PublicHost string

	// ListIncludeCredits and ViewIncludeCredits are the extra credits each
	// include= value costs on GET /tickets (default 2) and on
	// GET /tickets/{id} (default 1); -1 charges nothing extra. The
	// project's API notes say only that includes cost extra; the defaults
	// follow Freshdesk's API reference (List: "each include consumes an
	// additional 2 credits"; View: one per include), not checked live.
	ListIncludeCredits, ViewIncludeCredits int
}

// Stats count what the fake saw.
type Stats struct {
	Requests    int            // all requests, 429s included
	RateLimited int            // 429 responses sent
	MaxInWindow int            // most non-429 responses within one window
	Credits     int            // credits charged (non-429 responses)
	MaxCredits  int            // most credits charged within one window
	ByRoute     map[string]int // "PUT /tickets/{id}" -> count
}

// Server is the fake. Use URL() as base_url.
type Server struct {
	*httptest.Server
	o Options

	mu        sync.Mutex
	tickets   map[int64]*Ticket
	contacts  map[string]int64
	nextID    int64
	nextConv  int64
	start     time.Time
	window    int64
	inWindow  int // responses in the current window
	credits   int // credits charged in the current window
	stats     Stats
	fail429   int
	failAfter int
	failCode  int
	hooks     []Hook
	// pendingLink is the Link header of the response being built.
	pendingLink string
}

// Hook runs for every authenticated request before it is routed. A
// non-zero status answers the request with it and body (nil: no body)
// instead; the request is counted in Stats either way. Hooks run with the
// server locked: they must not call the Server's methods, and they must
// not read the request body.
type Hook func(r *http.Request) (status int, body any)

// Use adds a hook, e.g. to make writes to one ticket fail:
//
//	fake.Use(func(r *http.Request) (int, any) {
//		if r.Method == http.MethodPut && r.URL.Path == "/api/v2/tickets/7" {
//			return 500, nil
//		}
//		return 0, nil
//	})
func (s *Server) Use(h Hook) {
	s.mu.Lock()
	s.hooks = append(s.hooks, h)
	s.mu.Unlock()
}

// AccessDeniedMessage is the message of the fake's 403 body.
const AccessDeniedMessage = "You are not authorized to perform this action."

// Deny returns a hook that answers the requests match selects with 403
// {"code": "access_denied", "message": AccessDeniedMessage}, as Freshdesk
// does when the agent lacks the rights, the plan lacks the feature, or the
// account is locked out:
//
//	fake.Use(freshdeskfake.Deny(func(r *http.Request) bool { return r.Method == http.MethodPut }))
func Deny(match func(r *http.Request) bool) Hook {
	return func(r *http.Request) (int, any) {
		if match(r) {
			return http.StatusForbidden, map[string]string{"code": "access_denied", "message": AccessDeniedMessage}
		}
		return 0, nil
	}
}

// New starts a fake.
func New(o Options) *Server {
	if o.Window <= 0 {
		o.Window = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Groups == nil {
		o.Groups = []Group{{1, "Inbox"}, {2, "Billing"}, {3, "IT"}}
	}
	if o.Agents == nil {
		o.Agents = []Agent{{ID: 100, Email: "otai@example.com", TicketScope: 1}}
	}
	if o.Types == nil {
		o.Types = []string{"Question", "Incident", "Problem", "Feature Request"}
	}
	if o.ListIncludeCredits == 0 {
		o.ListIncludeCredits = 2
	}
	if o.ViewIncludeCredits == 0 {
		o.ViewIncludeCredits = 1
	}
	s := &Server{o: o, tickets: map[int64]*Ticket{}, contacts: map[string]int64{}, nextID: 1, nextConv: 1,
		start: o.Now(), stats: Stats{ByRoute: map[string]int{}}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the API base, ".../api/v2".
func (s *Server) URL() string { return s.Server.URL + "/api/v2" }

// AddTicket stores t (ID, times and defaults filled in) and returns its id.
func (s *Server) AddTicket(t Ticket) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.ID == 0 {
		t.ID = s.nextID
	}
	s.nextID = max(s.nextID, t.ID+1)
	now := s.o.Now().UTC().Truncate(time.Second)
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now
	}
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = t.CreatedAt
	}
	if t.Status == 0 {
		t.Status = 2
	}
	if t.Priority == 0 {
		t.Priority = 1
	}
	if t.Source == 0 {
		t.Source = 2
	}
	if t.RequesterID == 0 {
		t.RequesterID = 5000
	}
	if t.Tags == nil {
		t.Tags = []string{}
	}
	cp := t
	s.tickets[t.ID] = &cp
	return t.ID
}

// Ticket returns a copy of a stored ticket.
func (s *Server) Ticket(id int64) (Ticket, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[id]
	if !ok {
		return Ticket{}, false
	}
	cp := *t
	cp.Conversations = slices.Clone(t.Conversations)
	cp.Tags = slices.Clone(t.Tags)
	return cp, true
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ByRoute = map[string]int{}
	for k, v := range s.stats.ByRoute {
		st.ByRoute[k] = v
	}
	return st
}

// Fail429 makes the next n requests fail with 429 and Retry-After seconds.
func (s *Server) Fail429(n int) {
	s.mu.Lock()
	s.fail429 = n
	s.mu.Unlock()
}

// FailAfterProcessing makes the next n write requests (POST/PUT) take
// effect and then answer with status code (e.g. 502): the ambiguous case.
func (s *Server) FailAfterProcessing(n, code int) {
	s.mu.Lock()
	s.failAfter, s.failCode = n, code
	s.mu.Unlock()
}

type apiErr struct {
	status int
	body   any
}

func validation(field, code, msg string) *apiErr {
	return &apiErr{400, map[string]any{"description": "Validation failed",
		"errors": []map[string]string{{"field": field, "message": msg, "code": code}}}}
}

var (
	reTicket = regexp.MustCompile(`^/api/v2/tickets/(\d+)$`)
	reNotes  = regexp.MustCompile(`^/api/v2/tickets/(\d+)/notes$`)
	reConvs  = regexp.MustCompile(`^/api/v2/tickets/(\d+)/conversations$`)
	reAny    = regexp.MustCompile(`/\d+`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
	route := r.Method + " " + strings.TrimPrefix(reAny.ReplaceAllString(r.URL.Path, "/{id}"), "/api/v2")
	s.stats.ByRoute[route]++

	// Rate limit: fixed windows from the fake's start.
	now := s.o.Now()
	win := int64(now.Sub(s.start) / s.o.Window)
	if win != s.window {
		s.window, s.inWindow, s.credits = win, 0, 0
	}
	h := w.Header()
	cost := s.cost(r)
	if s.o.RateLimit > 0 {
		h.Set("X-RateLimit-Total", strconv.Itoa(s.o.RateLimit))
	}
	if s.fail429 > 0 || (s.o.RateLimit > 0 && s.credits >= s.o.RateLimit) {
		if s.fail429 > 0 {
			s.fail429--
		}
		end := s.start.Add(time.Duration(win+1) * s.o.Window)
		secs := int(math.Ceil(end.Sub(now).Seconds()))
		h.Set("Retry-After", strconv.Itoa(max(secs, 1)))
		h.Set("X-RateLimit-Remaining", "0")
		if s.o.RateLimit > 0 {
			h.Set("X-RateLimit-Used-CurrentRequest", "0") // 429s are not charged
		}
		s.stats.RateLimited++
		writeJSON(w, 429, map[string]string{"code": "rate_limit_exceeded", "message": "You have exceeded the limit of requests per minute"})
		return
	}
	s.inWindow++
	s.credits += cost
	s.stats.Credits += cost
	s.stats.MaxInWindow = max(s.stats.MaxInWindow, s.inWindow)
	s.stats.MaxCredits = max(s.stats.MaxCredits, s.credits)
	if s.o.RateLimit > 0 {
		h.Set("X-RateLimit-Remaining", strconv.Itoa(max(s.o.RateLimit-s.credits, 0)))
		h.Set("X-RateLimit-Used-CurrentRequest", strconv.Itoa(cost))
	}
	h.Set("X-Request-Id", fmt.Sprintf("fake-%d", s.stats.Requests))

	if user, _, ok := basicAuth(r); !ok || user != s.o.APIKey {
		writeJSON(w, 401, map[string]string{"code": "invalid_credentials", "message": "You have to be logged in to perform this action."})
		return
	}
	for _, hk := range s.hooks {
		if st, b := hk(r); st != 0 {
			if b == nil {
				w.WriteHeader(st)
			} else {
				writeJSON(w, st, b)
			}
			return
		}
	}
	s.pendingLink = ""
	status, body, aerr := s.route(r, now)
	if s.pendingLink != "" && aerr == nil {
		h.Set("Link", s.pendingLink)
	}
	if aerr != nil {
		if aerr.body == nil {
			w.WriteHeader(aerr.status)
			return
		}
		writeJSON(w, aerr.status, aerr.body)
		return
	}
	if s.failAfter > 0 && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
		s.failAfter--
		w.WriteHeader(s.failCode)
		return
	}
	writeJSON(w, status, body)
}

// cost is the credits a request is charged: one, plus the extra credits
// of each include= value on the ticket list and on a ticket.
func (s *Server) cost(r *http.Request) int {
	if r.Method != http.MethodGet {
		return 1
	}
	per := 0
	switch {
	case r.URL.Path == "/api/v2/tickets":
		per = s.o.ListIncludeCredits
	case reTicket.MatchString(r.URL.Path):
		per = s.o.ViewIncludeCredits
	}
	n := 0
	for _, v := range strings.Split(r.URL.Query().Get("include"), ",") {
		if strings.TrimSpace(v) != "" {
			n++
		}
	}
	return 1 + n*max(per, 0)
}

func basicAuth(r *http.Request) (string, string, bool) {
	a := r.Header.Get("Authorization")
	if !strings.HasPrefix(a, "Basic ") {
		return "", "", false
	}
	b, err := base64.StdEncoding.DecodeString(a[6:])
	if err != nil {
		return "", "", false
	}
	u, p, ok := strings.Cut(string(b), ":")
	return u, p, ok
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) route(r *http.Request, now time.Time) (int, any, *apiErr) {
	p := r.URL.Path
	q := r.URL.Query()
	switch {
	case p == "/api/v2/tickets" && r.Method == http.MethodGet:
		return s.list(r, q)
	case p == "/api/v2/tickets" && r.Method == http.MethodPost:
		return s.create(r, now)
	case p == "/api/v2/search/tickets" && r.Method == http.MethodGet:
		return s.search(q)
	case p == "/api/v2/groups" && r.Method == http.MethodGet:
		var out []map[string]any
		for _, g := range s.o.Groups {
			out = append(out, map[string]any{"id": g.ID, "name": g.Name, "description": nil})
		}
		return 200, out, nil
	case p == "/api/v2/agents/me" && r.Method == http.MethodGet:
		return 200, agentJSON(s.o.Agents[0]), nil
	case p == "/api/v2/agents" && r.Method == http.MethodGet:
		out := []any{}
		for _, a := range s.o.Agents {
			if e := q.Get("email"); e == "" || strings.EqualFold(e, a.Email) {
				out = append(out, agentJSON(a))
			}
		}
		return 200, out, nil
	}
	if m := reTicket.FindStringSubmatch(p); m != nil {
		t := s.tickets[atoi64(m[1])]
		if t == nil {
			return 0, nil, &apiErr{status: 404}
		}
		switch r.Method {
		case http.MethodGet:
			out := ticketJSON(t, true)
			if strings.Contains(q.Get("include"), "conversations") {
				var cs []any
				for i, c := range t.Conversations {
					if i == 10 {
						break
					}
					cs = append(cs, convJSON(t.ID, c))
				}
				out["conversations"] = cs
			}
			return 200, out, nil
		case http.MethodPut:
			return s.update(r, t, now)
		}
		return 0, nil, &apiErr{405, map[string]string{"code": "method_not_allowed", "message": "Method not allowed"}}
	}
	if m := reNotes.FindStringSubmatch(p); m != nil && r.Method == http.MethodPost {
		t := s.tickets[atoi64(m[1])]
		if t == nil {
			return 0, nil, &apiErr{status: 404}
		}
		var in map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return 0, nil, validation("", "invalid_json", "Request body has invalid json format")
		}
		var body string
		if json.Unmarshal(in["body"], &body); strings.TrimSpace(body) == "" {
			return 0, nil, validation("body", "missing_field", "It should be a/an String")
		}
		private := true
		if raw, ok := in["private"]; ok {
			if err := json.Unmarshal(raw, &private); err != nil {
				return 0, nil, validation("private", "datatype_mismatch", "It should be a/an Boolean")
			}
		}
		for k := range in {
			if !slices.Contains([]string{"body", "private", "incoming", "notify_emails", "user_id"}, k) {
				return 0, nil, validation(k, "invalid_field", "Unexpected/invalid field in request")
			}
		}
		c := Conversation{ID: s.nextConv, Body: body, Private: private, UserID: s.o.Agents[0].ID, CreatedAt: now.UTC().Truncate(time.Second)}
		s.nextConv++
		t.Conversations = append(t.Conversations, c)
		t.UpdatedAt = now.UTC().Truncate(time.Second)
		return 201, convJSON(t.ID, c), nil
	}
	if m := reConvs.FindStringSubmatch(p); m != nil && r.Method == http.MethodGet {
		t := s.tickets[atoi64(m[1])]
		if t == nil {
			return 0, nil, &apiErr{status: 404}
		}
		page, per, aerr := paging(q, 30)
		if aerr != nil {
			return 0, nil, aerr
		}
		var out = []any{}
		for i := (page - 1) * per; i < len(t.Conversations) && i < page*per; i++ {
			out = append(out, convJSON(t.ID, t.Conversations[i]))
		}
		if page*per < len(t.Conversations) {
			s.setNext(r, q, page)
		}
		return 200, out, nil
	}
	return 0, nil, &apiErr{status: 404}
}

func (s *Server) setNext(r *http.Request, q url.Values, page int) {
	nq := url.Values{}
	for k, v := range q {
		nq[k] = v
	}
	nq.Set("page", strconv.Itoa(page+1))
	next := "http://" + r.Host + r.URL.Path + "?" + nq.Encode()
	if s.o.PublicHost != "" {
		next = "https://" + s.o.PublicHost + r.URL.Path + "?" + nq.Encode()
	}
	s.pendingLink = fmt.Sprintf(`<%s>; rel="next"`, next)
}

func paging(q url.Values, def int) (page, per int, aerr *apiErr) {
	page, per = 1, def
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, validation("page", "invalid_value", "It should be a Positive Integer")
		}
		page = n
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return 0, 0, validation("per_page", "invalid_value", "It should be a Positive Integer less than or equal to 100")
		}
		per = n
	}
	return page, per, nil
}

func (s *Server) list(r *http.Request, q url.Values) (int, any, *apiErr) {
	page, per, aerr := paging(q, 30)
	if aerr != nil {
		return 0, nil, aerr
	}
	var since time.Time
	if v := q.Get("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return 0, nil, validation("updated_since", "invalid_value", "It should be in the 'valid date time' format")
		}
		since = t
	}
	orderBy := q.Get("order_by")
	if orderBy == "" {
		orderBy = "created_at"
	}
	if !slices.Contains([]string{"created_at", "due_by", "updated_at", "status"}, orderBy) {
		return 0, nil, validation("order_by", "invalid_value", "It should be one of these values: 'created_at,due_by,updated_at,status'")
	}
	desc := q.Get("order_type") != "asc"
	if v := q.Get("order_type"); v != "" && v != "asc" && v != "desc" {
		return 0, nil, validation("order_type", "invalid_value", "It should be one of these values: 'asc,desc'")
	}
	var ts []*Ticket
	for _, t := range s.tickets {
		if t.Spam || (!since.IsZero() && t.UpdatedAt.Before(since)) {
			continue
		}
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool {
		a, b := ts[i], ts[j]
		var less, eq bool
		switch orderBy {
		case "updated_at":
			less, eq = a.UpdatedAt.Before(b.UpdatedAt), a.UpdatedAt.Equal(b.UpdatedAt)
		case "status":
			less, eq = a.Status < b.Status, a.Status == b.Status
		default:
			less, eq = a.CreatedAt.Before(b.CreatedAt), a.CreatedAt.Equal(b.CreatedAt)
		}
		if eq {
			less = a.ID < b.ID
		}
		if desc {
			return !less
		}
		return less
	})
	withDesc := strings.Contains(q.Get("include"), "description")
	out := []any{}
	for i := (page - 1) * per; i < len(ts) && i < page*per; i++ {
		out = append(out, ticketJSON(ts[i], withDesc))
	}
	if page*per < len(ts) {
		s.setNext(r, q, page)
	}
	return 200, out, nil
}

func (s *Server) search(q url.Values) (int, any, *apiErr) {
	raw := q.Get("query")
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return 0, nil, validation("query", "invalid_value", "It should be a/an String enclosed in double quotes")
	}
	if len(raw) > 512 {
		return 0, nil, validation("query", "invalid_value", "It should not exceed 512 characters")
	}
	page := 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10 {
			return 0, nil, validation("page", "invalid_value", "It should be a Positive Integer less than or equal to 10")
		}
		page = n
	}
	expr, err := parseQuery(raw[1 : len(raw)-1])
	if err != nil {
		return 0, nil, validation("query", "invalid_value", err.Error())
	}
	var hits []*Ticket
	for _, t := range s.tickets {
		if !t.Spam && expr(t) {
			hits = append(hits, t)
		}
	}
	sort.Slice(hits, func(i, j int) bool { // newest first
		if !hits[i].CreatedAt.Equal(hits[j].CreatedAt) {
			return hits[i].CreatedAt.After(hits[j].CreatedAt)
		}
		return hits[i].ID > hits[j].ID
	})
	res := []any{}
	for i := (page - 1) * 30; i < len(hits) && i < page*30; i++ {
		res = append(res, ticketJSON(hits[i], false))
	}
	return 200, map[string]any{"total": len(hits), "results": res}, nil
}

var ticketFields = []string{"email", "requester_id", "phone", "name", "subject", "description", "status", "priority",
	"source", "type", "group_id", "responder_id", "tags", "custom_fields", "cc_emails", "due_by", "fr_due_by",
	"email_config_id", "product_id", "company_id", "parent_id", "unique_external_id"}

func (s *Server) create(r *http.Request, now time.Time) (int, any, *apiErr) {
	var in map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return 0, nil, validation("", "invalid_json", "Request body has invalid json format")
	}
	t := &Ticket{Status: 2, Priority: 1, Source: 2, Tags: []string{}, CreatedAt: now.UTC().Truncate(time.Second)}
	t.UpdatedAt = t.CreatedAt
	if err := s.apply(in, t, true); err != nil {
		return 0, nil, err
	}
	var email string
	json.Unmarshal(in["email"], &email)
	var rid int64
	json.Unmarshal(in["requester_id"], &rid)
	switch {
	case rid != 0:
		t.RequesterID = rid
	case email != "":
		if !strings.Contains(email, "@") {
			return 0, nil, validation("email", "invalid_value", "It should be in the 'valid email address' format")
		}
		id, ok := s.contacts[email]
		if !ok {
			id = 6000 + int64(len(s.contacts))
			s.contacts[email] = id
		}
		t.RequesterID = id
	default:
		return 0, nil, validation("requester_id", "missing_field", "Please fill at least 1 of email, mobile, phone, requester_id, twitter_id, facebook_id, unique_external_id fields")
	}
	t.ID = s.nextID
	s.nextID++
	s.tickets[t.ID] = t
	return 201, ticketJSON(t, true), nil
}

func (s *Server) update(r *http.Request, t *Ticket, now time.Time) (int, any, *apiErr) {
	var in map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return 0, nil, validation("", "invalid_json", "Request body has invalid json format")
	}
	for _, k := range []string{"email", "requester_id", "phone", "name"} {
		delete(in, k) // allowed on update too, ignored by the fake
	}
	cp := *t
	if err := s.apply(in, &cp, false); err != nil {
		return 0, nil, err
	}
	cp.UpdatedAt = now.UTC().Truncate(time.Second)
	*t = cp
	return 200, ticketJSON(t, true), nil
}

// apply validates and copies fields of a create or update body.
func (s *Server) apply(in map[string]json.RawMessage, t *Ticket, create bool) *apiErr {
	for k, raw := range in {
		if !slices.Contains(ticketFields, k) {
			return validation(k, "invalid_field", "Unexpected/invalid field in request")
		}
		var err error
		switch k {
		case "subject":
			err = json.Unmarshal(raw, &t.Subject)
		case "description":
			err = json.Unmarshal(raw, &t.Description)
		case "status":
			var n int
			if err = json.Unmarshal(raw, &n); err == nil && (n < 2 || n > 5) {
				return validation("status", "invalid_value", "It should be one of these values: '2,3,4,5'")
			}
			t.Status = n
		case "priority":
			var n int
			if err = json.Unmarshal(raw, &n); err == nil && (n < 1 || n > 4) {
				return validation("priority", "invalid_value", "It should be one of these values: '1,2,3,4'")
			}
			t.Priority = n
		case "source":
			err = json.Unmarshal(raw, &t.Source)
		case "type":
			var v string
			if err = json.Unmarshal(raw, &v); err == nil && !slices.Contains(s.o.Types, v) {
				return validation("type", "invalid_value", "It should be one of these values: '"+strings.Join(s.o.Types, ",")+"'")
			}
			t.Type = v
		case "group_id":
			var n int64
			if err = json.Unmarshal(raw, &n); err == nil && !slices.ContainsFunc(s.o.Groups, func(g Group) bool { return g.ID == n }) {
				return validation("group_id", "invalid_value", "There is no group matching the given group_id")
			}
			t.GroupID = n
		case "responder_id":
			var n int64
			if err = json.Unmarshal(raw, &n); err == nil && !slices.ContainsFunc(s.o.Agents, func(a Agent) bool { return a.ID == n }) {
				return validation("responder_id", "invalid_value", "There is no agent matching the given responder_id")
			}
			t.ResponderID = n
		case "tags":
			var v []string
			err = json.Unmarshal(raw, &v)
			t.Tags = v
		case "custom_fields":
			var v map[string]any
			if err = json.Unmarshal(raw, &v); err == nil {
				if t.CustomFields == nil {
					t.CustomFields = map[string]any{}
				}
				for ck, cv := range v {
					if !strings.HasPrefix(ck, "cf_") {
						return validation(ck, "invalid_field", "Unexpected/invalid field in request")
					}
					t.CustomFields[ck] = cv
				}
			}
		}
		if err != nil {
			return validation(k, "datatype_mismatch", "Value has the wrong type")
		}
	}
	if create && strings.TrimSpace(t.Subject) == "" {
		return validation("subject", "missing_field", "It should be a/an String")
	}
	return nil
}

func atoi64(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

func nullable(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

var reTags = regexp.MustCompile(`<[^>]*>`)

func stripHTML(s string) string {
	s = regexp.MustCompile(`(?i)<br\s*/?>`).ReplaceAllString(s, "\n")
	return strings.TrimSpace(html.UnescapeString(reTags.ReplaceAllString(s, "")))
}

func ticketJSON(t *Ticket, withDesc bool) map[string]any {
	m := map[string]any{
		"id": t.ID, "subject": t.Subject, "status": t.Status, "priority": t.Priority, "source": t.Source,
		"type": nil, "requester_id": t.RequesterID, "responder_id": nullable(t.ResponderID),
		"group_id": nullable(t.GroupID), "company_id": nil, "product_id": nil, "email_config_id": nil,
		"cc_emails": []string{}, "fwd_emails": []string{}, "reply_cc_emails": []string{}, "to_emails": nil,
		"spam": t.Spam, "fr_escalated": false, "is_escalated": false,
		"due_by": t.CreatedAt.Add(72 * time.Hour).Format(time.RFC3339), "fr_due_by": t.CreatedAt.Add(24 * time.Hour).Format(time.RFC3339),
		"created_at": t.CreatedAt.UTC().Format(time.RFC3339), "updated_at": t.UpdatedAt.UTC().Format(time.RFC3339),
		"tags": t.Tags, "custom_fields": t.CustomFields, "attachments": []any{},
	}
	if t.Type != "" {
		m["type"] = t.Type
	}
	if t.CustomFields == nil {
		m["custom_fields"] = map[string]any{}
	}
	if withDesc {
		m["description"] = t.Description
		m["description_text"] = stripHTML(t.Description)
	}
	return m
}

func convJSON(ticketID int64, c Conversation) map[string]any {
	return map[string]any{"id": c.ID, "body": c.Body, "body_text": stripHTML(c.Body), "incoming": c.Incoming,
		"private": c.Private, "user_id": c.UserID, "support_email": nil, "source": 2, "ticket_id": ticketID,
		"to_emails": []string{}, "from_email": nil, "cc_emails": nil, "bcc_emails": nil,
		"created_at": c.CreatedAt.UTC().Format(time.RFC3339), "updated_at": c.CreatedAt.UTC().Format(time.RFC3339),
		"attachments": []any{}}
}

func agentJSON(a Agent) map[string]any {
	return map[string]any{"id": a.ID, "ticket_scope": a.TicketScope, "group_ids": a.GroupIDs, "available": true,
		"occasional": false, "contact": map[string]any{"name": strings.Split(a.Email, "@")[0], "email": a.Email}}
}
