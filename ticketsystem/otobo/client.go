package otobo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/otai-dev/otai/secret"
	"github.com/otai-dev/otai/ticket"
)

// Client talks to one GenericInterface web service. It is safe for
// concurrent use.
type Client struct {
	endpoint string // .../nph-genericinterface.pl/Webservice/<name>
	routes   Routes
	hc       Doer
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

// do sends one request: path params from data, the rest in the query (GET,
// DELETE) or the JSON body, and decodes the reply.
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
	u := c.endpoint + path
	var body io.Reader
	if rt.Method == http.MethodGet || rt.Method == http.MethodDelete {
		q, err := encodeQuery(data)
		if err != nil {
			return &ticket.Error{Kind: ticket.ErrValidation, Message: fmt.Sprintf("%v (route %s cannot carry it: use a POST search route, route_preset znuny7 or custom)", err, rt)}
		}
		if q != "" {
			u += "?" + q
		}
	} else {
		b, err := json.Marshal(data)
		if err != nil {
			return &ticket.Error{Kind: ticket.ErrValidation, Message: secret.Redact(err.Error())}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, rt.Method, u, body)
	if err != nil {
		return &ticket.Error{Kind: ticket.ErrValidation, Message: "building request: " + secret.Redact(err.Error())}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return transportError(ctx, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	c.log.DebugContext(ctx, "gi request", "operation", op, "method", rt.Method, "route", rt.Path,
		"status", resp.StatusCode, "duration", time.Since(start))
	if err != nil {
		return transportError(ctx, err)
	}
	return decodeReply(resp.StatusCode, resp.Header, raw, out)
}

// transportError turns a network failure into ErrUnavailable without the
// request URL (a GET URL carries credentials in its query).
func transportError(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if ctx.Err() != nil {
		return &ticket.Error{Kind: ticket.ErrUnavailable, Message: "cancelled", Err: ctx.Err()}
	}
	return &ticket.Error{Kind: ticket.ErrUnavailable, Message: secret.Redact(err.Error())}
}

// encodeQuery writes data as a GI query string: repeated keys for arrays,
// every value percent-encoded (the GI splits on & and ; and treats + as a
// space). Nested objects cannot be expressed.
func encodeQuery(data map[string]any) (string, error) {
	var b strings.Builder
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(strings.ReplaceAll(url.QueryEscape(v), ";", "%3B"))
	}
	for _, k := range keys {
		switch v := data[k].(type) {
		case []string:
			for _, x := range v {
				add(k, x)
			}
		case []any:
			for _, x := range v {
				if !isScalar(x) {
					return "", fmt.Errorf("%s is a nested object", k)
				}
				add(k, scalar(x))
			}
		default:
			if !isScalar(v) {
				return "", fmt.Errorf("%s is a nested object", k)
			}
			add(k, scalar(v))
		}
	}
	return b.String(), nil
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
