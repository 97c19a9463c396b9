package otobo

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/secret"
	"github.com/otai-dev/otai/ticket"
)

// ID is the registered id; the aliases are short forms.
const ID = "otobo-znuny:OTOBOZnunyTicketSystemService"

// Aliases of ID.
var Aliases = []string{"otobo:TicketSystem", "znuny:TicketSystem", "otrs:TicketSystem"}

// Auth modes.
const (
	AuthSession    = "session"     // SessionCreate once, re-create when the GI says AuthFail
	AuthPerRequest = "per_request" // UserLogin+Password in every request
)

// Params configure the adapter. Field tags drive config decoding, defaults,
// `otai schema` and secret handling.
type Params struct {
	BaseURL        string `yaml:"base_url" otai:"required" desc:"URL of nph-genericinterface.pl, e.g. https://helpdesk.example.com/otobo/nph-genericinterface.pl (a bare host gets /otobo/nph-genericinterface.pl appended; a URL already ending in /Webservice/<name> is used as is)."`
	WebserviceName string `yaml:"webservice_name" default:"GenericTicketConnectorREST" desc:"Name of the imported web service."`
	Username       string `yaml:"username" otai:"required" aliases:"user,user_login" desc:"Agent login otai acts as."`
	Password       string `yaml:"password" otai:"required,secret" desc:"Agent password; use ${{ secrets.NAME }}."`

	Auth         string            `yaml:"auth" default:"session" enum:"session,per_request" desc:"session: SessionCreate once and reuse the session (re-created when it expires); per_request: send UserLogin and Password with every request."`
	RoutePreset  string            `yaml:"route_preset" default:"classic" enum:"classic,znuny7,open-ticket-ai,custom" desc:"Route table of the web service: classic (GenericTicketConnectorREST.yml of OTOBO/Znuny/OTRS 6, search is GET /Ticket), znuny7 (Znuny 7.1+ template, search is POST /Ticket/Search), open-ticket-ai, or custom (classic plus the routes overrides)."`
	Routes       map[string]string `yaml:"routes" desc:"Per-operation route overrides, e.g. {TicketSearch: 'POST /Ticket/Search'}; an empty value removes a route."`
	Timeout      time.Duration     `yaml:"timeout" default:"30s" desc:"Timeout of one HTTP request."`
	TLSVerify    *bool             `yaml:"tls_verify" default:"true" desc:"Verify the server's TLS certificate. Turn off only for a test system."`
	TLSCAFile    string            `yaml:"tls_ca_file" desc:"PEM file with extra CA certificates (for a help desk behind an internal CA)."`
	TimeZone     string            `yaml:"time_zone" default:"UTC" desc:"Zone of the help desk's timestamps (OTOBO/Znuny write them without a zone), e.g. Europe/Berlin."`
	BatchSize    int               `yaml:"batch_size" default:"50" desc:"Tickets per TicketGet request when fetching search results."`
	Concurrency  int               `yaml:"concurrency" default:"4" desc:"TicketGet requests in flight at once."`
	ArticleLimit int               `yaml:"article_limit" default:"0" desc:"Articles fetched per ticket (oldest first); 0 means all. The first article is the ticket body."`
	NoteSubject  string            `yaml:"note_subject" default:"otai" desc:"Subject of the articles add_note creates."`
	// AllowPublicNotes lets a note with internal: false become visible to the
	// customer. Off by default: an AI note must never reach a customer by
	// accident.
	AllowPublicNotes bool `yaml:"allow_public_notes" desc:"Let notes with internal: false be visible to the customer (default: every note is internal)."`

	CreateDefaults CreateDefaults `yaml:"create_defaults" desc:"Values create_ticket uses when the new ticket leaves them empty."`

	// MaxRetries bounds retries of failed requests (idempotent ones on
	// timeouts, 429, 502-504; creates and notes only when provably not sent).
	MaxRetries int `yaml:"max_retries" default:"3" desc:"Retries of a failed request (reads and searches on timeouts and 502/503/504; writes that add an article only when the request provably never reached the server)."`

	// Transport replaces the HTTP transport (tests). Not configurable.
	Transport http.RoundTripper `yaml:"-"`
	// Metrics observes every HTTP attempt. Not configurable.
	Metrics httpx.Hook `yaml:"-"`
}

// CreateDefaults fill the fields TicketCreate requires.
type CreateDefaults struct {
	State        string `yaml:"state" default:"new"`
	Priority     string `yaml:"priority" default:"3 normal"`
	CustomerUser string `yaml:"customer_user" desc:"Customer user (login or e-mail) for tickets created without a customer."`
	Channel      string `yaml:"channel" default:"Phone" enum:"Email,Phone,Internal" desc:"Communication channel of the first article."`
}

func init() {
	registry.RegisterTicketSystem(registry.Info{
		ID:      ID,
		Aliases: Aliases,
		Summary: "OTOBO, Znuny and OTRS 6 through the GenericInterface REST web service (GenericTicketConnectorREST).",
		Description: "Import the standard GenericTicketConnectorREST.yml in the help desk, create an agent with rw on " +
			"the queues otai reads and routes into, and set base_url, username and password.",
	}, func(ctx context.Context, p *Params, env registry.Env) (ticket.System, error) {
		if p.Metrics == nil {
			p.Metrics = env.HTTPMetrics
		}
		return New(p, env.Logger)
	})
}

func (p *Params) withDefaults() Params {
	q := *p
	if q.WebserviceName == "" {
		q.WebserviceName = "GenericTicketConnectorREST"
	}
	if q.Auth == "" {
		q.Auth = AuthSession
	}
	if q.RoutePreset == "" {
		q.RoutePreset = PresetClassic
	}
	if q.MaxRetries == 0 {
		q.MaxRetries = 3
	}
	if q.MaxRetries < 0 {
		q.MaxRetries = 0
	}
	if q.Timeout <= 0 {
		q.Timeout = 30 * time.Second
	}
	if q.TimeZone == "" {
		q.TimeZone = "UTC"
	}
	if q.BatchSize <= 0 {
		q.BatchSize = 50
	}
	if q.Concurrency <= 0 {
		q.Concurrency = 4
	}
	if q.NoteSubject == "" {
		q.NoteSubject = "otai"
	}
	if q.CreateDefaults.State == "" {
		q.CreateDefaults.State = "new"
	}
	if q.CreateDefaults.Priority == "" {
		q.CreateDefaults.Priority = "3 normal"
	}
	if q.CreateDefaults.Channel == "" {
		q.CreateDefaults.Channel = "Phone"
	}
	return q
}

// webserviceURL builds .../nph-genericinterface.pl/Webservice/<name>.
func webserviceURL(base, name string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil {
		return "", fmt.Errorf("base_url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("base_url %q: want http(s)://host/.../nph-genericinterface.pl", base)
	}
	if u.User != nil {
		return "", fmt.Errorf("base_url: put credentials in username and password, not in the URL")
	}
	u.RawQuery, u.Fragment = "", ""
	p := strings.TrimRight(u.Path, "/")
	switch {
	case strings.Contains(p, "/Webservice/") || strings.Contains(p, "/WebserviceID/"):
		// complete already
	case strings.HasSuffix(p, "nph-genericinterface.pl"):
		p += "/Webservice/" + url.PathEscape(name)
	default:
		p += "/otobo/nph-genericinterface.pl/Webservice/" + url.PathEscape(name)
	}
	u.Path, u.RawPath = "", ""
	return strings.TrimRight(u.String(), "/") + p, nil
}

func newTransport(p Params, endpoint string, logger *slog.Logger) (*httpx.Client, error) {
	retries := p.MaxRetries
	if retries == 0 {
		retries = -1 // httpx: 0 means its default
	}
	return httpx.New(httpx.Options{
		BaseURL:            endpoint,
		Timeout:            p.Timeout,
		MaxRetries:         retries,
		InsecureSkipVerify: p.TLSVerify != nil && !*p.TLSVerify,
		CAFile:             p.TLSCAFile,
		Redact:             []string{p.Password},
		Metrics:            p.Metrics,
		Transport:          p.Transport,
		Logger:             logger,
	})
}

// New builds a client from params. It contacts nothing: the session is
// created on first use.
func New(params *Params, logger *slog.Logger) (*Client, error) {
	if params == nil {
		return nil, fmt.Errorf("otobo: no params")
	}
	p := params.withDefaults()
	if p.BaseURL == "" {
		return nil, fmt.Errorf("otobo: base_url is required")
	}
	if p.Username == "" || p.Password == "" {
		return nil, fmt.Errorf("otobo: username and password are required")
	}
	secret.Register(p.Password)
	ws, err := webserviceURL(p.BaseURL, p.WebserviceName)
	if err != nil {
		return nil, fmt.Errorf("otobo: %w", err)
	}
	if p.Auth != AuthSession && p.Auth != AuthPerRequest {
		return nil, fmt.Errorf("otobo: auth %q: use %s or %s", p.Auth, AuthSession, AuthPerRequest)
	}
	routes, err := buildRoutes(p.RoutePreset, p.Routes)
	if err != nil {
		return nil, fmt.Errorf("otobo: %w", err)
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("otobo: time_zone: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if _, ok := routes[OpSessionCreate]; !ok && p.Auth == AuthSession {
		// The Open Ticket AI layout has no session route: log in per request.
		logger.Info("web service has no SessionCreate route; sending UserLogin and Password with every request")
		p.Auth = AuthPerRequest
	}
	hc, err := newTransport(p, ws, logger)
	if err != nil {
		return nil, fmt.Errorf("otobo: %w", err)
	}
	return &Client{
		endpoint: ws, routes: routes, hc: hc, p: p, loc: loc,
		log: slog.New(secret.Handler(logger.Handler())).With("ticket_system", "otobo"),
	}, nil
}
