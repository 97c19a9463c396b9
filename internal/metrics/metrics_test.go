package metrics_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/internal/metrics"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/secret"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// run is a triage run: fetch, then a for-each over three tickets, one of
// which failed in its update step.
func run(runner string, started time.Time) orchestrator.RunResult {
	ok := func(id string) pipe.ItemResult {
		return pipe.ItemResult{TicketID: id, Subject: "ticket " + id, Status: pipe.StatusSucceeded, Steps: []pipe.Result{
			{Pipe: "classify", Status: pipe.StatusSucceeded, Duration: 2 * time.Millisecond},
			{Pipe: "move", Status: pipe.StatusSucceeded, Duration: 5 * time.Millisecond},
		}}
	}
	bad := pipe.ItemResult{TicketID: "99", Status: pipe.StatusFailed, Steps: []pipe.Result{
		{Pipe: "classify", Status: pipe.StatusSucceeded},
		{Pipe: "move", Status: pipe.StatusFailed, Message: "403 forbidden"},
	}}
	return orchestrator.RunResult{Runner: runner, Started: started, Duration: 1500 * time.Millisecond, Status: pipe.StatusFailed,
		Steps: []pipe.Result{
			{Pipe: "fetch", Status: pipe.StatusSucceeded, Duration: 100 * time.Millisecond},
			{Pipe: "triage", Status: pipe.StatusFailed, Duration: time.Second, Items: []pipe.ItemResult{ok("1"), ok("2"), bad}},
		}}
}

func TestObserve(t *testing.T) {
	m := metrics.New()
	start := time.Unix(1_800_000_000, 0)
	m.Observe(run("triage", start))

	checks := []struct {
		name string
		got  float64
		want float64
	}{
		{"runs failed", testutil.ToFloat64(m.Runs().WithLabelValues("triage", "failed")), 1},
		{"runs succeeded (initialised)", testutil.ToFloat64(m.Runs().WithLabelValues("triage", "succeeded")), 0},
		{"tickets succeeded", testutil.ToFloat64(m.Tickets().WithLabelValues("triage", "succeeded")), 2},
		{"tickets failed", testutil.ToFloat64(m.Tickets().WithLabelValues("triage", "failed")), 1},
		{"tickets skipped", testutil.ToFloat64(m.Tickets().WithLabelValues("triage", "skipped")), 0},
		{"pipe classify succeeded", testutil.ToFloat64(m.PipeResults().WithLabelValues("triage", "classify", "succeeded")), 3},
		{"pipe move failed", testutil.ToFloat64(m.PipeResults().WithLabelValues("triage", "move", "failed")), 1},
		{"pipe triage failed", testutil.ToFloat64(m.PipeResults().WithLabelValues("triage", "triage", "failed")), 1},
		{"last run ts", testutil.ToFloat64(m.LastRun().WithLabelValues("triage")), 1_800_000_001.5},
		{"last run success", testutil.ToFloat64(m.LastRunSuccess().WithLabelValues("triage")), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.LastSuccess()); n != 0 {
		t.Errorf("last success: %d series after a failed run, want 0", n)
	}

	// A clean run flips the gauges.
	r := run("triage", start.Add(time.Minute))
	r.Status = pipe.StatusSucceeded
	r.Steps = r.Steps[:1]
	m.Observe(r)
	if got := testutil.ToFloat64(m.LastRunSuccess().WithLabelValues("triage")); got != 1 {
		t.Errorf("last run success = %v after a clean run", got)
	}
	if got := testutil.ToFloat64(m.LastSuccess().WithLabelValues("triage")); got != 1_800_000_061.5 {
		t.Errorf("last success ts = %v", got)
	}

	want := `
# HELP otai_runs_total Runs finished, by runner and status (succeeded, skipped, failed).
# TYPE otai_runs_total counter
otai_runs_total{runner="triage",status="failed"} 1
otai_runs_total{runner="triage",status="skipped"} 0
otai_runs_total{runner="triage",status="succeeded"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "otai_runs_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.RunDuration()); n != 1 {
		t.Errorf("run duration: %d series, want 1", n)
	}
	// fetch, triage, classify, move: one series each
	if n := testutil.CollectAndCount(m.PipeDuration()); n != 4 {
		t.Errorf("pipe duration: %d series, want 4", n)
	}
}

func TestHTTPHook(t *testing.T) {
	m := metrics.New()
	h := m.HTTPHook()
	h.ObserveRequest(httpx.Observation{Host: "helpdesk.example.com", Method: "get", Path: "/api/tickets/4711", Status: 503, Duration: 80 * time.Millisecond, Retrying: true})
	h.ObserveRequest(httpx.Observation{Host: "helpdesk.example.com", Method: "GET", Path: "/api/tickets/4711", Status: 200, Duration: 20 * time.Millisecond, Attempt: 1, Waited: 500 * time.Millisecond})
	h.ObserveRequest(httpx.Observation{Host: "helpdesk.example.com", Method: "POST", Err: errors.New("connection refused")})
	h.ObserveRequest(httpx.Observation{Host: "helpdesk.example.com", Method: "BREW", Status: 418})

	want := `
# HELP otai_http_requests_total HTTP attempts to help desks, by host, method and status code ("error": no response).
# TYPE otai_http_requests_total counter
otai_http_requests_total{code="200",host="helpdesk.example.com",method="GET"} 1
otai_http_requests_total{code="418",host="helpdesk.example.com",method="OTHER"} 1
otai_http_requests_total{code="503",host="helpdesk.example.com",method="GET"} 1
otai_http_requests_total{code="error",host="helpdesk.example.com",method="POST"} 1
# HELP otai_http_retries_total HTTP attempts that were retries of a failed attempt, by host.
# TYPE otai_http_retries_total counter
otai_http_retries_total{host="helpdesk.example.com"} 1
# HELP otai_http_rate_limit_wait_seconds_total Time spent waiting in otai's client-side rate limiter, by host.
# TYPE otai_http_rate_limit_wait_seconds_total counter
otai_http_rate_limit_wait_seconds_total{host="helpdesk.example.com"} 0.5
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"otai_http_requests_total", "otai_http_retries_total", "otai_http_rate_limit_wait_seconds_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.Registry(), "otai_http_request_duration_seconds"); n != 3 {
		t.Errorf("http duration: %d series, want 3 (GET, POST, OTHER)", n)
	}
}

// TestHTTPHookWithClient drives the hook through a real httpx.Client with
// a retry, as an adapter would.
func TestHTTPHookWithClient(t *testing.T) {
	calls := 0
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `{}`)
	}))
	defer ts.Close()
	m := metrics.New()
	c, err := httpx.New(httpx.Options{BaseURL: ts.URL, Metrics: m.HTTPHook(), MaxRetries: 2,
		MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(t.Context(), &httpx.Request{Method: "GET", Path: "/tickets/1", Policy: httpx.Idempotent}); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(ts.URL, "http://")
	if got := testutil.ToFloat64(m.HTTPRequests().WithLabelValues(host, "GET", "503")); got != 1 {
		t.Errorf("503s = %v", got)
	}
	if got := testutil.ToFloat64(m.HTTPRequests().WithLabelValues(host, "GET", "200")); got != 1 {
		t.Errorf("200s = %v", got)
	}
	if got := testutil.ToFloat64(m.HTTPRetries().WithLabelValues(host)); got != 1 {
		t.Errorf("retries = %v", got)
	}
}

func TestLabelsRedactedAndBounded(t *testing.T) {
	secret.Register("s3cr3t-runner-token")
	m := metrics.New()
	m.Observe(orchestrator.RunResult{Runner: "runner-s3cr3t-runner-token", Status: "weird",
		Steps: []pipe.Result{{Pipe: strings.Repeat("p", 200) + "\x00", Status: pipe.StatusSucceeded}}})
	m.HTTPHook().ObserveRequest(httpx.Observation{Host: "user:s3cr3t-runner-token@HelpDesk.example.com", Method: "GET", Status: 200})
	s := scrape(t, m)
	if strings.Contains(s, "s3cr3t") {
		t.Errorf("a secret reached a label:\n%s", s)
	}
	for _, want := range []string{`runner="runner-[REDACTED]"`, `status="other"`, `pipe="` + strings.Repeat("p", 64) + `"`, `host="helpdesk.example.com"`} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s", want)
		}
	}
}

func TestNoTicketIDsInLabels(t *testing.T) {
	m := metrics.New()
	m.Observe(run("triage", time.Now()))
	m.HTTPHook().ObserveRequest(httpx.Observation{Host: "h", Method: "GET", Path: "/api/tickets/4711", Status: 200})
	out := scrape(t, m)
	for _, bad := range []string{"4711", `"99"`, "ticket 1"} {
		if strings.Contains(out, bad) {
			t.Errorf("%q appears in the metrics", bad)
		}
	}
}

func TestHandlerServesPrivateRegistry(t *testing.T) {
	m := metrics.New()
	m.InitRunner("inbox")
	rec := httptest.NewRecorder()
	m.Handler(nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	for _, want := range []string{`otai_runs_total{runner="inbox",status="succeeded"} 0`, "go_goroutines", "process_"} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %q", want)
		}
	}
	// Nothing on the global registry.
	if strings.Contains(body, "promhttp_metric_handler_requests_total") {
		t.Error("the handler's own metrics were registered globally and served")
	}
}

func TestConcurrentObserve(t *testing.T) {
	m := metrics.New()
	done := make(chan struct{})
	for i := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for j := range 50 {
				m.Observe(run([]string{"a", "b"}[(i+j)%2], time.Now()))
				m.HTTPHook().ObserveRequest(httpx.Observation{Host: "h", Method: "GET", Status: 200})
			}
		}()
	}
	for range 4 {
		<-done
	}
	if got := testutil.ToFloat64(m.Runs().WithLabelValues("a", "failed")) + testutil.ToFloat64(m.Runs().WithLabelValues("b", "failed")); got != 200 {
		t.Errorf("runs = %v, want 200", got)
	}
}

// scrape returns what /metrics serves, in the text format.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler(nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: status %d", rec.Code)
	}
	return rec.Body.String()
}

func TestSetModel(t *testing.T) {
	m := metrics.New()
	m.SetModel("queue-model", "linear/queue", "v1+99dff66c8b2b", time.Unix(1700000000, 0), map[string]float64{"accuracy": 0.9, "macro_f1": 0.85, "ece": 0.03, "holdout": 35})
	m.SetModel("rules", "rules", "", time.Time{}, nil)
	want := `
# HELP otai_model_trained_timestamp_seconds Unix time the model a classifier loaded was trained (alert on old models with time() - this).
# TYPE otai_model_trained_timestamp_seconds gauge
otai_model_trained_timestamp_seconds{classifier="queue-model",model="linear/queue",version="v1+99dff66c8b2b"} 1.7e+09
# HELP otai_model_held_out_score What training measured on held-out examples for the model a classifier loaded, by metric (accuracy, macro_f1, ece).
# TYPE otai_model_held_out_score gauge
otai_model_held_out_score{classifier="queue-model",metric="accuracy"} 0.9
otai_model_held_out_score{classifier="queue-model",metric="ece"} 0.03
otai_model_held_out_score{classifier="queue-model",metric="macro_f1"} 0.85
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"otai_model_trained_timestamp_seconds", "otai_model_held_out_score"); err != nil {
		t.Error(err)
	}
}
