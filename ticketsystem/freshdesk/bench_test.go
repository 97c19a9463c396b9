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

// runRateLimited triages n tickets against a fake limited to limit calls
// per window, on the real clock, and reports what happened. The fake's
// "minute" is window long; the client is told the same (RateWindow), so a
// window of 1s is the real 100/min scaled by 60.
func runRateLimited(t testing.TB, n, limit int, window time.Duration) {
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
		HTTP: &httpx.Options{RateWindow: window}}, slog.New(slog.DiscardHandler))
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
	ideal := time.Duration(float64(served) / float64(limit) * float64(window))
	scale := float64(time.Minute) / float64(window)
	t.Logf("%d tickets, %d requests served (%d x 429 absorbed by retries, max %d in one window of %d allowed); wall %v, ideal %v (%.0f%%); at real scale (window 1m, x%.0f): wall %v, ideal %v",
		n, served, st.RateLimited, st.MaxInWindow, limit, wall.Round(time.Millisecond), ideal.Round(time.Millisecond),
		100*float64(ideal)/float64(wall), scale, time.Duration(float64(wall)*scale).Round(time.Second), time.Duration(float64(ideal)*scale).Round(time.Second))
	if st.MaxInWindow > limit {
		t.Errorf("fake served %d in one window, limit %d", st.MaxInWindow, limit)
	}
}

// TestRateLimitedTriageShort runs in every `go test`: 30 tickets, 20 calls
// per 200ms window.
func TestRateLimitedTriageShort(t *testing.T) {
	if testing.Short() {
		t.Skip("real clock")
	}
	runRateLimited(t, 30, 20, 200*time.Millisecond)
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
	runRateLimited(t, n, 100, time.Duration(float64(time.Minute)/scale))
}
