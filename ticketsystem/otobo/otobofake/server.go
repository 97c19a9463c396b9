// Package otobofake is an in-memory OTOBO/Znuny/OTRS GenericInterface
// (GenericTicketConnectorREST) server for tests. It answers like the OTRS 6
// recordings in the shared fixtures: business errors as HTTP 200 with an
// Error object, transport errors as HTTP 500 text/plain, numbers and strings
// mixed the way the real server mixes them, {} for a search without results,
// and TicketGet.AccessDenied for a ticket that does not exist.
//
//	srv := otobofake.New(otobofake.Options{})
//	defer srv.Close()
//	id := srv.AddTicket(otobofake.Ticket{Title: "Printer jams", Queue: "Raw", Body: "..."})
//	// configure the adapter with base_url: srv.BaseURL, username/password: srv.Login()
package otobofake

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Route presets the fake serves.
const (
	PresetClassic = "classic" // GenericTicketConnectorREST.yml of OTOBO, Znuny and OTRS 6
	PresetZnuny7  = "znuny7"  // Znuny 7.1+ Ready2Adopt template: POST /Ticket/Search
)

// Default credentials of the agent every server has.
const (
	DefaultAgent    = "otai-agent"
	DefaultPassword = "otai-agent-password"
)

// Options configure a Server. The zero value serves the classic preset under
// /otobo/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST.
type Options struct {
	Preset         string        // PresetClassic (default) or PresetZnuny7
	Prefix         string        // default "/otobo/nph-genericinterface.pl"
	WebserviceName string        // default "GenericTicketConnectorREST"
	StringIDs      bool          // TicketGet emits ids as strings (a MySQL-backed server); default numbers, as recorded
	Latency        time.Duration // added to every request
	SessionTTL     time.Duration // 0: sessions last until ExpireSessions
	Location       *time.Location
	Now            func() time.Time
	// NoRequestLog keeps Requests() empty (Calls still counts): for long
	// runs whose requests would fill memory.
	NoRequestLog bool
}

// Ticket is a ticket as the fake stores it. AddTicket fills empty fields
// with defaults (queue Raw, state new, priority 3 normal, type
// Unclassified, owner root@localhost, customer customer1).
type Ticket struct {
	ID            string
	Number        string
	Title         string
	Queue         string
	State         string
	Priority      string
	Type          string
	Owner         string
	CustomerUser  string
	Created       time.Time
	Changed       time.Time
	DynamicFields map[string]any // string or []string
	// Body is the first article's body for AddTicket (ignored if Articles is set).
	Body     string
	Articles []Article
}

// Article is one article of a ticket.
type Article struct {
	ID                   string
	Channel              string // Email, Phone, Internal
	SenderType           string // agent, system, customer
	IsVisibleForCustomer bool
	From                 string
	Subject              string
	Body                 string
	ContentType          string
	Created              time.Time
}

// Request is what a Hook sees: the resolved operation and the merged request
// data (query, path params and JSON body, as the GI merges them).
type Request struct {
	Operation string
	Method    string
	Path      string // below the web service, e.g. /Ticket/42
	Data      map[string]any
	Header    http.Header
	// Tag is free for hooks: a Hook may set it, and the After hooks of the
	// same request see it (say, a fault decided before the operation and
	// applied after it).
	Tag any
}

// Reply is a raw HTTP answer a Hook returns instead of the normal one.
// Hang, Reset and CutAt make it a transport fault.
type Reply struct {
	Status      int
	ContentType string
	Body        string
	Header      http.Header
	// Hang delays the answer by this long, or until the client gives up
	// (then nothing is sent): a timeout when it is longer than the
	// client's.
	Hang time.Duration
	// Reset closes the connection without an answer (a TCP RST), after
	// Hang.
	Reset bool
	// CutAt > 0 sends the headers with Body's full Content-Length and only
	// the first CutAt bytes of Body, then drops the connection.
	CutAt int
}

// Hook runs for every routed request before authentication. Returning a
// non-nil Reply answers the request with it.
type Hook func(r *Request) *Reply

// After runs for every routed request that reached its operation, after
// the operation took effect (a ticket updated, an article stored), with
// the reply the fake would send. Returning a non-nil Reply sends that
// instead: the effect stays, the client sees a failure.
type After func(r *Request, rep *Reply) *Reply

// Fault is the GI's operation failure: HTTP 500, text/plain, JSON body.
func Fault(msg string) *Reply {
	b, _ := json.Marshal(map[string]string{"faultcode": "Server", "faultstring": msg})
	return &Reply{Status: 500, ContentType: "text/plain; charset=UTF-8", Body: string(b)}
}

// GIError is a business error as the GI sends it: HTTP 200 with an Error object.
func GIError(code, msg string) *Reply {
	b, _ := json.Marshal(map[string]any{"Error": map[string]string{"ErrorCode": code, "ErrorMessage": msg}})
	return &Reply{Status: 200, ContentType: "application/json; charset=UTF-8", Body: string(b)}
}

type entity struct {
	id   int
	name string
	typ  string // state type for states
}

type session struct {
	login   string
	created time.Time
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	// BaseURL is the value for the adapter's base_url
	// (http://127.0.0.1:port/otobo/nph-genericinterface.pl).
	BaseURL string
	// WebserviceURL is BaseURL/Webservice/<name>.
	WebserviceURL string

	srv    *httptest.Server
	opts   Options
	routes map[string]route

	mu         sync.Mutex
	latency    time.Duration
	hooks      []Hook
	after      []After
	agents     map[string]string // login -> password
	agentIDs   map[string]int
	perms      map[string]map[string]map[string]bool // login -> queue -> perm -> ok (absent login/queue: all)
	queues     []entity
	states     []entity
	priorities []entity
	types      []entity
	dynFields  []string
	sessions   map[string]session
	tickets    map[int]*Ticket
	nextTicket int
	nextArt    int
	requests   []Request
	calls      map[string]int
}

// New starts a fake server. Close it when done.
func New(opts Options) *Server {
	if opts.Preset == "" {
		opts.Preset = PresetClassic
	}
	if opts.Prefix == "" {
		opts.Prefix = "/otobo/nph-genericinterface.pl"
	}
	opts.Prefix = "/" + strings.Trim(opts.Prefix, "/")
	if opts.WebserviceName == "" {
		opts.WebserviceName = "GenericTicketConnectorREST"
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	rt, ok := presets[opts.Preset]
	if !ok {
		panic("otobofake: unknown preset " + opts.Preset)
	}
	s := &Server{
		opts: opts, routes: rt, latency: opts.Latency,
		agents:   map[string]string{DefaultAgent: DefaultPassword},
		agentIDs: map[string]int{"root@localhost": 1, DefaultAgent: 2},
		perms:    map[string]map[string]map[string]bool{},
		queues:   []entity{{1, "Postmaster", ""}, {2, "Raw", ""}, {3, "Junk", ""}, {4, "Misc", ""}},
		states: []entity{{1, "new", "new"}, {2, "closed successful", "closed"}, {3, "closed unsuccessful", "closed"},
			{4, "open", "open"}, {5, "removed", "removed"}, {6, "pending reminder", "pending reminder"},
			{7, "pending auto close+", "pending auto"}, {8, "pending auto close-", "pending auto"}, {9, "merged", "merged"}},
		priorities: []entity{{1, "1 very low", ""}, {2, "2 low", ""}, {3, "3 normal", ""}, {4, "4 high", ""}, {5, "5 very high", ""}},
		types:      []entity{{1, "Unclassified", ""}},
		dynFields:  []string{"ProcessManagementActivityID", "ProcessManagementProcessID"},
		sessions:   map[string]session{},
		tickets:    map[int]*Ticket{},
		nextTicket: 1, nextArt: 1,
		calls: map[string]int{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.BaseURL = s.srv.URL + opts.Prefix
	s.WebserviceURL = s.BaseURL + "/Webservice/" + opts.WebserviceName
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Login returns the default agent's credentials.
func (s *Server) Login() (user, password string) { return DefaultAgent, DefaultPassword }

// SetLatency sets the delay added to every request.
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.latency = d; s.mu.Unlock() }

// Use adds a per-request hook.
func (s *Server) Use(h Hook) { s.mu.Lock(); s.hooks = append(s.hooks, h); s.mu.Unlock() }

// UseAfter adds a hook that runs after each operation took effect.
func (s *Server) UseAfter(h After) { s.mu.Lock(); s.after = append(s.after, h); s.mu.Unlock() }

// AddAgent adds (or changes the password of) an agent.
func (s *Server) AddAgent(login, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.agents[login] = password
	if _, ok := s.agentIDs[login]; !ok {
		s.agentIDs[login] = len(s.agentIDs) + 1
	}
}

// Permissions an agent can hold on a queue. TicketUpdate checks PermMove
// on the queue the ticket is in when the request sets a queue (as the real
// GI's TicketPermission(Type => 'move', TicketID => ...) does); nothing is
// checked on the target queue. PermMoveInto is the agent interface's
// permission for moving into a queue, which the GI does not check.
const (
	PermRO       = "ro"
	PermMove     = "move"
	PermMoveInto = "move_into"
	PermCreate   = "create"
	PermNote     = "note"
	PermOwner    = "owner"
	PermPriority = "priority"
	PermRW       = "rw" // all of the above
)

// SetPermissions restricts login on queue to perms (none: no access). Queues
// without a setting give full access.
func (s *Server) SetPermissions(login, queue string, perms ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perms[login] == nil {
		s.perms[login] = map[string]map[string]bool{}
	}
	m := map[string]bool{}
	for _, p := range perms {
		m[p] = true
	}
	s.perms[login][queue] = m
}

func (s *Server) may(login, queue, perm string) bool {
	q, ok := s.perms[login]
	if !ok {
		return true
	}
	p, ok := q[queue]
	if !ok {
		return true
	}
	return p[PermRW] || p[perm]
}

// AddQueue adds a queue and returns its id.
func (s *Server) AddQueue(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := find(s.queues, name, ""); ok {
		return fmt.Sprint(e.id)
	}
	id := len(s.queues) + 1
	s.queues = append(s.queues, entity{id, name, ""})
	return fmt.Sprint(id)
}

// AddDynamicField defines a ticket dynamic field.
func (s *Server) AddDynamicField(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.dynFields, name) {
		s.dynFields = append(s.dynFields, name)
	}
}

// AddTicket stores t (with defaults for empty fields, creating an unknown
// queue) and returns its id.
func (s *Server) AddTicket(t Ticket) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now().Truncate(time.Second)
	t.Queue = orDefault(t.Queue, "Raw")
	if _, ok := find(s.queues, t.Queue, ""); !ok {
		s.queues = append(s.queues, entity{len(s.queues) + 1, t.Queue, ""})
	}
	t.State = orDefault(t.State, "new")
	t.Priority = orDefault(t.Priority, "3 normal")
	t.Type = orDefault(t.Type, "Unclassified")
	t.Owner = orDefault(t.Owner, "root@localhost")
	t.CustomerUser = orDefault(t.CustomerUser, "customer1")
	if t.Created.IsZero() {
		t.Created = now
	}
	if t.Changed.IsZero() {
		t.Changed = t.Created
	}
	if len(t.Articles) == 0 {
		t.Articles = []Article{{Channel: "Email", SenderType: "customer", IsVisibleForCustomer: true,
			From: t.CustomerUser, Subject: t.Title, Body: t.Body, ContentType: "text/plain; charset=utf8"}}
	}
	t.Articles = slices.Clone(t.Articles)
	for i := range t.Articles {
		a := &t.Articles[i]
		a.ID = fmt.Sprint(s.nextArt)
		s.nextArt++
		if a.Created.IsZero() {
			a.Created = t.Created
		}
		a.Channel = orDefault(a.Channel, "Email")
		a.SenderType = orDefault(a.SenderType, "customer")
		a.ContentType = orDefault(a.ContentType, "text/plain; charset=utf8")
	}
	t.DynamicFields = maps.Clone(t.DynamicFields)
	id := s.nextTicket
	s.nextTicket++
	t.ID = fmt.Sprint(id)
	if t.Number == "" {
		t.Number = fmt.Sprintf("%s10%06d", t.Created.In(s.opts.Location).Format("20060102"), id)
	}
	s.tickets[id] = &t
	return t.ID
}

// Ticket returns a copy of ticket id.
func (s *Server) Ticket(id string) (Ticket, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int
	if _, err := fmt.Sscan(id, &n); err != nil {
		return Ticket{}, false
	}
	t, ok := s.tickets[n]
	if !ok {
		return Ticket{}, false
	}
	return cloneTicket(t), true
}

// Tickets returns copies of all tickets, by id.
func (s *Server) Tickets() []Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Ticket, 0, len(s.tickets))
	for _, id := range slices.Sorted(maps.Keys(s.tickets)) {
		out = append(out, cloneTicket(s.tickets[id]))
	}
	return out
}

func cloneTicket(t *Ticket) Ticket {
	c := *t
	c.Articles = slices.Clone(t.Articles)
	c.DynamicFields = maps.Clone(t.DynamicFields)
	return c
}

// ExpireSessions invalidates every session, as an expired SessionMaxTime would.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	clear(s.sessions)
	s.mu.Unlock()
}

// Calls returns how many requests reached operation op ("" for all routed
// requests).
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op == "" {
		n := 0
		for _, v := range s.calls {
			n += v
		}
		return n
	}
	return s.calls[op]
}

// Requests returns the routed requests so far, oldest first (none with
// Options.NoRequestLog).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func find(es []entity, name, id string) (entity, bool) {
	for _, e := range es {
		if (id != "" && fmt.Sprint(e.id) == id) || (id == "" && name != "" && e.name == name) {
			return e, true
		}
	}
	return entity{}, false
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func newSessionID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

type route struct {
	method string
	path   string
	re     *regexp.Regexp
	params []string
}

func mkRoutes(m map[string][2]string) map[string]route {
	out := map[string]route{}
	pr := regexp.MustCompile(`:([A-Za-z0-9_]+)`)
	for op, mp := range m {
		var params []string
		for _, p := range pr.FindAllStringSubmatch(mp[1], -1) {
			params = append(params, p[1])
		}
		re := "^" + pr.ReplaceAllString(regexp.QuoteMeta(mp[1]), `([^/]+)`) + "$"
		out[op] = route{mp[0], mp[1], regexp.MustCompile(re), params}
	}
	return out
}

var presets = map[string]map[string]route{
	PresetClassic: mkRoutes(map[string][2]string{
		"SessionCreate":    {"POST", "/Session"},
		"SessionGet":       {"GET", "/Session/:SessionID"},
		"TicketCreate":     {"POST", "/Ticket"},
		"TicketGet":        {"GET", "/Ticket/:TicketID"},
		"TicketGetList":    {"GET", "/TicketList"},
		"TicketHistoryGet": {"GET", "/TicketHistory/:TicketID"},
		"TicketSearch":     {"GET", "/Ticket"},
		"TicketUpdate":     {"PATCH", "/Ticket/:TicketID"},
	}),
	PresetZnuny7: mkRoutes(map[string][2]string{
		"SessionCreate":    {"POST", "/Session"},
		"SessionDelete":    {"DELETE", "/Session/:SessionID"},
		"SessionGet":       {"GET", "/Session/:SessionID"},
		"TicketCreate":     {"POST", "/Ticket"},
		"TicketGet":        {"GET", "/Ticket/:TicketID"},
		"TicketHistoryGet": {"GET", "/Ticket/History/:TicketID"},
		"TicketSearch":     {"POST", "/Ticket/Search"},
		"TicketUpdate":     {"PATCH", "/Ticket/:TicketID"},
	}),
}
