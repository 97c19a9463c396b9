package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/internal/metrics"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/secret"
	"github.com/otai-dev/otai/server"
)

const testSecret = "hunter2-api-key-9f8e7d"

func init() { secret.Register(testSecret) }

// clock is a settable clock for readiness tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// sampleRun is a triage run of three tickets: one moved, one skipped, one
// whose move failed (with a secret in the error), plus a hostile subject.
func sampleRun(runner string, started time.Time) orchestrator.RunResult {
	classify := func(label string, conf float64) pipe.Result {
		return pipe.Result{Pipe: "classify", Status: pipe.StatusSucceeded, Action: fmt.Sprintf("%s %.0f%%", label, 100*conf),
			Data: map[string]any{"label": label, "confidence": conf, "top_k": []any{}}}
	}
	items := []pipe.ItemResult{
		{TicketID: "361", Number: "2026030200361", Subject: "Invoice paid twice - need the refund today", Queue: "Inbox", Priority: "normal",
			Status: pipe.StatusSucceeded, Steps: []pipe.Result{
				classify("Billing", 0.85),
				{Pipe: "move", Status: pipe.StatusSucceeded, Action: "set queue Inbox -> Billing", Data: map[string]any{"queue_to": "Billing"}},
				{Pipe: "note", Status: pipe.StatusSucceeded, Action: "noted"},
			}},
		{TicketID: "362", Subject: "<script>alert('x')</script> & more", Queue: "Inbox", Priority: "normal",
			Status: pipe.StatusSkipped, Steps: []pipe.Result{
				classify("Sales", 0.41),
				{Pipe: "note", Status: pipe.StatusSkipped, Action: "already noted"},
			}},
		{TicketID: "363", Subject: "Whole office locked out of CloudDesk " + strings.Repeat("and more ", 30), Queue: "Inbox", Priority: "normal",
			Status: pipe.StatusFailed, Steps: []pipe.Result{
				classify("Technical Support", 0.8),
				{Pipe: "move", Status: pipe.StatusFailed, Message: "PATCH https://x/api?token=" + testSecret + ": 403 Forbidden"},
			}},
	}
	return orchestrator.RunResult{Runner: runner, Started: started, Duration: 1234 * time.Millisecond, Status: pipe.StatusFailed,
		HTTPRetries: 7,
		Steps: []pipe.Result{
			{Pipe: "fetch", Status: pipe.StatusSucceeded, Action: "fetched 3 tickets",
				Data: map[string]any{"tickets": []string{"BODY-SHOULD-NOT-BE-KEPT"}}},
			{Pipe: "triage", Status: pipe.StatusFailed, Items: items},
		}}
}

func runners() []*orchestrator.Runner {
	return []*orchestrator.Runner{
		{ID: "triage-inbox", Triggers: []config.Trigger{{Interval: 2 * time.Minute}}},
		{ID: "nightly", Triggers: []config.Trigger{{Once: true}}, DryRun: true},
	}
}

type fixture struct {
	srv *server.Server
	ts  *httptest.Server
	clk *clock
	m   *metrics.Metrics
}

func newFixture(t *testing.T, o server.Options) *fixture {
	t.Helper()
	f := &fixture{clk: &clock{t: t0}, m: metrics.New()}
	if o.Metrics == nil {
		o.Metrics = f.m
	}
	o.Now = f.clk.Now
	f.srv = server.New(o)
	f.ts = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.ts.Close)
	return f
}

func (f *fixture) get(t *testing.T, path string) (int, http.Header, string) {
	t.Helper()
	res, err := f.ts.Client().Get(f.ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, string(b)
}

func TestHealthz(t *testing.T) {
	f := newFixture(t, server.Options{})
	code, h, body := f.get(t, "/healthz")
	if code != 200 || body != "ok\n" || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Errorf("healthz: %d %q %q", code, h.Get("Content-Type"), body)
	}
}

func TestReadyz(t *testing.T) {
	f := newFixture(t, server.Options{})
	ready := func(wantCode int, wantReason string) server.Readiness {
		t.Helper()
		code, h, body := f.get(t, "/readyz")
		if code != wantCode {
			t.Errorf("readyz: %d, want %d: %s", code, wantCode, body)
		}
		if h.Get("Content-Type") != "application/json" {
			t.Errorf("content type %q", h.Get("Content-Type"))
		}
		var rd server.Readiness
		if err := json.Unmarshal([]byte(body), &rd); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if !strings.Contains(rd.Reason, wantReason) {
			t.Errorf("reason %q, want it to contain %q", rd.Reason, wantReason)
		}
		return rd
	}
	ready(503, "services are not built yet")
	f.srv.SetRunners(runners())
	ready(200, "")
	f.clk.Add(5 * time.Minute)
	f.srv.Record(sampleRun("triage-inbox", f.clk.Now().Add(-1234*time.Millisecond))) // finished now; a failed run is still a run
	rd := ready(200, "")
	if len(rd.Runners) != 2 || rd.Runners[0].LastRun == nil || rd.Runners[0].MaxAgeSeconds != 360 {
		t.Errorf("runners: %+v", rd.Runners)
	}
	f.clk.Add(7 * time.Minute)
	ready(503, "runner triage-inbox: last run finished 7m ago (expected every 2m0s, limit 6m)")
	f.srv.Record(sampleRun("triage-inbox", f.clk.Now()))
	ready(200, "")
}

func TestReadyzShuttingDown(t *testing.T) {
	srv := server.New(server.Options{Addr: "127.0.0.1:0"})
	srv.SetRunners(runners())
	ctx, cancel := context.WithCancel(t.Context())
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	base := "http://" + srv.Addr()
	if code := status(t, base+"/readyz"); code != 200 {
		t.Fatalf("before cancel: %d", code)
	}
	cancel() // the first SIGINT: not ready, but still serving
	deadline := time.Now().Add(5 * time.Second)
	for status(t, base+"/readyz") != 503 {
		if time.Now().After(deadline) {
			t.Fatal("readyz still 200 after the context was cancelled")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if code := status(t, base+"/healthz"); code != 200 {
		t.Errorf("healthz while stopping: %d", code)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("still serving after Shutdown")
	}
}

func status(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func TestStartErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv := server.New(server.Options{Addr: ln.Addr().String()})
	if err := srv.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "listen") {
		srv.Shutdown(context.Background())
		t.Fatalf("Start on a busy port: %v", err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown without a running server: %v", err)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	f := newFixture(t, server.Options{})
	f.srv.SetRunners(runners())
	f.srv.Record(sampleRun("triage-inbox", t0))
	code, h, body := f.get(t, "/metrics")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %q", code, h.Get("Content-Type"))
	}
	for _, want := range []string{
		`otai_runs_total{runner="triage-inbox",status="failed"} 1`,
		`otai_runs_total{runner="nightly",status="succeeded"} 0`, // initialised by SetRunners
		`otai_tickets_total{runner="triage-inbox",status="failed"} 1`,
		`otai_pipe_results_total{pipe="move",runner="triage-inbox",status="failed"} 1`,
		`otai_last_run_success{runner="triage-inbox"} 0`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, testSecret) || strings.Contains(body, `"361"`) {
		t.Error("/metrics has a secret or a ticket id")
	}

	noMetrics := server.New(server.Options{})
	rec := httptest.NewRecorder()
	noMetrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 404 {
		t.Errorf("/metrics without Metrics: %d, want 404", rec.Code)
	}
}

func TestAPIRuns(t *testing.T) {
	f := newFixture(t, server.Options{History: 3})
	f.srv.SetRunners(runners())
	for i := range 5 {
		f.srv.Record(sampleRun("triage-inbox", t0.Add(time.Duration(i)*time.Minute)))
	}
	code, h, body := f.get(t, "/api/runs")
	if code != 200 || h.Get("Content-Type") != "application/json" {
		t.Fatalf("api/runs: %d %q", code, h.Get("Content-Type"))
	}
	// The JSON shape, as a client without our types sees it.
	var raw map[string]any
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"now", "started_at", "ready", "runners", "runs"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("missing key %q", k)
		}
	}
	var st server.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Runs) != 3 || st.Runs[0].Seq != 5 || st.Runs[2].Seq != 3 {
		t.Fatalf("runs: want the newest 3, newest first; got %d, seqs %v", len(st.Runs), seqs(st.Runs))
	}
	r := st.Runs[0]
	if runs, _ := raw["runs"].([]any); len(runs) == 0 || runs[0].(map[string]any)["http_retries"] != 7.0 {
		t.Errorf("/api/runs lacks the run's HTTP retries (http_retries: 7):\n%s", body)
	}
	if r.Runner != "triage-inbox" || r.Status != "failed" || r.DurationMS != 1234 || r.HTTPRetries != 7 ||
		r.Counts != (server.Counts{Succeeded: 1, Skipped: 1, Failed: 1}) || !r.Finished.Equal(r.Started.Add(1234*time.Millisecond)) {
		t.Errorf("run: %+v", r)
	}
	if len(r.Tickets) != 3 {
		t.Fatalf("tickets: %+v", r.Tickets)
	}
	moved := r.Tickets[0]
	if moved.ID != "361" || moved.QueueFrom != "Inbox" || moved.QueueTo != "Billing" || moved.Queue() != "Inbox -> Billing" ||
		moved.ConfidenceText() != "85%" || moved.Action != "set queue Inbox -> Billing; noted" || moved.Failed {
		t.Errorf("moved ticket: %+v", moved)
	}
	failed := r.Tickets[2]
	if !failed.Failed || !strings.Contains(failed.Action, "move FAILED: ") || len([]rune(failed.Subject)) > 80 {
		t.Errorf("failed ticket: %+v", failed)
	}
	if len(r.Failures) != 1 || !strings.HasPrefix(r.Failures[0], "ticket 363: move: ") {
		t.Errorf("failures: %q", r.Failures)
	}
	if strings.Contains(body, testSecret) || !strings.Contains(body, secret.Mask) {
		t.Error("the secret is not redacted in /api/runs")
	}
	if strings.Contains(body, "BODY-SHOULD-NOT-BE-KEPT") {
		t.Error("pipe data (ticket bodies) kept in the history")
	}
	if len(st.Runners) != 2 || st.Runners[0].ID != "triage-inbox" || st.Runners[0].Runs != 5 ||
		st.Runners[0].LastRun == nil || st.Runners[0].LastRun.Seq != 5 || st.Runners[0].LastRun.Tickets != nil ||
		st.Runners[1].LastRun != nil || strings.Join(st.Runners[0].Triggers, ",") != "every 2m0s" {
		t.Errorf("runners: %+v", st.Runners)
	}
	// An empty server has empty lists, not nulls.
	empty := newFixture(t, server.Options{})
	_, _, body = empty.get(t, "/api/runs")
	if !strings.Contains(body, `"runners": []`) || !strings.Contains(body, `"runs": []`) {
		t.Errorf("empty: %s", body)
	}
}

func seqs(rs []server.RunView) []uint64 {
	var out []uint64
	for _, r := range rs {
		out = append(out, r.Seq)
	}
	return out
}

func TestPage(t *testing.T) {
	f := newFixture(t, server.Options{Version: "v1.2.3"})
	code, h, body := f.get(t, "/")
	if code != 200 || h.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("page: %d %q", code, h.Get("Content-Type"))
	}
	if !strings.Contains(body, "not ready: services are not built yet") || !strings.Contains(body, "No run has finished yet") {
		t.Errorf("empty page:\n%s", body)
	}

	f.srv.SetRunners(runners())
	f.srv.Record(sampleRun("triage-inbox", t0.Add(-2*time.Second)))
	code, h, body = f.get(t, "/")
	if code != 200 {
		t.Fatal(code)
	}
	for _, want := range []string{
		`<meta http-equiv="refresh" content="10">`,
		`<code>triage-inbox</code>`, `every 2m0s`, // runner row with its trigger
		`<code>nightly</code> <span class="badge dry">dry run</span>`, `no run yet`,
		`<tr class="ticket succeeded">`, `<code>361</code>`, `Invoice paid twice - need the refund today`,
		`Inbox -&gt; Billing`, `85%`, `set queue Inbox -&gt; Billing; noted`,
		`<tr class="ticket failed">`, `move FAILED: `,
		`&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more`,
		`1.2s`, `v1.2.3`, `id="ready">ready<`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(body, "<script") {
		t.Error("page contains a raw <script")
	}
	if strings.Contains(body, testSecret) {
		t.Error("page contains the secret")
	}
	if strings.Contains(body, strings.Repeat("and more ", 10)) {
		t.Error("long subject not clipped")
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", h)
	}
}

func TestRouting(t *testing.T) {
	f := newFixture(t, server.Options{})
	if code, _, _ := f.get(t, "/nope"); code != 404 {
		t.Errorf("/nope: %d", code)
	}
	res, err := f.ts.Client().Post(f.ts.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", res.StatusCode)
	}
	req, _ := http.NewRequest("HEAD", f.ts.URL+"/healthz", nil)
	res, err = f.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("HEAD /healthz: %d", res.StatusCode)
	}
}

// TestConcurrentRecord records from several runners while the page and
// API are read (run with -race).
func TestConcurrentRecord(t *testing.T) {
	f := newFixture(t, server.Options{History: 10})
	f.srv.SetRunners(runners())
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 25 {
				f.srv.Record(sampleRun(fmt.Sprintf("r%d", i), t0.Add(time.Duration(j)*time.Second)))
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			f.get(t, "/")
			f.get(t, "/api/runs")
			f.get(t, "/readyz")
		}
	})
	wg.Wait()
	st := f.srv.Status()
	if len(st.Runs) != 10 || st.Runs[0].Seq != 100 {
		t.Errorf("runs %d, newest seq %d", len(st.Runs), st.Runs[0].Seq)
	}
	if len(st.Runners) != 6 { // 2 announced + r0..r3, which only ran
		t.Errorf("runners: %d, want 6", len(st.Runners))
	}
}

// BenchmarkPage renders the page and the API with a full history of 50
// runs of 50 tickets each.
func BenchmarkPage(b *testing.B) {
	srv := server.New(server.Options{Metrics: metrics.New()})
	srv.SetRunners(runners())
	r := sampleRun("triage-inbox", t0)
	items := r.Steps[1].Items
	for len(r.Steps[1].Items) < 50 {
		r.Steps[1].Items = append(r.Steps[1].Items, items...)
	}
	for range 50 {
		srv.Record(r)
	}
	for _, path := range []string{"/", "/api/runs", "/metrics"} {
		b.Run(path, func(b *testing.B) {
			var n int
			for b.Loop() {
				rec := httptest.NewRecorder()
				srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
				n = rec.Body.Len()
			}
			b.ReportMetric(float64(n), "bytes/op")
		})
	}
	b.Run("Record", func(b *testing.B) {
		for b.Loop() {
			srv.Record(r)
		}
	})
}

func TestPageShowsTicketsOfNewestRunsOnly(t *testing.T) {
	f := newFixture(t, server.Options{})
	f.srv.SetRunners(runners())
	for i := range server.PageRunsWithTickets + 3 {
		f.srv.Record(sampleRun("triage-inbox", t0.Add(time.Duration(i)*time.Minute)))
	}
	_, _, body := f.get(t, "/")
	if n := strings.Count(body, `<details class="run"`); n != server.PageRunsWithTickets {
		t.Errorf("%d runs with ticket tables, want %d", n, server.PageRunsWithTickets)
	}
	if n := strings.Count(body, `<p class="run older">`); n != 3 {
		t.Errorf("%d summary lines, want 3", n)
	}
	if n := strings.Count(body, `<details class="run" open>`); n != 5 {
		t.Errorf("%d runs open, want 5", n)
	}
}

// TestModels: the page and /api/runs show the models the classifiers
// loaded, with how they were trained; a model without training figures
// says so instead of showing zeros.
func TestModels(t *testing.T) {
	f := newFixture(t, server.Options{})
	if _, _, body := f.get(t, "/"); strings.Contains(body, `id="models"`) {
		t.Error("a models table before any model is known")
	}
	f.srv.SetModels([]server.ModelView{
		{Service: "queue-model", Name: "linear/queue", Version: "v1+99dff66c8b2b", Labels: 5, TrainedAt: t0.Add(-48 * time.Hour),
			Examples: 360, HeldOut: 35, Accuracy: 0.9714, MacroF1: 0.9701, ECE: 0.026},
		{Service: "rules", Name: "rules", Labels: 2},
	})
	_, _, body := f.get(t, "/")
	for _, want := range []string{
		`<table id="models">`, `<code>queue-model</code>`, `linear/queue <span class="muted">v1&#43;99dff66c8b2b</span>`,
		`>2026-`, `title="on 35 held-out examples">0.971<`, `>0.970<`, `>0.026<`,
		`<code>rules</code>`, `not measured`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	_, _, js := f.get(t, "/api/runs")
	var st server.Status
	if err := json.Unmarshal([]byte(js), &st); err != nil || len(st.Models) != 2 || st.Models[0].Examples != 360 || st.Models[1].HeldOut != 0 {
		t.Errorf("api models: %+v, %v", st.Models, err)
	}
}
