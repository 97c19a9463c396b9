package httpx

import (
	"net/url"
	"strings"

	"github.com/otai-dev/otai/secret"
)

// sensitiveParams are query parameter names whose values are masked in
// URLs (compared case-insensitively).
var sensitiveParams = map[string]bool{
	"token": true, "access_token": true, "api_key": true, "apikey": true, "key": true,
	"password": true, "passwd": true, "pass": true, "secret": true, "client_secret": true,
	"sessionid": true, "userlogin": true, "customeruserlogin": true, "auth": true,
	"signature": true, "sig": true,
}

// RedactURL returns u as a string without userinfo and with credential query
// parameters masked.
func RedactURL(u *url.URL) string { return redactURL(u) }

func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		q := c.Query()
		changed := false
		for k := range q {
			if sensitiveParams[strings.ToLower(k)] {
				q[k] = []string{secret.Mask}
				changed = true
			}
		}
		if changed {
			c.RawQuery = q.Encode()
		}
	}
	return redactString(c.String())
}

func redactURLString(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return redactString(s)
	}
	return redactURL(u)
}

// redactString masks every secret registered with package secret (which
// includes Options.Redact and Auth credentials).
func redactString(s string) string { return secret.Redact(s) }

type redactor struct{ extra []string }

func newRedactor(extra []string) *redactor {
	var keep []string
	for _, s := range extra {
		if s != "" {
			keep = append(keep, s)
		}
	}
	return &redactor{extra: keep}
}

// str masks registered secrets and, as a belt and braces, the client's own
// Redact strings even when they are shorter than secret.MinLen.
func (r *redactor) str(s string) string {
	s = secret.Redact(s)
	for _, x := range r.extra {
		s = strings.ReplaceAll(s, x, secret.Mask)
	}
	return s
}

func (r *redactor) bytes(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	s := r.str(string(b))
	if s == string(b) {
		return b
	}
	return []byte(s)
}
