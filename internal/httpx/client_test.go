package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otai-dev/otai/ticket"
)

// fakeClock makes Sleep instant and records what was waited.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slept = append(f.slept, d)
	f.now = f.now.Add(d)
	return nil
}

func (f *fakeClock) total() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var t time.Duration
	for _, d := range f.slept {
		t += d
	}
	return t
}

func newTestClient(t *testing.T, srv *httptest.Server, clk *fakeClock, mod func(*Options)) *Client {
	t.Helper()
	o := Options{BaseURL: srv.URL + "/api", Sleep: clk.Sleep, Now: clk.Now, MaxRetries: 3,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 80 * time.Millisecond}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRetryStatuses(t *testing.T) {
	tests := []struct {
		name        string
		method      string
		policy      RetryPolicy
		statuses    []int
		retryAfter  string
		wantStatus  int
		wantCalls   int
		wantMinWait time.Duration
		wantErr     bool
	}{
		{"get 503 then ok", "GET", Idempotent, []int{503, 200}, "", 200, 2, 0, false},
		{"get 502 504 then ok", "GET", Idempotent, []int{502, 504, 200}, "", 200, 3, 0, false},
		{"get 429 honours retry-after", "GET", Idempotent, []int{429, 200}, "7", 200, 2, 7 * time.Second, false},
		{"put 503 retry-after", "PUT", Idempotent, []int{503, 200}, "3", 200, 2, 3 * time.Second, false},
		{"get gives up", "GET", Idempotent, []int{503, 503, 503, 503, 503}, "", 503, 4, 0, true},
		{"post 429 is retried (refused, not processed)", "POST", RetryIfNotSent, []int{429, 201}, "2", 201, 2, 2 * time.Second, false},
		{"post 503 is not retried without a check", "POST", RetryIfNotSent, []int{503, 201}, "", 503, 1, 0, true},
		{"post 500 never retried", "POST", RetryIfNotSent, []int{500, 201}, "", 500, 1, 0, true},
		{"never policy", "GET", Never, []int{503, 200}, "", 503, 1, 0, true},
		{"400 not retried", "GET", Idempotent, []int{400, 200}, "", 400, 1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1)) - 1
				st := tt.statuses[min(n, len(tt.statuses)-1)]
				if st == 429 || st == 503 {
					if tt.retryAfter != "" {
						w.Header().Set("Retry-After", tt.retryAfter)
					}
				}
				w.WriteHeader(st)
				fmt.Fprintf(w, `{"n":%d}`, n)
			}))
			defer srv.Close()
			clk := newFakeClock()
			c := newTestClient(t, srv, clk, nil)
			resp, err := c.Do(context.Background(), &Request{Method: tt.method, Path: "/x", Body: map[string]int{"a": 1}, Policy: tt.policy})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if resp == nil || resp.Status != tt.wantStatus {
				t.Fatalf("resp = %+v, want status %d", resp, tt.wantStatus)
			}
			if got := int(calls.Load()); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			if clk.total() < tt.wantMinWait {
				t.Errorf("waited %v, want at least %v", clk.total(), tt.wantMinWait)
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Status != tt.wantStatus || e.Attempts != tt.wantCalls {
					t.Errorf("error = %#v", err)
				}
			}
		})
	}
}

func TestPostRetriedWhenEffectAbsent(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(502)
			return
		}
		w.WriteHeader(201)
	}))
	defer srv.Close()
	c := newTestClient(t, srv, newFakeClock(), nil)
	var checked int
	resp, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/notes", Body: "x", Policy: RetryIfNotSent,
		EffectAbsent: func(context.Context) (bool, error) { checked++; return true, nil }})
	if err != nil || resp.Status != 201 || checked != 1 || calls.Load() != 2 {
		t.Fatalf("err=%v resp=%+v checked=%d calls=%d", err, resp, checked, calls.Load())
	}
	// When the effect is present, no second POST.
	calls.Store(0)
	_, err = c.Do(context.Background(), &Request{Method: "POST", Path: "/notes", Body: "x", Policy: RetryIfNotSent,
		EffectAbsent: func(context.Context) (bool, error) { return false, nil }})
	if err == nil || calls.Load() != 1 {
		t.Fatalf("err=%v calls=%d, want one call and an error", err, calls.Load())
	}
}

// A POST whose connection dies after the request was written must not be
// sent again: the server may have acted on it.
func TestPostNotRetriedAfterWrite(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.Copy(io.Discard, r.Body)
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
	}))
	defer srv.Close()
	c := newTestClient(t, srv, newFakeClock(), nil)
	_, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/notes", Body: map[string]string{"body": "hi"}, Policy: RetryIfNotSent})
	var e *Error
	if !errors.As(err, &e) || e.NotSent || e.Status != 0 {
		t.Fatalf("err = %#v", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("POST sent %d times, want 1", calls.Load())
	}
	// The same failure on a GET is retried.
	calls.Store(0)
	_, err = c.Do(context.Background(), &Request{Method: "GET", Path: "/t", Policy: Idempotent})
	if err == nil || calls.Load() != 4 {
		t.Fatalf("GET: err=%v calls=%d, want 4 calls", err, calls.Load())
	}
}

// dialFail fails the first n round trips with a dial error, then passes on.
type dialFail struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (d *dialFail) RoundTrip(r *http.Request) (*http.Response, error) {
	if d.n.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	}
	return d.next.RoundTrip(r)
}

func TestPostRetriedOnDialError(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(201)
	}))
	defer srv.Close()
	tr := &dialFail{next: http.DefaultTransport}
	tr.n.Store(2)
	c := newTestClient(t, srv, newFakeClock(), func(o *Options) { o.Transport = tr })
	resp, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/notes", Body: "x", Policy: RetryIfNotSent})
	if err != nil || resp.Status != 201 || resp.Attempts != 3 || calls.Load() != 1 {
		t.Fatalf("err=%v resp=%+v calls=%d", err, resp, calls.Load())
	}
}

func TestRealDialErrorIsNotSent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	clk := newFakeClock()
	c, err := New(Options{BaseURL: "http://" + addr, Sleep: clk.Sleep, Now: clk.Now, MaxRetries: 2})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), &Request{Method: "POST", Path: "/x", Body: "x", Policy: RetryIfNotSent})
	var e *Error
	if !errors.As(err, &e) || !e.NotSent || e.Attempts != 3 {
		t.Fatalf("err = %#v", err)
	}
	if !errors.Is(Kind(err), ticket.ErrUnavailable) {
		t.Errorf("Kind = %v", Kind(err))
	}
}

func TestRateLimitPerHost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	clk := newFakeClock()
	c := newTestClient(t, srv, clk, func(o *Options) { o.RatePerMinute = 60; o.Burst = 2 })
	for i := 0; i < 6; i++ {
		if _, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/x"}); err != nil {
			t.Fatal(err)
		}
	}
	// 2 from the burst, then one per second.
	if got := clk.total(); got < 4*time.Second-time.Millisecond || got > 4*time.Second+50*time.Millisecond {
		t.Fatalf("waited %v, want about 4s", got)
	}
}

func TestLearnsRateAndPausesOnRemainingZero(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Total", "120")
		rem := 5 - n.Add(1)
		w.Header().Set("X-RateLimit-Remaining", fmt.Sprint(max(rem, 0)))
	}))
	defer srv.Close()
	clk := newFakeClock()
	c := newTestClient(t, srv, clk, func(o *Options) { o.LearnRateLimit = true })
	// The first response teaches the rate; the bucket then holds one token.
	for i := 0; i < 4; i++ {
		if _, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/x"}); err != nil {
			t.Fatal(err)
		}
	}
	// Learned 120*0.95/min = 1.9/s: the third and fourth request need ~1.05s of waiting.
	if got := clk.total(); got < time.Second || got > 1200*time.Millisecond {
		t.Fatalf("waited %v, want about 1.05s", got)
	}
	l := c.limiter(strings.TrimPrefix(srv.URL, "http://"))
	if l.rate < 1.89 || l.rate > 1.91 {
		t.Fatalf("learned rate %v/s", l.rate)
	}
}

func Test429PausesTheHost(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(429)
		}
	}))
	defer srv.Close()
	clk := newFakeClock()
	c := newTestClient(t, srv, clk, nil)
	if _, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/x"}); err != nil {
		t.Fatal(err)
	}
	if clk.total() != 30*time.Second {
		t.Fatalf("waited %v, want 30s", clk.total())
	}
	// A Retry-After beyond MaxRetryAfter is returned, not waited for.
	n.Store(0)
	c2 := newTestClient(t, srv, newFakeClock(), func(o *Options) { o.MaxRetryAfter = 10 * time.Second })
	_, err := c2.Do(context.Background(), &Request{Method: "GET", Path: "/x"})
	var e *Error
	if !errors.As(err, &e) || e.RetryAfter != 30*time.Second || !errors.Is(Kind(err), ticket.ErrRateLimited) {
		t.Fatalf("err = %#v", err)
	}
	te := TicketError("getting ticket 1", err, "", "", "")
	var tErr *ticket.Error
	if !errors.As(te, &tErr) || tErr.RetryAfter != 30*time.Second || !ticket.Temporary(te) {
		t.Fatalf("ticket error = %#v", te)
	}
}

func TestRedaction(t *testing.T) {
	const pass = "s3cr3t-Passw0rd-xyz"
	const token = "tok-ABCDEF-123456"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		fmt.Fprintf(w, `{"error":"bad login %s with %s"}`, r.URL.Query().Get("Password"), r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	var logs bytes.Buffer
	u := strings.Replace(srv.URL, "http://", "http://agent:"+pass+"@", 1)
	clk := newFakeClock()
	c, err := New(Options{BaseURL: u, Auth: HeaderAuth("Authorization", "Token token="+token), Sleep: clk.Sleep, Now: clk.Now,
		MaxRetries: 1, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), &Request{Method: "GET", Path: "/Ticket?UserLogin=agent&Password=" + pass})
	if err == nil {
		t.Fatal("want error")
	}
	var e *Error
	errors.As(err, &e)
	for _, s := range []string{err.Error(), string(e.Body), e.URL, logs.String(), TicketError("x", err, "", string(e.Body), "").Error()} {
		if strings.Contains(s, pass) || strings.Contains(s, token) {
			t.Errorf("secret leaked: %s", s)
		}
	}
	if !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("error text lost its status: %s", err)
	}
	// A transport error carries the URL too.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	c2, _ := New(Options{BaseURL: "http://agent:" + pass + "@" + addr, Sleep: clk.Sleep, Now: clk.Now, MaxRetries: -1})
	_, err = c2.Do(context.Background(), &Request{Method: "GET", Path: "/x?SessionID=" + token})
	if err == nil || strings.Contains(err.Error(), pass) || strings.Contains(err.Error(), token) || strings.Contains(fmt.Sprintf("%+v", errors.Unwrap(err)), pass) {
		t.Fatalf("transport error leaks: %v", err)
	}
}

func TestTimeoutPerAttempt(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	defer close(release)
	c := newTestClient(t, srv, newFakeClock(), func(o *Options) { o.Timeout = 20 * time.Millisecond })
	var out struct{ OK bool }
	start := time.Now()
	_, err := c.JSON(context.Background(), "GET", "/slow", nil, nil, &out, Idempotent)
	if err != nil || !out.OK || calls.Load() != 2 {
		t.Fatalf("err=%v out=%v calls=%d", err, out, calls.Load())
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
}

func TestContextCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	c := newTestClient(t, srv, newFakeClock(), func(o *Options) {
		o.Sleep = func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }
	})
	_, err := c.Do(ctx, &Request{Method: "GET", Path: "/x"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	_, err = c.Do(ctx, &Request{Method: "GET", Path: "/x"})
	if !errors.Is(err, context.Canceled) || Kind(err) != nil {
		t.Fatalf("err = %v", err)
	}
}

func TestRefusesOtherHost(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	c := newTestClient(t, srv, newFakeClock(), nil)
	if _, err := c.Do(context.Background(), &Request{Method: "GET", Path: "https://evil.example.com/api?x=1"}); err == nil {
		t.Fatal("sent to another host")
	}
	resp, err := c.Do(context.Background(), &Request{Method: "GET", Path: srv.URL + "/api/tickets?page=2"})
	if err != nil || resp.Status != 200 {
		t.Fatalf("same-host absolute URL: %v", err)
	}
}

func TestMetricsHookAndPaths(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Content-Type"))
		if r.URL.Query().Get("fail") == "1" && len(got) == 1 {
			w.WriteHeader(503)
		}
	}))
	defer srv.Close()
	var mu sync.Mutex
	var obs []Observation
	c := newTestClient(t, srv, newFakeClock(), func(o *Options) {
		o.Metrics = HookFunc(func(x Observation) { mu.Lock(); obs = append(obs, x); mu.Unlock() })
	})
	if _, err := c.JSON(context.Background(), "PUT", "/tickets/7", map[string][]string{"fail": {"1"}}, map[string]int{"a": 1}, nil, Idempotent); err != nil {
		t.Fatal(err)
	}
	if len(obs) != 2 || obs[0].Status != 503 || !obs[0].Retrying || obs[1].Attempt != 1 || obs[1].Status != 200 || obs[1].Path != "/api/tickets/7" {
		t.Fatalf("observations = %+v", obs)
	}
	if got[0] != "PUT /api/tickets/7?fail=1 application/json" {
		t.Fatalf("request = %q", got[0])
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "0": 0, "5": 5 * time.Second, "1.5": 1500 * time.Millisecond, "junk": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestKind(t *testing.T) {
	for st, want := range map[int]error{400: ticket.ErrValidation, 401: ticket.ErrAuth, 403: ticket.ErrForbidden,
		404: ticket.ErrNotFound, 422: ticket.ErrValidation, 429: ticket.ErrRateLimited, 500: ticket.ErrUnavailable, 503: ticket.ErrUnavailable} {
		if got := Kind(&Error{Status: st}); got != want {
			t.Errorf("Kind(%d) = %v, want %v", st, got, want)
		}
	}
}

func TestRemainingZeroPausesHost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Total", "60")
		w.Header().Set("X-RateLimit-Remaining", "0")
	}))
	defer srv.Close()
	clk := newFakeClock()
	c := newTestClient(t, srv, clk, nil)
	for i := 0; i < 2; i++ {
		if _, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/x"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := clk.total(); got != time.Second {
		t.Fatalf("waited %v, want 1s (one sixtieth of the window)", got)
	}
}
