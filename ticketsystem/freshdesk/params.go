// Package freshdesk is otai's adapter for Freshdesk API v2
// (https://<domain>.freshdesk.com/api/v2). It registers as
// freshdesk:FreshdeskTicketSystemService (alias freshdesk:FreshdeskAdapter).
//
// Mapping: queue = group (group_id, names from GET /groups), priority =
// 1 Low, 2 Medium, 3 High, 4 Urgent, state = status 2 Open, 3 Pending,
// 4 Resolved, 5 Closed (custom statuses by id), type = the ticket type
// string, owner = responder_id, customer = requester_id, custom fields =
// custom_fields (cf_*). Notes are private unless allow_public_notes is set.
package freshdesk

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
const ID = "freshdesk:FreshdeskTicketSystemService"

// Aliases of ID.
var Aliases = []string{"freshdesk:FreshdeskAdapter"}

// Params configure the adapter.
type Params struct {
	Domain  string `yaml:"domain" aliases:"freshdesk_domain" desc:"Your Freshdesk subdomain: acme for https://acme.freshdesk.com (a full acme.freshdesk.com is accepted too). Required unless base_url is set."`
	APIKey  string `yaml:"api_key" aliases:"freshdesk_api_key" otai:"required,secret" desc:"API key of the agent otai acts as (Profile settings -> View API key); use ${{ secrets.NAME }}."`
	BaseURL string `yaml:"base_url" desc:"Override of https://<domain>.freshdesk.com/api/v2, for a proxy or a test server."`

	Timeout           time.Duration `yaml:"timeout" default:"30s" desc:"Timeout of one HTTP request."`
	MaxRetries        int           `yaml:"max_retries" default:"4" desc:"Retries after the first attempt on connection errors, 429, 502, 503 and 504 (never for a note or ticket that may already exist)."`
	RequestsPerMinute float64       `yaml:"requests_per_minute" default:"0" desc:"Client-side limit of API calls per minute; 0 learns it from X-RateLimit-Total (your plan's limit, kept 5% below). Set it lower when other integrations share the account's budget."`
	AllowPublicNotes  bool          `yaml:"allow_public_notes" desc:"Let notes with internal: false be public (visible to the requester). Off: every note otai writes is private."`
	DefaultRequester  string        `yaml:"default_requester_email" desc:"Requester e-mail create_ticket uses when the new ticket has no customer."`
	SearchPages       int           `yaml:"search_pages" default:"10" desc:"Most pages of 30 the search API is asked for (Freshdesk stops at 10)."`
	FindVia           string        `yaml:"find_via" default:"auto" enum:"auto,list,search" desc:"How find_tickets reads: list (GET /tickets, 100 per call with descriptions, filters applied by otai), search (the query language: filtered by Freshdesk, at most 300 hits, one extra call per hit for its description), or auto (search when filtering by queue, state or owner and limit+offset <= 300)."`

	// HTTP overrides transport options (tests, benchmarks). Not configurable.
	HTTP *httpx.Options `yaml:"-"`
}

func init() {
	registry.RegisterTicketSystem(registry.Info{
		ID:      ID,
		Aliases: Aliases,
		Summary: "Freshdesk (API v2): tickets, groups, priorities, statuses, private notes.",
		Description: "Set domain and api_key (an agent's API key). otai moves tickets between groups, sets priority, " +
			"status, type, tags and cf_ custom fields, and adds private notes.",
	}, func(ctx context.Context, p *Params, env registry.Env) (ticket.System, error) {
		if p.HTTP == nil && env.HTTPMetrics != nil {
			p.HTTP = &httpx.Options{Metrics: env.HTTPMetrics}
		}
		return New(p, env.Logger)
	})
}

// New builds a Client from params.
func New(p *Params, log *slog.Logger) (*Client, error) {
	base := strings.TrimRight(p.BaseURL, "/")
	if base == "" {
		d := strings.TrimSpace(p.Domain)
		d = strings.TrimPrefix(strings.TrimPrefix(d, "https://"), "http://")
		d = strings.TrimSuffix(strings.TrimRight(d, "/"), ".freshdesk.com")
		if d == "" {
			return nil, fmt.Errorf("freshdesk: set domain (acme for acme.freshdesk.com) or base_url")
		}
		if strings.ContainsAny(d, "/.:@") {
			return nil, fmt.Errorf("freshdesk: domain %q must be the subdomain only, e.g. acme for acme.freshdesk.com", d)
		}
		base = "https://" + d + ".freshdesk.com/api/v2"
	}
	if p.APIKey == "" {
		return nil, fmt.Errorf("freshdesk: api_key is required")
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
	if o.RatePerMinute == 0 {
		o.RatePerMinute = p.RequestsPerMinute
	}
	o.LearnRateLimit = true
	o.Auth = httpx.BasicAuth(p.APIKey, "X")
	o.Redact = append(o.Redact, p.APIKey)
	if o.Logger == nil {
		o.Logger = log
	}
	if o.UserAgent == "" {
		o.UserAgent = "otai-freshdesk"
	}
	hc, err := httpx.New(o)
	if err != nil {
		return nil, fmt.Errorf("freshdesk: %w", err)
	}
	pages := p.SearchPages
	if pages <= 0 || pages > 10 {
		pages = 10
	}
	return &Client{http: hc, log: log, allowPublic: p.AllowPublicNotes, defaultRequester: p.DefaultRequester,
		searchPages: pages, findVia: p.FindVia}, nil
}
