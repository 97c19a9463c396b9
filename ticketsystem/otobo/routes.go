package otobo

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// GI operation names, as the web service YAML names them.
const (
	OpSessionCreate    = "SessionCreate"
	OpSessionGet       = "SessionGet"
	OpSessionDelete    = "SessionDelete"
	OpTicketCreate     = "TicketCreate"
	OpTicketGet        = "TicketGet"
	OpTicketGetList    = "TicketGetList"
	OpTicketSearch     = "TicketSearch"
	OpTicketUpdate     = "TicketUpdate"
	OpTicketHistoryGet = "TicketHistoryGet"
)

// Route is one operation's HTTP method and path template below
// .../Webservice/<name>; ":Name" segments are filled from the request data.
type Route struct {
	Method string
	Path   string
}

func (r Route) String() string { return r.Method + " " + r.Path }

// Routes maps operation names to routes.
type Routes map[string]Route

// Route presets (see docs/ticket-systems/otobo-znuny.md).
const (
	// PresetClassic is development/webservices/GenericTicketConnectorREST.yml
	// as OTOBO 10/11, Znuny and OTRS 6 ship it: search is GET /Ticket, so
	// dynamic-field filters cannot be sent.
	PresetClassic = "classic"
	// PresetZnuny7 is Znuny 7.1+'s Ready2Adopt GenericTicketConnectorREST.yml:
	// search is POST /Ticket/Search with a JSON body.
	PresetZnuny7 = "znuny7"
	// PresetOpenTicketAI is the layout the Python Open Ticket AI generates.
	PresetOpenTicketAI = "open-ticket-ai"
	// PresetCustom starts from classic; every operation can be overridden
	// with the routes param.
	PresetCustom = "custom"
)

var presets = map[string]Routes{
	PresetClassic: {
		OpSessionCreate:    {http.MethodPost, "/Session"},
		OpSessionGet:       {http.MethodGet, "/Session/:SessionID"},
		OpTicketCreate:     {http.MethodPost, "/Ticket"},
		OpTicketGet:        {http.MethodGet, "/Ticket/:TicketID"},
		OpTicketGetList:    {http.MethodGet, "/TicketList"},
		OpTicketHistoryGet: {http.MethodGet, "/TicketHistory/:TicketID"},
		OpTicketSearch:     {http.MethodGet, "/Ticket"},
		OpTicketUpdate:     {http.MethodPatch, "/Ticket/:TicketID"},
	},
	PresetZnuny7: {
		OpSessionCreate:    {http.MethodPost, "/Session"},
		OpSessionDelete:    {http.MethodDelete, "/Session/:SessionID"},
		OpSessionGet:       {http.MethodGet, "/Session/:SessionID"},
		OpTicketCreate:     {http.MethodPost, "/Ticket"},
		OpTicketGet:        {http.MethodGet, "/Ticket/:TicketID"},
		OpTicketHistoryGet: {http.MethodGet, "/Ticket/History/:TicketID"},
		OpTicketSearch:     {http.MethodPost, "/Ticket/Search"},
		OpTicketUpdate:     {http.MethodPatch, "/Ticket/:TicketID"},
	},
	PresetOpenTicketAI: {
		OpTicketCreate: {http.MethodPost, "/ticket-create"},
		OpTicketGet:    {http.MethodPost, "/ticket-get"},
		OpTicketSearch: {http.MethodPost, "/ticket-search"},
		OpTicketUpdate: {http.MethodPut, "/ticket-update"},
	},
}

// Preset returns a copy of a named route preset.
func Preset(name string) (Routes, bool) {
	if name == PresetCustom {
		name = PresetClassic
	}
	r, ok := presets[strings.ToLower(strings.TrimSpace(name))]
	return maps.Clone(r), ok
}

// ParseRoute parses "PATCH /Ticket/:TicketID" (the method defaults to GET
// for a bare path).
func ParseRoute(s string) (Route, error) {
	s = strings.TrimSpace(s)
	method, path, ok := strings.Cut(s, " ")
	if !ok {
		method, path = http.MethodGet, s
	}
	method = strings.ToUpper(strings.TrimSpace(method))
	path = strings.TrimSpace(path)
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return Route{}, fmt.Errorf("route %q: method %q is not one of GET, POST, PUT, PATCH, DELETE", s, method)
	}
	if !strings.HasPrefix(path, "/") {
		return Route{}, fmt.Errorf("route %q: the path must start with /", s)
	}
	return Route{method, path}, nil
}

// buildRoutes resolves the preset and applies per-operation overrides.
func buildRoutes(preset string, overrides map[string]string) (Routes, error) {
	if preset == "" {
		preset = PresetClassic
	}
	rs, ok := Preset(preset)
	if !ok {
		return nil, fmt.Errorf("route_preset %q: use %s, %s, %s or %s", preset,
			PresetClassic, PresetZnuny7, PresetOpenTicketAI, PresetCustom)
	}
	known := []string{OpSessionCreate, OpSessionGet, OpSessionDelete, OpTicketCreate, OpTicketGet,
		OpTicketGetList, OpTicketSearch, OpTicketUpdate, OpTicketHistoryGet}
	for _, op := range slices.Sorted(maps.Keys(overrides)) {
		if !slices.Contains(known, op) {
			return nil, fmt.Errorf("routes: unknown operation %q (known: %s)", op, strings.Join(known, ", "))
		}
		v := strings.TrimSpace(overrides[op])
		if v == "" || v == "-" {
			delete(rs, op)
			continue
		}
		r, err := ParseRoute(v)
		if err != nil {
			return nil, fmt.Errorf("routes.%s: %w", op, err)
		}
		rs[op] = r
	}
	for _, op := range []string{OpTicketCreate, OpTicketGet, OpTicketSearch, OpTicketUpdate} {
		if _, ok := rs[op]; !ok {
			return nil, fmt.Errorf("routes: operation %s needs a route", op)
		}
	}
	return rs, nil
}

var paramRe = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// expand fills the route's :Params from data (removing them from data) and
// returns the path, unescaped (httpx escapes it). Values that would change
// the path's shape are refused.
func (r Route) expand(data map[string]any) (string, error) {
	var missing string
	p := paramRe.ReplaceAllStringFunc(r.Path, func(m string) string {
		name := m[1:]
		v, ok := data[name]
		if !ok {
			missing = name
			return m
		}
		delete(data, name)
		s := scalar(v)
		if s == "" || strings.ContainsAny(s, "/?#%") {
			missing = name + " (got an unusable value)"
			return m
		}
		return s
	})
	if missing != "" {
		return "", fmt.Errorf("route %s needs %s", r, missing)
	}
	return p, nil
}

// MatchRoute finds the operation a request to path (below the web service)
// with method resolves to, the way the GI provider does it: operations in
// alphabetical order, method filter, anchored match, first wins.
func MatchRoute(rs Routes, method, path string) (op string, params map[string]string, ok bool) {
	for _, name := range slices.Sorted(maps.Keys(rs)) {
		r := rs[name]
		if r.Method != "" && !strings.EqualFold(r.Method, method) {
			continue
		}
		re := "^" + paramRe.ReplaceAllStringFunc(regexp.QuoteMeta(r.Path), func(string) string { return `([^/]+)` }) + "$"
		// QuoteMeta does not touch ':' or letters, so the replacement sees
		// the original :Param names.
		m := regexp.MustCompile(re).FindStringSubmatch(path)
		if m == nil {
			continue
		}
		params = map[string]string{}
		for i, n := range paramRe.FindAllStringSubmatch(r.Path, -1) {
			v, err := url.PathUnescape(m[i+1])
			if err != nil {
				v = m[i+1]
			}
			params[n[1]] = v
		}
		return name, params, true
	}
	return "", nil, false
}
