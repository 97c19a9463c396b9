package otobo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/secret"
	"github.com/otai-dev/otai/ticket"
)

// Client talks to one GenericInterface web service. It is safe for
// concurrent use.
type Client struct {
	endpoint string // .../nph-genericinterface.pl/Webservice/<name>
	routes   Routes
	hc       *httpx.Client
	p        Params
	loc      *time.Location
	log      *slog.Logger

	mu      sync.Mutex // guards session; held while creating one
	session string
}

// Interface guards.
var (
	_ ticket.System  = (*Client)(nil)
	_ ticket.Checker = (*Client)(nil)
	_ ticket.Closer  = (*Client)(nil)
)

// Routes returns the client's route table.
func (c *Client) Routes() Routes { return c.routes }

// Call runs one GI operation: data holds the operation's fields (path
// params like TicketID are taken from it), credentials are added, and the
// reply is decoded into out. Errors are *ticket.Error with Op set to op.
// A session the server no longer accepts is re-created once.
func (c *Client) Call(ctx context.Context, opName, op string, data map[string]any, out any) error {
	for attempt := 0; ; attempt++ {
		d := make(map[string]any, len(data)+2)
		for k, v := range data {
			d[k] = v
		}
		sid := ""
		if c.p.Auth == AuthSession {
			var err error
			if sid, err = c.sessionID(ctx); err != nil {
				return withOp(err, opName)
			}
			d["SessionID"] = sid
		} else {
			d["UserLogin"], d["Password"] = c.p.Username, c.p.Password
		}
		err := c.do(ctx, op, d, out)
		if err != nil && sid != "" && attempt == 0 && isAuthFail(err) {
			c.log.InfoContext(ctx, "session no longer valid, creating a new one", "operation", op)
			c.dropSession(sid)
			continue
		}
		return withOp(err, opName)
	}
}

func withOp(err error, op string) error {
	if err == nil {
		return nil
	}
	var te *ticket.Error
	if errors.As(err, &te) {
		if te.Op == "" {
			te.Op = op
		} else if op != "" && te.Op != op {
			te.Op = op + ": " + te.Op
		}
		return te
	}
	return fmt.Errorf("%s: %w", op, err)
}

// sessionID returns the current session, creating one if needed.
func (c *Client) sessionID(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session != "" {
		return c.session, nil
	}
	var r sessionCreateReply
	err := c.do(ctx, OpSessionCreate, map[string]any{"UserLogin": c.p.Username, "Password": c.p.Password}, &r)
	if err != nil {
		var te *ticket.Error
		if errors.As(err, &te) && te.Kind == ticket.ErrAuth {
			te.Message += fmt.Sprintf(" (check username %q and password; the user must be a valid agent, not a customer)", c.p.Username)
		}
		return "", withOp(err, "creating session")
	}
	sid := r.SessionID.String()
	if sid == "" {
		return "", &ticket.Error{Op: "creating session", Kind: ticket.ErrUnavailable, Message: "SessionCreate returned no SessionID"}
	}
	secret.Register(sid)
	c.session = sid
	c.log.DebugContext(ctx, "session created")
	return sid, nil
}

func (c *Client) dropSession(sid string) {
	c.mu.Lock()
	if c.session == sid {
		c.session = ""
	}
	c.mu.Unlock()
}

// Close removes the session where the web service has a SessionDelete route.
func (c *Client) Close() error {
	c.mu.Lock()
	sid := c.session
	c.session = ""
	c.mu.Unlock()
	if sid == "" {
		return nil
	}
	if _, ok := c.routes[OpSessionDelete]; !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return withOp(c.do(ctx, OpSessionDelete, map[string]any{"SessionID": sid}, nil), "removing session")
}

// do sends one request through internal/httpx: path params from data, the
// rest in the query (GET, DELETE) or the JSON body, and decodes the reply.
func (c *Client) do(ctx context.Context, op string, data map[string]any, out any) error {
	rt, ok := c.routes[op]
	if !ok {
		return &ticket.Error{Kind: ticket.ErrValidation, Code: "otai.NoRoute",
			Message: fmt.Sprintf("the web service has no route for %s (route_preset %s); add one under routes", op, c.p.RoutePreset)}
	}
	path, err := rt.expand(data)
	if err != nil {
		return &ticket.Error{Kind: ticket.ErrValidation, Message: err.Error()}
	}
	req := &httpx.Request{Method: rt.Method, Path: path, Policy: retryPolicy(op, data),
		Header: http.Header{"Accept": {"application/json"}}}
	if rt.Method == http.MethodGet || rt.Method == http.MethodDelete {
		q, err := queryValues(data)
		if err != nil {
			return &ticket.Error{Kind: ticket.ErrValidation, Message: fmt.Sprintf("%v (route %s cannot carry it: use a POST search route, route_preset znuny7 or custom)", err, rt)}
		}
		req.Query = q
	} else {
		req.Body = data
		req.ContentType = "application/json; charset=utf-8"
	}
	start := time.Now()
	resp, err := c.hc.Do(ctx, req)
	if resp == nil {
		return transportError(ctx, err)
	}
	c.log.DebugContext(ctx, "gi request", "operation", op, "method", rt.Method, "route", rt.Path,
		"status", resp.Status, "attempts", resp.Attempts, "duration", time.Since(start))
	return decodeReply(resp.Status, resp.Header, resp.Body, out)
}

// retryPolicy: reads, searches, sessions and field updates can be repeated;
// a create or an update that adds an article cannot (it would duplicate).
func retryPolicy(op string, data map[string]any) httpx.RetryPolicy {
	switch op {
	case OpTicketCreate:
		return httpx.RetryIfNotSent
	case OpTicketUpdate:
		if _, ok := data["Article"]; ok {
			return httpx.RetryIfNotSent
		}
	}
	return httpx.Idempotent
}

// transportError turns a network failure into ErrUnavailable. httpx has
// already removed credentials from the URL and message.
func transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return &ticket.Error{Kind: ticket.ErrUnavailable, Message: "cancelled", Err: ctx.Err()}
	}
	if err == nil {
		return &ticket.Error{Kind: ticket.ErrUnavailable, Message: "no reply"}
	}
	// Err keeps the cause for errors.As (httpx.IsTLSError) behind a
	// redacted message.
	return &ticket.Error{Kind: ticket.ErrUnavailable, Err: &redactedError{msg: secret.Redact(err.Error()), err: err}}
}

// redactedError shows a redacted message and unwraps to the cause.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// queryValues writes data as GI query parameters: repeated keys for arrays
// (url.Values encoding percent-encodes = & + and ;, which the GI would
// otherwise split on). Nested objects cannot be expressed.
func queryValues(data map[string]any) (url.Values, error) {
	q := url.Values{}
	for k, v := range data {
		switch x := v.(type) {
		case []string:
			q[k] = append(q[k], x...)
		case []any:
			for _, e := range x {
				if !isScalar(e) {
					return nil, fmt.Errorf("%s is a nested object", k)
				}
				q.Add(k, scalar(e))
			}
		default:
			if !isScalar(v) {
				return nil, fmt.Errorf("%s is a nested object", k)
			}
			q.Add(k, scalar(v))
		}
	}
	return q, nil
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, int, int64, float64, bool, json.Number, nil:
		return true
	}
	return false
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
