// Package httpx is otai's one REST transport, shared by every adapter that
// talks HTTP to a help desk (OTOBO/Znuny, Freshdesk, Zammad, ...).
//
// A Client wraps net/http with:
//
//   - a timeout per attempt (Options.Timeout) on top of the caller's context;
//   - retries with exponential backoff and jitter on connection errors, 429,
//     502, 503 and 504, honouring Retry-After, but only where a retry cannot
//     duplicate an effect (see RetryPolicy);
//   - a client-side rate limit per host (a token bucket, Options.RatePerMinute
//     and Burst), which also learns from X-RateLimit-Total, slows down when
//     X-RateLimit-Remaining reaches 0, and pauses the whole host on 429 /
//     Retry-After so concurrent callers do not pile on;
//   - credential redaction: URLs in errors and logs lose their userinfo and
//     credential query parameters (token, password, api_key, SessionID,
//     UserLogin, ...), and every string in Options.Redact or registered with
//     package secret is masked in error texts, bodies kept in errors and logs;
//   - a metrics Hook called once per attempt.
//
// Adapters send a Request with Do (or the JSON helper) and get back a
// Response with the raw status, headers and body. A status >= 400 is also
// returned as an *Error (with the Response still set), so adapters can parse
// the help desk's own error body and map it to ticket errors; Kind gives the
// default mapping from status to the ticket sentinels.
//
//	c, err := httpx.New(httpx.Options{
//		BaseURL: "https://acme.freshdesk.com/api/v2",
//		Auth:    httpx.BasicAuth(apiKey, "X"),
//		RatePerMinute: 200,
//	})
//	var t fdTicket
//	_, err = c.JSON(ctx, http.MethodGet, "/tickets/42", nil, nil, &t, httpx.Idempotent)
package httpx
