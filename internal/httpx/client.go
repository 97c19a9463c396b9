package httpx

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/otai-dev/otai/secret"
)

// RetryPolicy says when a request may be sent again.
type RetryPolicy int

const (
	// Idempotent requests (GET, PUT, DELETE, searches) are retried on
	// connection errors, timeouts, 429, 502, 503 and 504.
	Idempotent RetryPolicy = iota
	// RetryIfNotSent is for requests that create something (POST a note,
	// POST a ticket). They are retried only when the request provably never
	// reached the server (the dial failed, no connection was obtained), when
	// the server refused it with 429 (rate limited requests are not
	// processed), or, when the outcome is unknown (timeout after writing,
	// 502/503/504), when Request.EffectAbsent confirms that the effect is
	// not there.
	RetryIfNotSent
	// Never sends the request once.
	Never
)

func (p RetryPolicy) String() string {
	switch p {
	case Idempotent:
		return "idempotent"
	case RetryIfNotSent:
		return "retry-if-not-sent"
	case Never:
		return "never"
	}
	return "RetryPolicy(" + strconv.Itoa(int(p)) + ")"
}

// Defaults used when an Options field is zero.
const (
	DefaultTimeout       = 30 * time.Second
	DefaultMaxRetries    = 4
	DefaultMinBackoff    = 250 * time.Millisecond
	DefaultMaxBackoff    = 30 * time.Second
	DefaultMaxRetryAfter = 2 * time.Minute
	DefaultMaxBodyBytes  = 32 << 20
	DefaultUserAgent     = "otai"
)

// Options configure a Client. Only BaseURL is required.
type Options struct {
	// BaseURL is prepended to relative request paths, e.g.
	// "https://acme.freshdesk.com/api/v2". Absolute request URLs must point
	// to the same scheme and host (credentials are never sent elsewhere).
	BaseURL string
	// Timeout bounds one attempt, including reading the body
	// (default DefaultTimeout; negative: none).
	Timeout time.Duration
	// MaxRetries is how many times a request may be retried after the
	// first attempt (default DefaultMaxRetries; negative: no retries).
	MaxRetries int
	// MinBackoff and MaxBackoff bound the exponential backoff between
	// retries (defaults DefaultMinBackoff, DefaultMaxBackoff). The wait is
	// MinBackoff*2^n with jitter, capped at MaxBackoff; a Retry-After from
	// the server replaces it.
	MinBackoff, MaxBackoff time.Duration
	// MaxRetryAfter: a Retry-After longer than this is not waited for; the
	// error is returned with RetryAfter set (default DefaultMaxRetryAfter).
	MaxRetryAfter time.Duration
	// RatePerMinute limits requests per host, per RateWindow (0: no
	// client-side limit unless LearnRateLimit finds one). Burst is the
	// bucket size (default 1).
	RatePerMinute float64
	Burst         int
	// LearnRateLimit sets the host's rate from the X-RateLimit-Total
	// response header (calls per RateWindow), keeping 5% headroom, when
	// that is lower than RatePerMinute.
	LearnRateLimit bool
	// RateWindow is the length of the server's rate-limit "minute"
	// (default time.Minute). Benchmarks against a fake with a scaled clock
	// shrink it; nothing else should.
	RateWindow time.Duration

	// TLS settings, used when Transport is nil.
	InsecureSkipVerify bool
	CAFile             string // PEM bundle added to the system roots

	// UserAgent is sent with every request (default DefaultUserAgent).
	UserAgent string
	// Auth sets credentials on every attempt (see BasicAuth, HeaderAuth).
	Auth func(*http.Request)
	// Header is added to every request.
	Header http.Header
	// Redact lists extra strings to mask in errors and logs (passwords,
	// tokens). They are also registered with package secret.
	Redact []string
	// Metrics is called after every attempt; nil: none.
	Metrics Hook
	// Transport replaces the default transport (tests, proxies).
	Transport http.RoundTripper
	// Logger gets debug lines on retries and waits (redacted); nil: none.
	Logger *slog.Logger
	// Sleep waits d or until ctx is done (default: a timer). Now is the
	// clock (default time.Now). Tests inject both.
	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time
	// MaxBodyBytes caps how much of a response body is read
	// (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
}

// Observation is one attempt, as seen by a Hook.
type Observation struct {
	Host     string
	Method   string
	Path     string        // the URL path, without query
	Status   int           // 0 when no response came back
	Duration time.Duration // the attempt, not counting rate-limit waits
	Attempt  int           // 0 for the first try, 1 for the first retry, ...
	Retrying bool          // another attempt follows
	Waited   time.Duration // time spent in the rate limiter before this attempt
	Err      error         // transport error (redacted), nil when a response came back
}

// Hook receives metrics. It must be safe for concurrent use.
type Hook interface {
	ObserveRequest(o Observation)
}

// HookFunc adapts a function to Hook.
type HookFunc func(Observation)

// ObserveRequest calls f(o).
func (f HookFunc) ObserveRequest(o Observation) { f(o) }

// BasicAuth returns an Auth function setting HTTP Basic credentials. Both
// values are registered for redaction (values shorter than secret.MinLen,
// like Freshdesk's "X", are not).
func BasicAuth(user, password string) func(*http.Request) {
	secret.Register(password)
	if password == "X" || password == "" {
		// Freshdesk: the API key is the user name.
		secret.Register(user)
	}
	return func(r *http.Request) { r.SetBasicAuth(user, password) }
}

// HeaderAuth returns an Auth function setting header name to value, which
// is registered for redaction, e.g. HeaderAuth("Authorization", "Token token="+t).
func HeaderAuth(name, value string) func(*http.Request) {
	secret.Register(value)
	if _, after, ok := strings.Cut(value, "="); ok {
		secret.Register(after)
	}
	if _, after, ok := strings.Cut(value, " "); ok {
		secret.Register(after)
	}
	return func(r *http.Request) { r.Header.Set(name, value) }
}

// Request is one call. Body, when not nil, is sent as JSON unless it is a
// []byte (sent as is, with ContentType).
type Request struct {
	Method string
	// Path is relative to Options.BaseURL ("/tickets/42"), or an absolute
	// URL on the same host (a Link rel=next).
	Path        string
	Query       url.Values
	Header      http.Header
	Body        any
	ContentType string // default application/json when Body is set
	Policy      RetryPolicy
	// EffectAbsent is asked, for a RetryIfNotSent request whose outcome is
	// unknown (timeout or connection reset after the request was written,
	// 502/503/504), whether the effect is provably absent: true allows one
	// more attempt. nil means unknown outcomes are not retried.
	EffectAbsent func(ctx context.Context) (bool, error)
}

// Response is what came back from the last attempt.
type Response struct {
	Status   int
	Header   http.Header
	Body     []byte
	URL      string // redacted
	Attempts int    // how many attempts were made
}

// Client sends requests. It is safe for concurrent use.
type Client struct {
	opts  Options
	base  *url.URL
	hc    *http.Client
	red   *redactor
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
	log   *slog.Logger

	mu    sync.Mutex
	hosts map[string]*limiter
}

// New builds a Client.
func New(o Options) (*Client, error) {
	if o.BaseURL == "" {
		return nil, errors.New("httpx: BaseURL is required")
	}
	base, err := url.Parse(strings.TrimRight(o.BaseURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("httpx: BaseURL %q must be an absolute http(s) URL", redactURLString(o.BaseURL))
	}
	if base.Scheme != "http" && base.Scheme != "https" {
		return nil, fmt.Errorf("httpx: BaseURL scheme %q is not http or https", base.Scheme)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = DefaultMaxRetries
	}
	if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if o.Burst <= 0 {
		o.Burst = 1
	}
	if o.RateWindow <= 0 {
		o.RateWindow = time.Minute
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	for _, s := range o.Redact {
		secret.Register(s)
	}
	if u := base.User; u != nil {
		secret.Register(u.Username())
		if p, ok := u.Password(); ok {
			secret.Register(p)
		}
	}
	rt := o.Transport
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if o.InsecureSkipVerify || o.CAFile != "" {
			tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.InsecureSkipVerify} //nolint:gosec // opt-in for self-signed help desks
			if o.CAFile != "" {
				pem, err := os.ReadFile(o.CAFile)
				if err != nil {
					return nil, fmt.Errorf("httpx: reading CA file: %w", err)
				}
				pool, err := x509.SystemCertPool()
				if err != nil || pool == nil {
					pool = x509.NewCertPool()
				}
				if !pool.AppendCertsFromPEM(pem) {
					return nil, fmt.Errorf("httpx: CA file %s holds no PEM certificate", o.CAFile)
				}
				tc.RootCAs = pool
			}
			t.TLSClientConfig = tc
		}
		rt = t
	}
	c := &Client{
		opts:  o,
		base:  base,
		hc:    &http.Client{Transport: rt, CheckRedirect: sameHostRedirects},
		red:   newRedactor(o.Redact),
		sleep: o.Sleep,
		now:   o.Now,
		log:   o.Logger,
		hosts: map[string]*limiter{},
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log != nil {
		c.log = slog.New(secret.Handler(c.log.Handler()))
	}
	return c, nil
}

// sameHostRedirects follows at most 5 redirects, and none to another host
// (Go drops Authorization on cross-host redirects, but custom auth headers
// would still leak).
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	if req.URL.Host != via[0].URL.Host {
		return fmt.Errorf("refusing redirect to another host %s", req.URL.Host)
	}
	return nil
}

// BaseURL returns the client's base URL with credentials removed.
func (c *Client) BaseURL() string { return redactURL(c.base) }

// JSON sends in (nil: no body) as JSON and decodes a 2xx response body into
// out (nil: ignored). It returns the Response even when err is an *Error.
func (c *Client) JSON(ctx context.Context, method, path string, query url.Values, in, out any, policy RetryPolicy) (*Response, error) {
	resp, err := c.Do(ctx, &Request{Method: method, Path: path, Query: query, Body: in, Policy: policy})
	if err != nil {
		return resp, err
	}
	if out != nil && len(bytes.TrimSpace(resp.Body)) > 0 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return resp, &Error{Method: method, URL: resp.URL, Status: resp.Status, Header: resp.Header,
				Body: c.red.bytes(resp.Body), Attempts: resp.Attempts, Err: fmt.Errorf("decoding response: %w", err)}
		}
	}
	return resp, nil
}

// Do sends r, retrying as its Policy allows. A response with status >= 400
// is returned together with an *Error; a transport failure returns a nil
// Response and an *Error whose Err is the cause (errors.Is(err,
// context.Canceled) works through it).
func (c *Client) Do(ctx context.Context, r *Request) (*Response, error) {
	u, err := c.resolve(r.Path, r.Query)
	if err != nil {
		return nil, &Error{Method: r.Method, URL: c.red.str(redactURLString(r.Path)), Err: err, NotSent: true}
	}
	var body []byte
	ctype := r.ContentType
	switch b := r.Body.(type) {
	case nil:
	case []byte:
		body = b
	default:
		body, err = json.Marshal(b)
		if err != nil {
			return nil, &Error{Method: r.Method, URL: redactURL(u), Err: fmt.Errorf("encoding request body: %w", err), NotSent: true}
		}
		if ctype == "" {
			ctype = "application/json"
		}
	}
	if body != nil && ctype == "" {
		ctype = "application/json"
	}
	safeURL := redactURL(u)
	lim := c.limiter(u.Host)

	for attempt := 0; ; attempt++ {
		waited, err := c.wait(ctx, lim)
		if err != nil {
			return nil, &Error{Method: r.Method, URL: safeURL, Attempts: attempt, Err: err, NotSent: true}
		}
		res, notSent, dur, aerr := c.attempt(ctx, r.Method, u, r.Header, body, ctype)
		obs := Observation{Host: u.Host, Method: r.Method, Path: u.Path, Duration: dur, Attempt: attempt, Waited: waited}

		var retryAfter time.Duration
		var e *Error
		if aerr != nil {
			e = &Error{Method: r.Method, URL: safeURL, Attempts: attempt + 1, NotSent: notSent, Err: c.cleanErr(aerr, safeURL)}
			obs.Err = e.Err
		} else {
			obs.Status = res.Status
			res.URL = safeURL
			res.Attempts = attempt + 1
			c.learn(lim, res)
			if res.Status < 400 {
				c.observe(obs)
				return res, nil
			}
			retryAfter = parseRetryAfter(res.Header.Get("Retry-After"), c.now())
			e = &Error{Method: r.Method, URL: safeURL, Status: res.Status, Header: res.Header,
				Body: c.red.bytes(res.Body), RetryAfter: retryAfter, Attempts: attempt + 1}
			if res.Status == http.StatusTooManyRequests || (res.Status == http.StatusServiceUnavailable && retryAfter > 0) {
				pause := retryAfter
				if pause <= 0 {
					pause = c.backoff(attempt)
				}
				if pause <= c.opts.MaxRetryAfter {
					lim.pause(c.now().Add(pause))
				}
			}
		}

		retry := false
		if ctx.Err() == nil && attempt < c.opts.MaxRetries && retryAfter <= c.opts.MaxRetryAfter {
			retry, err = c.shouldRetry(ctx, r, e)
			if err != nil {
				c.observe(obs)
				e.Err = errors.Join(e.Err, fmt.Errorf("checking whether the effect is absent: %w", c.cleanErr(err, safeURL)))
				return res, e
			}
		}
		obs.Retrying = retry
		c.observe(obs)
		if !retry {
			return res, e
		}
		d := retryAfter
		if d <= 0 {
			d = c.backoff(attempt)
		}
		if c.log != nil {
			c.log.LogAttrs(ctx, slog.LevelDebug, "retrying request",
				slog.String("method", r.Method), slog.String("url", safeURL),
				slog.Int("status", e.Status), slog.Int("attempt", attempt+1),
				slog.Duration("wait", d), slog.String("error", c.red.str(errString(e.Err))))
		}
		if err := c.sleep(ctx, d); err != nil {
			e.Err = errors.Join(e.Err, err)
			return res, e
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// shouldRetry decides whether a failed attempt may be repeated.
func (c *Client) shouldRetry(ctx context.Context, r *Request, e *Error) (bool, error) {
	if r.Policy == Never {
		return false, nil
	}
	if e.Err != nil { // no response
		if IsTLSError(e.Err) {
			return false, nil // the same certificate will fail the same way
		}
		if e.NotSent {
			return true, nil
		}
		if r.Policy == Idempotent {
			return true, nil
		}
		return c.effectAbsent(ctx, r)
	}
	switch e.Status {
	case http.StatusTooManyRequests:
		return true, nil // refused, not processed
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if r.Policy == Idempotent {
			return true, nil
		}
		return c.effectAbsent(ctx, r)
	}
	return false, nil
}

// IsTLSError reports whether err is a failed TLS handshake or certificate
// verification (unknown authority, expired, wrong host name, a server that
// does not speak TLS): a configuration problem that retrying cannot fix.
func IsTLSError(err error) bool {
	if err == nil {
		return false
	}
	var (
		cve *tls.CertificateVerificationError
		uae x509.UnknownAuthorityError
		cie x509.CertificateInvalidError
		hne x509.HostnameError
		rhe tls.RecordHeaderError
		ae  tls.AlertError
	)
	return errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &cie) ||
		errors.As(err, &hne) || errors.As(err, &rhe) || errors.As(err, &ae)
}

func (c *Client) effectAbsent(ctx context.Context, r *Request) (bool, error) {
	if r.EffectAbsent == nil {
		return false, nil
	}
	return r.EffectAbsent(ctx)
}

func (c *Client) observe(o Observation) {
	if c.opts.Metrics != nil {
		c.opts.Metrics.ObserveRequest(o)
	}
}

// backoff returns MinBackoff*2^attempt capped at MaxBackoff, with "equal
// jitter": half fixed, half random.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.opts.MinBackoff
	for i := 0; i < attempt && d < c.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.opts.MaxBackoff)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// attempt sends once and reads the whole body within the attempt timeout.
func (c *Client) attempt(ctx context.Context, method string, u *url.URL, hdr http.Header, body []byte, ctype string) (res *Response, notSent bool, dur time.Duration, err error) {
	actx := ctx
	if c.opts.Timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, c.opts.Timeout)
		defer cancel()
	}
	var gotConn, wrote bool
	var mu sync.Mutex
	trace := &httptrace.ClientTrace{
		GotConn:      func(httptrace.GotConnInfo) { mu.Lock(); gotConn = true; mu.Unlock() },
		WroteHeaders: func() { mu.Lock(); wrote = true; mu.Unlock() },
	}
	actx = httptrace.WithClientTrace(actx, trace)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, u.String(), rd)
	if err != nil {
		return nil, true, 0, err
	}
	for k, vs := range c.opts.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	for k, vs := range hdr {
		req.Header[k] = append([]string(nil), vs...)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if c.opts.Auth != nil {
		c.opts.Auth(req)
	}
	start := c.now()
	resp, err := c.hc.Do(req)
	if err != nil {
		mu.Lock()
		ns := !gotConn || isDialError(err)
		if wrote {
			ns = false
		}
		mu.Unlock()
		if ctx.Err() != nil {
			err = ctx.Err()
		} else if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("attempt timed out after %s: %w", c.opts.Timeout, err)
		}
		return nil, ns, c.now().Sub(start), err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxBodyBytes))
	dur = c.now().Sub(start)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, false, dur, fmt.Errorf("reading response body: %w", err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, false, dur, nil
}

// isDialError reports whether err happened while connecting, before any
// byte of the request could be written.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// cleanErr replaces the URL in a *url.Error with the redacted one and
// masks secrets in the rest.
func (c *Client) cleanErr(err error, safeURL string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		var ue *url.Error
		if !errors.As(err, &ue) {
			return err
		}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &cleanError{msg: c.red.str(ue.Op + " " + safeURL + ": " + errString(ue.Err)), err: ue.Err}
	}
	return &cleanError{msg: c.red.str(err.Error()), err: err}
}

// cleanError carries a redacted message while keeping the cause for
// errors.Is (context.Canceled, net errors).
type cleanError struct {
	msg string
	err error
}

func (e *cleanError) Error() string { return e.msg }
func (e *cleanError) Unwrap() error { return e.err }

func (c *Client) resolve(path string, q url.Values) (*url.URL, error) {
	var u *url.URL
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		p, err := url.Parse(path)
		if err != nil {
			return nil, fmt.Errorf("parsing URL: %w", err)
		}
		if p.Scheme != c.base.Scheme || p.Host != c.base.Host {
			return nil, fmt.Errorf("refusing to send credentials to %s://%s (base is %s://%s)", p.Scheme, p.Host, c.base.Scheme, c.base.Host)
		}
		u = p
	} else {
		rel, err := url.Parse(path)
		if err != nil {
			return nil, fmt.Errorf("parsing path: %w", err)
		}
		cp := *c.base
		u = &cp
		u.Path = c.base.Path + "/" + strings.TrimLeft(rel.Path, "/")
		if rel.Path == "" {
			u.Path = c.base.Path
		}
		u.RawPath = ""
		u.RawQuery = rel.RawQuery
	}
	if len(q) > 0 {
		merged := u.Query()
		for k, vs := range q {
			merged[k] = append(merged[k], vs...)
		}
		u.RawQuery = merged.Encode()
	}
	return u, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// parseRetryAfter reads delta-seconds (fractions accepted) or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if !(s > 0) { // also NaN
			return 0
		}
		ns := s * float64(time.Second)
		if ns >= math.MaxInt64 {
			return time.Duration(math.MaxInt64) // "1e30", "Inf": never, not negative
		}
		return time.Duration(ns)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
