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
	c.RawQuery = redactQuery(c.RawQuery)
	return redactString(c.String())
}

// redactQuery masks the values of sensitive parameters in a raw query,
// pair by pair, so that a pair url.ParseQuery rejects (a bad escape, a
// semicolon) is masked too instead of being passed through.
func redactQuery(raw string) string {
	if raw == "" {
		return raw
	}
	var b strings.Builder
	for raw != "" {
		seg, rest := raw, ""
		if i := strings.IndexAny(raw, "&;"); i >= 0 {
			seg, rest = raw[:i], raw[i:]
		}
		key, _, hasValue := strings.Cut(seg, "=")
		name := key
		if k, err := url.QueryUnescape(key); err == nil {
			name = k
		}
		if hasValue && sensitiveParams[strings.ToLower(name)] {
			seg = key + "=" + url.QueryEscape(secret.Mask)
		}
		b.WriteString(seg)
		if rest != "" {
			b.WriteByte(rest[0])
			rest = rest[1:]
		}
		raw = rest
	}
	return b.String()
}

// redactURLString redacts a URL given as text; one that does not parse
// still loses its userinfo and sensitive query values.
func redactURLString(s string) string {
	u, err := url.Parse(s)
	if err == nil {
		return redactURL(u)
	}
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
			s = s[:i+3] + rest[at+1:]
		}
	}
	if q := strings.IndexByte(s, '?'); q >= 0 {
		query, frag := s[q+1:], ""
		if h := strings.IndexByte(query, '#'); h >= 0 {
			query, frag = query[:h], query[h:]
		}
		s = s[:q+1] + redactQuery(query) + frag
	}
	return redactString(s)
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
