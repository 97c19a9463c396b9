// Package metrics exposes otai's Prometheus metrics: runs, tickets, pipes
// and the HTTP calls to help desks. Everything lives on a private registry
// (plus the Go and process collectors), so importing this package registers
// nothing globally and tests can build as many as they like.
//
// Label values never carry a secret (every value passes secret.Redact) and
// stay low-cardinality: runner and pipe ids come from the config, statuses
// are folded onto a fixed set, HTTP methods and codes likewise; ticket ids,
// subjects and URL paths are never labels.
package metrics

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/secret"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every otai metric.
const Namespace = "otai"

// Buckets of the histograms, in seconds.
var (
	RunBuckets  = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}
	PipeBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	HTTPBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
)

// maxLabelLen caps a label value (runner and pipe ids are short; this only
// guards against a pathological config).
const maxLabelLen = 64

// Metrics holds otai's collectors on a private registry. It is safe for
// concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	runs          *prometheus.CounterVec
	runDuration   *prometheus.HistogramVec
	tickets       *prometheus.CounterVec
	pipeResults   *prometheus.CounterVec
	pipeDuration  *prometheus.HistogramVec
	lastRun       *prometheus.GaugeVec
	lastSuccess   *prometheus.GaugeVec
	lastRunOK     *prometheus.GaugeVec
	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	httpRetries   *prometheus.CounterVec
	httpRateWaits *prometheus.CounterVec
	modelTrained  *prometheus.GaugeVec
	modelScore    *prometheus.GaugeVec

	mu      sync.Mutex
	runners map[string]bool // runners whose series are initialised
}

// New returns Metrics on a fresh registry that also holds the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), runners: map[string]bool{}}
	f := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: Namespace, Name: name, Help: help}
	}
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts(f("runs_total",
		"Runs finished, by runner and status (succeeded, skipped, failed).")), []string{"runner", "status"})
	m.runDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "run_duration_seconds",
		Help: "How long a run of a runner took.", Buckets: RunBuckets}, []string{"runner"})
	m.tickets = prometheus.NewCounterVec(prometheus.CounterOpts(f("tickets_total",
		"Tickets processed, by runner and outcome (succeeded, skipped, failed).")), []string{"runner", "status"})
	m.pipeResults = prometheus.NewCounterVec(prometheus.CounterOpts(f("pipe_results_total",
		"Pipe results, per run and per ticket, by runner, pipe id and status.")), []string{"runner", "pipe", "status"})
	m.pipeDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "pipe_duration_seconds",
		Help: "How long one execution of a pipe took (a for-each pipe: all its tickets).", Buckets: PipeBuckets}, []string{"pipe"})
	m.lastRun = prometheus.NewGaugeVec(prometheus.GaugeOpts(f("last_run_timestamp_seconds",
		"Unix time the runner's last run finished.")), []string{"runner"})
	m.lastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts(f("last_success_timestamp_seconds",
		"Unix time the runner's last run without failures finished.")), []string{"runner"})
	m.lastRunOK = prometheus.NewGaugeVec(prometheus.GaugeOpts(f("last_run_success",
		"1 if the runner's last run had no failures, else 0.")), []string{"runner"})
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts(f("http_requests_total",
		"HTTP attempts to help desks, by host, method and status code (\"error\": no response).")), []string{"host", "method", "code"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "http_request_duration_seconds",
		Help: "Duration of one HTTP attempt to a help desk, not counting rate-limit waits.", Buckets: HTTPBuckets}, []string{"host", "method"})
	m.httpRetries = prometheus.NewCounterVec(prometheus.CounterOpts(f("http_retries_total",
		"HTTP attempts that were retries of a failed attempt, by host.")), []string{"host"})
	m.httpRateWaits = prometheus.NewCounterVec(prometheus.CounterOpts(f("http_rate_limit_wait_seconds_total",
		"Time spent waiting in otai's client-side rate limiter, by host.")), []string{"host"})
	m.modelTrained = prometheus.NewGaugeVec(prometheus.GaugeOpts(f("model_trained_timestamp_seconds",
		"Unix time the model a classifier loaded was trained (alert on old models with time() - this).")), []string{"classifier", "model", "version"})
	m.modelScore = prometheus.NewGaugeVec(prometheus.GaugeOpts(f("model_held_out_score",
		"What training measured on held-out examples for the model a classifier loaded, by metric (accuracy, macro_f1, ece).")), []string{"classifier", "metric"})
	m.reg.MustRegister(m.runs, m.runDuration, m.tickets, m.pipeResults, m.pipeDuration,
		m.lastRun, m.lastSuccess, m.lastRunOK, m.httpRequests, m.httpDuration, m.httpRetries, m.httpRateWaits,
		m.modelTrained, m.modelScore,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the private registry (for tests and extra collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats. Errors
// while gathering are logged to log (nil: discarded) and the metrics that
// could be gathered are still served.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	opts := promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Registry: m.reg}
	if log != nil {
		opts.ErrorLog = slogPrinter{log}
	}
	return promhttp.HandlerFor(m.reg, opts)
}

type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	var b strings.Builder
	for i, x := range v {
		if i > 0 {
			b.WriteByte(' ')
		}
		if s, ok := x.(string); ok {
			b.WriteString(s)
		} else if e, ok := x.(error); ok {
			b.WriteString(e.Error())
		}
	}
	p.l.Warn("metrics: " + b.String())
}

var statuses = []string{string(pipe.StatusSucceeded), string(pipe.StatusSkipped), string(pipe.StatusFailed)}

// SetModel records the model a classifier loaded: when it was trained
// (zero: unknown, no series) and its held-out scores (accuracy, macro_f1,
// ece; others are ignored).
func (m *Metrics) SetModel(classifier, model, version string, trainedAt time.Time, heldOut map[string]float64) {
	if !trainedAt.IsZero() {
		m.modelTrained.WithLabelValues(classifier, model, version).Set(float64(trainedAt.UnixNano()) / 1e9)
	}
	for _, k := range []string{"accuracy", "macro_f1", "ece"} {
		if v, ok := heldOut[k]; ok {
			m.modelScore.WithLabelValues(classifier, k).Set(v)
		}
	}
}

// InitRunner creates the runner's series at zero, so that
// increase(otai_runs_total{status="succeeded"}[15m]) == 0 fires for a
// runner that never succeeded instead of being absent.
func (m *Metrics) InitRunner(id string) {
	id = Label(id)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.runners[id] {
		return
	}
	m.runners[id] = true
	for _, s := range statuses {
		m.runs.WithLabelValues(id, s)
		m.tickets.WithLabelValues(id, s)
	}
}

// Observe records one finished run: its status and duration, its tickets
// by outcome, and every pipe result in it (run-level, nested and
// per-ticket).
func (m *Metrics) Observe(r orchestrator.RunResult) {
	runner := Label(r.Runner)
	m.InitRunner(r.Runner)
	status := Status(r.Status)
	m.runs.WithLabelValues(runner, status).Inc()
	m.runDuration.WithLabelValues(runner).Observe(r.Duration.Seconds())
	for s, n := range r.Counts() {
		m.tickets.WithLabelValues(runner, Status(s)).Add(float64(n))
	}
	for i := range r.Steps {
		m.observePipe(runner, &r.Steps[i])
	}
	end := r.Started.Add(r.Duration)
	ts := float64(end.UnixNano()) / 1e9
	m.lastRun.WithLabelValues(runner).Set(ts)
	if status == string(pipe.StatusFailed) {
		m.lastRunOK.WithLabelValues(runner).Set(0)
	} else {
		m.lastRunOK.WithLabelValues(runner).Set(1)
		m.lastSuccess.WithLabelValues(runner).Set(ts)
	}
}

func (m *Metrics) observePipe(runner string, r *pipe.Result) {
	id := Label(r.Pipe)
	m.pipeResults.WithLabelValues(runner, id, Status(r.Status)).Inc()
	m.pipeDuration.WithLabelValues(id).Observe(r.Duration.Seconds())
	for i := range r.Steps {
		m.observePipe(runner, &r.Steps[i])
	}
	for _, it := range r.Items {
		for i := range it.Steps {
			m.observePipe(runner, &it.Steps[i])
		}
	}
}

// HTTPHook returns an httpx.Hook that records every attempt in
// otai_http_requests_total, otai_http_request_duration_seconds,
// otai_http_retries_total and otai_http_rate_limit_wait_seconds_total.
// Set it as httpx.Options.Metrics (otobo.Params.Metrics,
// freshdesk/zammad Params.HTTP.Metrics).
func (m *Metrics) HTTPHook() httpx.Hook { return httpHook{m} }

type httpHook struct{ m *Metrics }

func (h httpHook) ObserveRequest(o httpx.Observation) {
	host, method := Host(o.Host), Method(o.Method)
	code := "error"
	if o.Status > 0 {
		code = strconv.Itoa(o.Status)
	}
	h.m.httpRequests.WithLabelValues(host, method, code).Inc()
	h.m.httpDuration.WithLabelValues(host, method).Observe(o.Duration.Seconds())
	if o.Attempt > 0 {
		h.m.httpRetries.WithLabelValues(host).Inc()
	}
	if o.Waited > 0 {
		h.m.httpRateWaits.WithLabelValues(host).Add(o.Waited.Seconds())
	}
}

// Label makes s safe as a label value: secrets redacted, valid UTF-8,
// control characters dropped, at most 64 runes.
func Label(s string) string {
	s = secret.Redact(s)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > maxLabelLen {
		s = string([]rune(s)[:maxLabelLen])
	}
	if s == "" {
		return "unknown"
	}
	return s
}

// Status folds a status onto succeeded, skipped, failed or other.
func Status(s pipe.Status) string {
	switch s {
	case pipe.StatusSucceeded, pipe.StatusSkipped, pipe.StatusFailed:
		return string(s)
	}
	return "other"
}

// Method folds an HTTP method onto the standard ones or OTHER.
func Method(m string) string {
	m = strings.ToUpper(m)
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return m
	case "":
		return "GET"
	}
	return "OTHER"
}

// Host is the host[:port] label: lower-cased, without user info, redacted.
func Host(h string) string {
	if i := strings.LastIndexByte(h, '@'); i >= 0 {
		h = h[i+1:]
	}
	return Label(strings.ToLower(h))
}
