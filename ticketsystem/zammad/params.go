// Package zammad is otai's adapter for the Zammad REST API
// (https://<host>/api/v1). It registers as zammad:ZammadTicketSystemService.
//
// Mapping: queue = group, priority = ticket priority ("1 low", "2 normal",
// "3 high"), state = ticket state ("new", "open", ...), owner = owner
// (login), customer = customer, type = the ticket's type attribute, tags =
// Zammad tags, custom fields = custom object attributes (extra top-level
// keys). Notes are internal articles of type note unless
// allow_public_notes is set and the note asks to be public.
package zammad

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
)

// ID is the registered id.
const ID = "zammad:ZammadTicketSystemService"

// Aliases of ID.
var Aliases = []string{"zammad:ZammadAdapter"}

// Params configure the adapter.
type Params struct {
	BaseURL  string `yaml:"base_url" otai:"required" desc:"Zammad URL, e.g. https://zammad.example.com (/api/v1 is appended unless present)."`
	Token    string `yaml:"token" otai:"secret" aliases:"api_token,access_token" desc:"Personal access token (Profile -> Token Access) with ticket.agent; use ${{ secrets.NAME }}. Either token or username and password."`
	Username string `yaml:"username" aliases:"user" desc:"Agent login for HTTP Basic auth (when no token is set)."`
	Password string `yaml:"password" otai:"secret" desc:"Agent password for HTTP Basic auth."`

	Timeout          time.Duration `yaml:"timeout" default:"30s" desc:"Timeout of one HTTP request."`
	MaxRetries       int           `yaml:"max_retries" default:"4" desc:"Retries after the first attempt on connection errors, 429, 502, 503 and 504 (never for an article that may already exist)."`
	TLSVerify        *bool         `yaml:"tls_verify" default:"true" desc:"Verify the server's TLS certificate. Turn off only for a test system."`
	TLSCAFile        string        `yaml:"tls_ca_file" desc:"PEM file with extra CA certificates."`
	AllowPublicNotes bool          `yaml:"allow_public_notes" desc:"Let notes with internal: false be visible to the customer. Off: every article otai writes is internal."`
	NoteSubject      string        `yaml:"note_subject" default:"otai" desc:"Subject of the articles add_note creates."`
	DefaultCustomer  string        `yaml:"default_customer" desc:"Customer (e-mail) create_ticket uses when the new ticket has none."`
	LegacySearch     bool          `yaml:"legacy_search" desc:"Write search queries for Zammad <= 3.6 (state:open instead of state.name:open)."`

	// HTTP overrides transport options (tests). Not configurable.
	HTTP *httpx.Options `yaml:"-"`
}

func init() {
	registry.RegisterTicketSystem(registry.Info{
		ID:      ID,
		Aliases: Aliases,
		Summary: "Zammad (REST API v1): tickets, groups, states, priorities, tags, internal notes.",
		Description: "Set base_url and a token (or username and password) of an agent with ticket.agent on the groups " +
			"otai reads and routes into.",
	}, func(ctx context.Context, p *Params, env registry.Env) (ticket.System, error) {
		if p.HTTP == nil && env.HTTPMetrics != nil {
			p.HTTP = &httpx.Options{Metrics: env.HTTPMetrics}
		}
		return New(p, env.Logger)
	})
}

// New builds a Client from params.
func New(p *Params, log *slog.Logger) (*Client, error) {
	base := strings.TrimRight(strings.TrimSpace(p.BaseURL), "/")
	if base == "" {
		return nil, fmt.Errorf("zammad: base_url is required")
	}
	if !strings.HasSuffix(base, "/api/v1") {
		base += "/api/v1"
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := httpx.Options{}
	if p.HTTP != nil {
		o = *p.HTTP
	}
	o.BaseURL = base
	if o.Timeout == 0 {
		o.Timeout = p.Timeout
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = p.MaxRetries
	}
	if p.TLSVerify != nil && !*p.TLSVerify {
		o.InsecureSkipVerify = true
	}
	if o.CAFile == "" {
		o.CAFile = p.TLSCAFile
	}
	switch {
	case p.Token != "":
		o.Auth = httpx.HeaderAuth("Authorization", "Token token="+p.Token)
		o.Redact = append(o.Redact, p.Token)
	case p.Username != "" && p.Password != "":
		o.Auth = httpx.BasicAuth(p.Username, p.Password)
		o.Redact = append(o.Redact, p.Password)
	default:
		return nil, fmt.Errorf("zammad: set token, or username and password")
	}
	if o.Logger == nil {
		o.Logger = log
	}
	if o.UserAgent == "" {
		o.UserAgent = "otai-zammad"
	}
	hc, err := httpx.New(o)
	if err != nil {
		return nil, fmt.Errorf("zammad: %w", err)
	}
	subj := p.NoteSubject
	if subj == "" {
		subj = "otai"
	}
	return &Client{http: hc, log: log, allowPublic: p.AllowPublicNotes, noteSubject: subj,
		defaultCustomer: p.DefaultCustomer, legacy: p.LegacySearch}, nil
}
