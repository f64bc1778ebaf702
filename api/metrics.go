package api

import (
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"

	"github.com/visad/visad/domain"
)

// Metrics is a process's Prometheus registry: HTTP requests, the case
// counters and, once TemporalHandler is called, the Temporal SDK's own
// metrics. It is private (not prometheus.DefaultRegisterer), so several
// stacks in one test process never collide.
type Metrics struct {
	Registry *prometheus.Registry
	log      *slog.Logger

	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	submitted *prometheus.CounterVec
	decisions *prometheus.CounterVec
	sla       *prometheus.CounterVec

	temporalOnce    sync.Once
	temporalHandler client.MetricsHandler
	temporalCloser  interface{ Close() error }
}

// TemporalReportInterval is how often the SDK's metrics reach the registry.
const TemporalReportInterval = time.Second

// NewMetrics builds a registry with the HTTP and case metrics, plus the Go
// runtime and process collectors.
func NewMetrics(log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.Default()
	}
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		log:      log,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests by method, route pattern and status code.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "HTTP request latency by method and route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "route"}),
		submitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "visad_applications_submitted_total",
			Help: "Applications accepted (idempotent replays are not counted), by product.",
		}, []string{"product"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "visad_decisions_total",
			Help: "Officers' decisions that took effect, by outcome.",
		}, []string{"outcome"}),
		sla: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "visad_sla_events_total",
			Help: "SLA clock events recorded by this worker: escalated (75 %) and sla_breached (100 %).",
		}, []string{"event"}),
	}
	m.Registry.MustRegister(m.requests, m.duration, m.submitted, m.decisions, m.sla,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Every known label value starts at zero, so rates work from the first scrape.
	for _, p := range domain.Products() {
		m.submitted.WithLabelValues(string(p.Code))
	}
	for _, o := range domain.Outcomes {
		m.decisions.WithLabelValues(string(o))
	}
	for _, e := range []domain.Event{domain.EventEscalated, domain.EventSLABreached} {
		m.sla.WithLabelValues(string(e))
	}
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// TemporalHandler returns the Temporal SDK metrics handler (client.Options.MetricsHandler)
// that reports into this registry through tally, with Prometheus naming.
func (m *Metrics) TemporalHandler() client.MetricsHandler {
	m.temporalOnce.Do(func() {
		reporter := tallyprom.NewReporter(tallyprom.Options{
			Registerer:       m.Registry,
			DefaultTimerType: tallyprom.HistogramTimerType,
			OnRegisterError: func(err error) {
				// A name the SDK reuses with other tag keys: skip that series, never panic.
				m.log.Debug("temporal sdk metric not registered", "error", err)
			},
		})
		scope, closer := tally.NewRootScope(tally.ScopeOptions{
			CachedReporter:  reporter,
			Separator:       tallyprom.DefaultSeparator,
			SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
		}, TemporalReportInterval)
		m.temporalCloser = closer
		m.temporalHandler = sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope))
	})
	return m.temporalHandler
}

// Close stops the SDK metrics reporter, flushing it once more.
func (m *Metrics) Close() error {
	if m == nil || m.temporalCloser == nil {
		return nil
	}
	return m.temporalCloser.Close()
}

// Submitted counts an accepted application.
func (m *Metrics) Submitted(product domain.Product) {
	m.submitted.WithLabelValues(string(product)).Inc()
}

// Decided counts a decision that took effect.
func (m *Metrics) Decided(outcome domain.Outcome) { m.decisions.WithLabelValues(string(outcome)).Inc() }

// SLAEvent counts an escalation or a breach (other clock events are not counted).
func (m *Metrics) SLAEvent(event domain.Event) {
	if event == domain.EventEscalated || event == domain.EventSLABreached {
		m.sla.WithLabelValues(string(event)).Inc()
	}
}

// observe records every request by its route pattern (never the raw path, which holds ids).
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m := s.deps.Metrics
	method := metricMethod(c.Request.Method)
	m.requests.WithLabelValues(method, route, strconv.Itoa(c.Writer.Status())).Inc()
	m.duration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
}

// metricMethod bounds the method label: clients may send any token as a method.
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}
