package httpx

import (
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/secret"
)

// fuzzSecret is registered for redaction; no fuzzed input may carry it
// into a redacted string.
const fuzzSecret = "fuzzRegisteredSecret9Q"

func init() { secret.Register(fuzzSecret) }

// FuzzParseRetryAfter: a Retry-After value, whatever the server sends, is
// a non-negative wait; delta-seconds are read as such and an HTTP date
// counts from now.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "30", " 1.5 ", "-3", "120", "1e30", "NaN", "Inf", "+Inf", "-Inf",
		"0x1p4", "9223372036", "9223372037", "Fri, 07 Mar 2025 12:00:30 GMT", "Friday, 07-Mar-25 12:00:30 GMT",
		"Fri Mar  7 12:00:30 2025", "Sat, 01 Jan 2000 00:00:00 GMT", "soon"} {
		f.Add(s, int64(1741348800))
	}
	f.Fuzz(func(t *testing.T, v string, nowUnix int64) {
		now := time.Unix(nowUnix%(1<<40), 0).UTC()
		d := parseRetryAfter(v, now)
		if d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v, negative", v, d)
		}
		s, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		switch {
		case err == nil && s > 0 && s < 1e9:
			if want := time.Duration(s * float64(time.Second)); d != want {
				t.Fatalf("parseRetryAfter(%q) = %v, want %v", v, d, want)
			}
		case err == nil && s >= 1e9:
			if d < time.Duration(1e9)*time.Second/2 {
				t.Fatalf("parseRetryAfter(%q) = %v: a huge delay became a short one", v, d)
			}
		case err == nil:
			if d != 0 {
				t.Fatalf("parseRetryAfter(%q) = %v, want 0", v, d)
			}
		}
		if at, err := http.ParseTime(strings.TrimSpace(v)); err == nil && at.After(now) && d != at.Sub(now) {
			t.Fatalf("parseRetryAfter(%q) at %v = %v, want %v", v, now, d, at.Sub(now))
		}
	})
}

// FuzzRateLimitHeaders feeds X-RateLimit-* headers to the limiter: the
// learned rate stays finite and non-negative, a pause never lies in the
// past or beyond one rate window, and the next wait is never negative.
func FuzzRateLimitHeaders(f *testing.F) {
	f.Add("100", "99", "", 200, 0.0)
	f.Add("50", "0", "", 200, 30.0)
	f.Add("", "0", "700", 200, 0.0)
	f.Add("9223372036854775807", "0", "", 200, 0.0)
	f.Add("-5", "-1", "x", 429, 1e9)
	f.Add(" 1 ", "0", "1", 204, 0.001)
	f.Fuzz(func(t *testing.T, total, remaining, limit string, status int, perMinute float64) {
		if math.IsNaN(perMinute) || math.IsInf(perMinute, 0) || perMinute < 0 || perMinute > 1e9 {
			return // config validation's job
		}
		now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		c, err := New(Options{BaseURL: "https://h.example", LearnRateLimit: true, RatePerMinute: perMinute,
			Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		for k, v := range map[string]string{"X-RateLimit-Total": total, "X-RateLimit-Remaining": remaining, "X-RateLimit-Limit": limit} {
			if v != "" {
				h.Set(k, v)
			}
		}
		l := c.limiter("h.example")
		c.learn(l, &Response{Status: status, Header: h})
		if math.IsNaN(l.rate) || math.IsInf(l.rate, 0) || l.rate < 0 {
			t.Fatalf("rate = %v", l.rate)
		}
		if p := l.pausedUntil(); !p.IsZero() && (p.Before(now) || p.After(now.Add(c.opts.RateWindow))) {
			t.Fatalf("paused until %v (now %v)", p, now)
		}
		if n, ok := headerInt(h, "X-RateLimit-Total"); ok {
			if want, err := strconv.Atoi(strings.TrimSpace(total)); err != nil || want != n {
				t.Fatalf("headerInt(%q) = %d", total, n)
			}
		}
		for range 3 {
			if d := l.reserve(now); d < 0 {
				t.Fatalf("reserve = %v", d)
			}
		}
	})
}

// fuzzMarker is a credential value planted in fuzzed URLs.
const fuzzMarker = "Pl4ntedCred"

// FuzzRedactURL plants a credential in a sensitive query parameter (name in
// any case), in the userinfo password, and a registered secret in the
// path, around arbitrary text: the redacted URL carries none of them,
// whether or not the URL parses.
func FuzzRedactURL(f *testing.F) {
	f.Add("tickets/1", "a=1", uint8(0), false, "b=2")
	f.Add("Ticket", "UserLogin=agent", uint8(7), true, "")
	f.Add("x y", "", uint8(3), false, "%zz")
	f.Add("", "page=2&per_page=100", uint8(1), true, "")
	f.Add("%41", "q=%", uint8(12), false, ";x=1")
	f.Fuzz(func(t *testing.T, path, before string, which uint8, upper bool, after string) {
		for _, s := range []string{path, before, after} {
			if strings.Contains(s, "#") || strings.Contains(s, "Pl4nt") || strings.Contains(s, "fuzzRegistered") {
				return // a fragment is not a query; the plants must be unique
			}
		}
		names := make([]string, 0, len(sensitiveParams))
		for k := range sensitiveParams {
			names = append(names, k)
		}
		slices.Sort(names)
		name := names[int(which)%len(names)]
		if upper {
			name = strings.ToUpper(name)
		}
		raw := "https://agent:" + fuzzMarker + "pw@h.example/" + path + "/" + fuzzSecret + "?" + before + "&" + name + "=" + fuzzMarker + after
		out := redactURLString(raw)
		if strings.Contains(out, fuzzMarker) || strings.Contains(out, fuzzSecret) {
			t.Fatalf("redactURLString(%q) = %q: leaks", raw, out)
		}
		if u, err := url.Parse(raw); err == nil {
			if out := RedactURL(u); strings.Contains(out, fuzzMarker) || strings.Contains(out, fuzzSecret) {
				t.Fatalf("RedactURL(%q) = %q: leaks", raw, out)
			}
		}
	})
}
