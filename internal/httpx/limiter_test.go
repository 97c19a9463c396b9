package httpx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// creditServer reports a budget of 60 credits per minute (learned as
// 0.95/s) and charges what cost says for each path in
// X-RateLimit-Used-CurrentRequest, as Freshdesk does for include=.
func creditServer(t *testing.T, cost func(path string) string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Total", "60")
		w.Header().Set("X-RateLimit-Remaining", "50")
		if c := cost(r.URL.Path); c != "" {
			w.Header().Set("X-RateLimit-Used-CurrentRequest", c)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// tokens is how long n tokens take at the learned 0.95/s.
func tokens(n float64) time.Duration { return time.Duration(n / 0.95 * float64(time.Second)) }

func TestUsedCurrentRequestTakesExtraTokens(t *testing.T) {
	tests := []struct {
		name string
		cost string
		n    int
		want time.Duration // total wait
	}{
		// The first response teaches the rate and takes 2 more tokens:
		// the bucket owes 1. The second request waits for 2, then each
		// one pays its 3.
		{"three credits each", "3", 4, tokens(2 + 3 + 3)},
		{"one credit each", "1", 4, tokens(0 + 1 + 1)},
		{"no header", "", 4, tokens(0 + 1 + 1)},
		// A bogus cost holds the host for one window (57 tokens) at most.
		{"absurd cost", "9223372036854775807", 2, tokens(57)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := creditServer(t, func(string) string { return tc.cost })
			clk := newFakeClock()
			c := newTestClient(t, srv, clk, func(o *Options) { o.LearnRateLimit = true })
			for i := 0; i < tc.n; i++ {
				if _, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/tickets"}); err != nil {
					t.Fatal(err)
				}
			}
			if got := clk.total(); got < tc.want-10*time.Millisecond || got > tc.want+10*time.Millisecond {
				t.Fatalf("waited %v, want %v", got, tc.want)
			}
		})
	}
}

// TestExtraCostOnlyWhereCharged: a costly request delays what follows by
// its extra credits; cheap requests after it pay one token each.
func TestExtraCostOnlyWhereCharged(t *testing.T) {
	srv := creditServer(t, func(p string) string {
		if strings.HasSuffix(p, "/list") {
			return "3"
		}
		return "1"
	})
	clk := newFakeClock()
	c := newTestClient(t, srv, clk, func(o *Options) { o.LearnRateLimit = true })
	ctx := context.Background()
	if _, err := c.Do(ctx, &Request{Method: "GET", Path: "/list"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if _, err := c.Do(ctx, &Request{Method: "PUT", Path: "/one"}); err != nil {
			t.Fatal(err)
		}
	}
	if want, got := tokens(2+1+1+1+1), clk.total(); got < want-10*time.Millisecond || got > want+10*time.Millisecond {
		t.Fatalf("waited %v, want %v", got, want)
	}
}
