package freshdesk_test

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/ticket"
	"github.com/otai-dev/otai/ticketsystem/freshdesk"
	"github.com/otai-dev/otai/ticketsystem/freshdesk/freshdeskfake"
)

// runRateLimited triages n tickets against a fake limited to limit
// credits per window, on the real clock, finding them through findVia
// (auto, list or search), and reports what happened. The fake's "minute"
// is window long; the client is told the same (RateWindow), so a window
// of 1s is the real 100/min scaled by 60.
func runRateLimited(t testing.TB, n, limit int, window time.Duration, findVia string) freshdeskfake.Stats {
	fake := freshdeskfake.New(freshdeskfake.Options{APIKey: apiKey, RateLimit: limit, Window: window})
	defer fake.Close()
	base := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		subj := "Printer jams"
		if i%2 == 0 {
			subj = "Invoice is wrong"
		}
		fake.AddTicket(freshdeskfake.Ticket{Subject: subj, Description: "<p>" + subj + "</p>", GroupID: 1, CreatedAt: base.Add(time.Duration(i) * time.Second)})
	}
	sys, err := freshdesk.New(&freshdesk.Params{BaseURL: fake.URL(), APIKey: apiKey,
		FindVia: findVia, HTTP: &httpx.Options{RateWindow: window}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, err := triage(context.Background(), sys, ticket.SearchCriteria{State: &ticket.Entity{Name: "Open"}, Limit: n}, 4)
	wall := time.Since(start)
	if err != nil || got != n {
		t.Fatalf("triaged %d of %d: %v", got, n, err)
	}
	st := fake.Stats()
	served := st.Requests - st.RateLimited
	ideal := time.Duration(float64(st.Credits) / float64(limit) * float64(window))
	scale := float64(time.Minute) / float64(window)
	t.Logf("%d tickets via %s, %d requests served for %d credits (%d x 429 absorbed by retries, max %d credits in one window of %d allowed); wall %v, ideal %v (%.0f%%); at real scale (window 1m, x%.0f): wall %v, ideal %v",
		n, findVia, served, st.Credits, st.RateLimited, st.MaxCredits, limit, wall.Round(time.Millisecond), ideal.Round(time.Millisecond),
		100*float64(ideal)/float64(wall), scale, time.Duration(float64(wall)*scale).Round(time.Second), time.Duration(float64(ideal)*scale).Round(time.Second))
	if st.MaxInWindow > limit {
		t.Errorf("fake served %d in one window, limit %d", st.MaxInWindow, limit)
	}
	return st
}

// TestRateLimitedTriageShort runs in every `go test`: 30 tickets, 20 calls
// per 200ms window.
func TestRateLimitedTriageShort(t *testing.T) {
	if testing.Short() {
		t.Skip("real clock")
	}
	runRateLimited(t, 30, 20, 200*time.Millisecond, "auto")
}

// TestRateLimitedListWithDescriptions: the list endpoint with
// include=description costs 3 credits a call (X-RateLimit-Used-CurrentRequest);
// the client counts them, so paging through 250 tickets four times (12
// list calls, 36 credits, against 20 per 200ms) draws no 429, and a triage
// that reads the list stays under the limit as well.
func TestRateLimitedListWithDescriptions(t *testing.T) {
	if testing.Short() {
		t.Skip("real clock")
	}
	const limit, window = 20, 200 * time.Millisecond
	fake := freshdeskfake.New(freshdeskfake.Options{APIKey: apiKey, RateLimit: limit, Window: window})
	defer fake.Close()
	seed(fake, 250)
	sys, err := freshdesk.New(&freshdesk.Params{BaseURL: fake.URL(), APIKey: apiKey, FindVia: "list",
		HTTP: &httpx.Options{RateWindow: window}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		got, err := sys.FindTickets(context.Background(), ticket.SearchCriteria{})
		if err != nil || len(got) != 250 || got[0].Body == "" {
			t.Fatalf("run %d: %d tickets, %v", i, len(got), err)
		}
	}
	st := fake.Stats()
	if lists := st.ByRoute["GET /tickets"]; lists != 12 || st.Credits < 3*lists {
		t.Errorf("%d list calls for %d credits, want 12 calls of 3 credits", lists, st.Credits)
	}
	if st.RateLimited != 0 || st.MaxCredits > limit+2 {
		t.Errorf("%d x 429, max %d credits in one window; want none over %d (+2: the last call may overdraw)", st.RateLimited, st.MaxCredits, limit)
	}
	if st := runRateLimited(t, 30, limit, window, "list"); st.RateLimited != 0 {
		t.Errorf("triage via the list: %d x 429", st.RateLimited)
	}
}

// TestRateLimitedTriage1000 is the speed figure: 1,000 tickets against a
// fake limited to 100 calls per minute, with the minute scaled down by
// OTAI_FD_BENCH_SCALE (default 60: one "minute" lasts one second).
//
//	OTAI_FD_BENCH=1 go test -run TestRateLimitedTriage1000 -v ./ticketsystem/freshdesk/
func TestRateLimitedTriage1000(t *testing.T) {
	if os.Getenv("OTAI_FD_BENCH") == "" {
		t.Skip("set OTAI_FD_BENCH=1 (takes about 21s)")
	}
	scale := 60.0
	if v, err := strconv.ParseFloat(os.Getenv("OTAI_FD_BENCH_SCALE"), 64); err == nil && v > 0 {
		scale = v
	}
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("OTAI_FD_BENCH_TICKETS")); err == nil && v > 0 {
		n = v
	}
	runRateLimited(t, n, 100, time.Duration(float64(time.Minute)/scale), "auto")
}
