package server

import (
	"database/sql"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the Prometheus metrics of one server. They live in a registry
// of their own instead of the global one, so that two servers in one
// process, as in tests, do not share counts.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

// newMetrics registers the HTTP metrics, the statistics of the named
// database connection pools, and the Go runtime and process collectors.
func newMetrics(dbs map[string]*sql.DB) (*metrics, error) {
	labels := []string{"route", "method", "code"}
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "credprops",
			Name:      "http_requests_total",
			Help:      "HTTP requests answered, by route template, method and status code.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "credprops",
			Name:      "http_request_duration_seconds",
			Help:      "Time from receiving an HTTP request to answering it, by route template, method and status code.",
			Buckets:   prometheus.DefBuckets,
		}, labels),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "credprops",
			Name:      "http_requests_in_flight",
			Help:      "HTTP requests being served.",
		}),
	}

	all := []prometheus.Collector{
		m.requests, m.duration, m.inFlight,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	for name, db := range dbs {
		all = append(all, collectors.NewDBStatsCollector(db, name))
	}
	for _, c := range all {
		if err := m.registry.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// middleware counts and times every request. The route label is the route
// template, never the request path, and unusual methods share one label
// value, so that clients cannot create label values.
func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		start := time.Now()

		err := next(c)
		if err != nil {
			// Write the error response now, so that its status is known.
			// The error handler ignores the error when it reaches Echo
			// again, because the response is committed by then.
			c.Error(err)
		}

		route := routeTemplate(c)
		method := methodLabel(c.Request().Method)
		code := strconv.Itoa(c.Response().Status)
		m.requests.WithLabelValues(route, method, code).Inc()
		m.duration.WithLabelValues(route, method, code).Observe(time.Since(start).Seconds())
		return err
	}
}

// methodLabel returns method when it is a standard HTTP method, or "other",
// which bounds the label's values.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "other"
}
