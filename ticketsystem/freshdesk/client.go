package freshdesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/ticket"
)

// Client is a Freshdesk ticket system. It is safe for concurrent use.
type Client struct {
	http             *httpx.Client
	log              *slog.Logger
	allowPublic      bool
	defaultRequester string
	searchPages      int
	findVia          string

	mu     sync.Mutex
	groups map[int64]string // id -> name, nil until loaded
}

var (
	_ ticket.System  = (*Client)(nil)
	_ ticket.Checker = (*Client)(nil)
)

// get GETs path and decodes into out; the Response is returned for headers.
func (c *Client) get(ctx context.Context, op, path string, q url.Values, out any) (*httpx.Response, error) {
	resp, err := c.http.JSON(ctx, http.MethodGet, path, q, nil, out, httpx.Idempotent)
	if err != nil {
		return resp, mapError(op, err)
	}
	return resp, nil
}

// mapError turns an httpx error into a *ticket.Error, reading Freshdesk's
// {description, errors[]} or {code, message} body.
func mapError(op string, err error) error {
	var he *httpx.Error
	if !errors.As(err, &he) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var code, msg, field string
	if he.Status != 0 && len(he.Body) > 0 {
		var ae APIError
		if json.Unmarshal(he.Body, &ae) == nil {
			code, msg = ae.Code, ae.Message
			if ae.Description != "" {
				msg = ae.Description
			}
			if len(ae.Errors) > 0 {
				var parts []string
				for _, fe := range ae.Errors {
					parts = append(parts, strings.TrimSpace(fe.Field+" "+fe.Message))
				}
				field, code = ae.Errors[0].Field, ae.Errors[0].Code
				msg = strings.TrimSpace(msg + ": " + strings.Join(parts, "; "))
			}
		}
	}
	if he.Status == http.StatusNotFound && msg == "" {
		msg = "no such ticket or resource"
	}
	return httpx.TicketError(op, err, code, msg, field)
}

// groupNames returns the group id -> name map, loading GET /groups once.
func (c *Client) groupNames(ctx context.Context) (map[int64]string, error) {
	c.mu.Lock()
	g := c.groups
	c.mu.Unlock()
	if g != nil {
		return g, nil
	}
	g = map[int64]string{}
	next := "/groups"
	q := url.Values{"per_page": {"100"}}
	for next != "" {
		var page []Group
		resp, err := c.get(ctx, "listing groups", next, q, &page)
		if err != nil {
			return nil, err
		}
		for _, x := range page {
			g[x.ID] = x.Name
		}
		next, q = nextLink(resp.Header), nil
	}
	c.mu.Lock()
	c.groups = g
	c.mu.Unlock()
	return g, nil
}

// groupNamesOrNil is groupNames for reads: a failure only loses the names.
func (c *Client) groupNamesOrNil(ctx context.Context) map[int64]string {
	g, err := c.groupNames(ctx)
	if err != nil {
		c.log.LogAttrs(ctx, slog.LevelDebug, "freshdesk: group names unavailable", slog.String("error", err.Error()))
	}
	return g
}

// resolveGroup finds a group id by id or (case-insensitive) name.
func (c *Client) resolveGroup(ctx context.Context, op string, e ticket.Entity) (int64, error) {
	if id, err := strconv.ParseInt(strings.TrimSpace(e.ID), 10, 64); err == nil {
		return id, nil
	}
	g, err := c.groupNames(ctx)
	if err != nil {
		return 0, err
	}
	for id, name := range g {
		if strings.EqualFold(name, strings.TrimSpace(e.Name)) {
			return id, nil
		}
	}
	return 0, &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "group", Message: fmt.Sprintf("no group named %q", e.String())}
}

// resolveAgent finds an agent id by id or e-mail.
func (c *Client) resolveAgent(ctx context.Context, op string, e ticket.Entity) (int64, error) {
	for _, s := range []string{e.ID, e.Name} {
		if id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			return id, nil
		}
	}
	if strings.Contains(e.Name, "@") {
		var agents []Agent
		if _, err := c.get(ctx, op, "/agents", url.Values{"email": {e.Name}}, &agents); err != nil {
			return 0, err
		}
		if len(agents) > 0 {
			return agents[0].ID, nil
		}
	}
	return 0, &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "responder_id", Message: fmt.Sprintf("no agent %q (give the agent id or e-mail)", e.String())}
}

var reNext = regexp.MustCompile(`<([^>]+)>\s*;\s*rel="?next"?`)

// nextLink returns the rel="next" URL of a Link header, or "".
//
// A link into the API (…/api/v2/…) is returned relative to the API root,
// so that it is resolved against base_url: behind a proxy, Freshdesk's
// links name https://<domain>.freshdesk.com, which otai must not call
// (nor send the key to) directly.
func nextLink(h http.Header) string {
	for _, v := range h.Values("Link") {
		if m := reNext.FindStringSubmatch(v); m != nil {
			link := m[1]
			if u, err := url.Parse(link); err == nil && u.IsAbs() {
				// Cut the link as written (no re-escaping), at the API
				// root in its path (not in its query).
				path, _, _ := strings.Cut(link, "?")
				if i := strings.Index(path, apiRoot+"/"); i >= 0 {
					link = link[i+len(apiRoot):]
				}
			}
			return link
		}
	}
	return ""
}

// apiRoot is the path of Freshdesk's v2 API on its host.
const apiRoot = "/api/v2"
