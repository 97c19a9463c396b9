package metrics

import "github.com/prometheus/client_golang/prometheus"

// Accessors for the tests in package metrics_test.

func (m *Metrics) Runs() *prometheus.CounterVec           { return m.runs }
func (m *Metrics) RunDuration() *prometheus.HistogramVec  { return m.runDuration }
func (m *Metrics) Tickets() *prometheus.CounterVec        { return m.tickets }
func (m *Metrics) PipeResults() *prometheus.CounterVec    { return m.pipeResults }
func (m *Metrics) PipeDuration() *prometheus.HistogramVec { return m.pipeDuration }
func (m *Metrics) LastRun() *prometheus.GaugeVec          { return m.lastRun }
func (m *Metrics) LastSuccess() *prometheus.GaugeVec      { return m.lastSuccess }
func (m *Metrics) LastRunSuccess() *prometheus.GaugeVec   { return m.lastRunOK }
func (m *Metrics) HTTPRequests() *prometheus.CounterVec   { return m.httpRequests }
func (m *Metrics) HTTPRetries() *prometheus.CounterVec    { return m.httpRetries }
