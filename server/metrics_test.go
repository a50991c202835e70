package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const propertiesRoute = "/nevisidm/api/core/v1/:clientExtId/users/:userExtId/generic-credentials/:extId/properties"

// scrape returns the metric families of GET /metrics.
func (s *testServer) scrape() map[string]*dto.MetricFamily {
	s.t.Helper()
	res := s.serve(httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if res.status != http.StatusOK {
		s.t.Fatalf("GET /metrics status = %d, want 200", res.status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(res.body))
	if err != nil {
		s.t.Fatalf("parse GET /metrics: %v", err)
	}
	return families
}

// sample returns the metric of family name whose labels include labels, or
// nil.
func sample(families map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	family, ok := families[name]
	if !ok {
		return nil
	}
	for _, m := range family.Metric {
		matched := 0
		for _, pair := range m.Label {
			if want, ok := labels[pair.GetName()]; ok && want == pair.GetValue() {
				matched++
			}
		}
		if matched == len(labels) {
			return m
		}
	}
	return nil
}

func TestMetrics_Requests(t *testing.T) {
	s := newTestServer(t, "")
	s.get(cred1)
	s.get(cred1)
	s.patch(cred1, `{"tier":"platinum"}`)
	s.serve(httptest.NewRequest(http.MethodGet, "/nope/secret-path", nil))
	s.serve(httptest.NewRequest("PROPFIND", "/healthz", nil))

	families := s.scrape()

	cases := []struct {
		desc   string
		labels map[string]string
		want   float64
	}{
		{"GET 200", map[string]string{"route": propertiesRoute, "method": "GET", "code": "200"}, 2},
		{"PATCH 422", map[string]string{"route": propertiesRoute, "method": "PATCH", "code": "422"}, 1},
		{"no route", map[string]string{"route": "none", "method": "GET", "code": "404"}, 1},
		{"unusual method", map[string]string{"route": "/healthz", "method": "other", "code": "405"}, 1},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			count := sample(families, "credprops_http_requests_total", c.labels)
			if count == nil {
				t.Fatalf("no credprops_http_requests_total%v", c.labels)
			}
			if got := count.GetCounter().GetValue(); got != c.want {
				t.Errorf("credprops_http_requests_total%v = %v, want %v", c.labels, got, c.want)
			}
			duration := sample(families, "credprops_http_request_duration_seconds", c.labels)
			if duration == nil {
				t.Fatalf("no credprops_http_request_duration_seconds%v", c.labels)
			}
			if got := float64(duration.GetHistogram().GetSampleCount()); got != c.want {
				t.Errorf("credprops_http_request_duration_seconds_count%v = %v, want %v", c.labels, got, c.want)
			}
		})
	}
}

func TestMetrics_RouteIsTemplate(t *testing.T) {
	s := newTestServer(t, "")
	s.get(credPath("acme", "ops", "cred-2"))
	s.serve(httptest.NewRequest(http.MethodGet, "/nope/secret-path", nil))

	families := s.scrape()

	for _, m := range families["credprops_http_requests_total"].Metric {
		for _, pair := range m.Label {
			if strings.Contains(pair.GetValue(), "cred-2") || strings.Contains(pair.GetValue(), "secret-path") {
				t.Errorf("label %s=%q holds a request path, want a route template", pair.GetName(), pair.GetValue())
			}
		}
	}
}

func TestMetrics_InFlight(t *testing.T) {
	s := newTestServer(t, "")

	families := s.scrape()

	inFlight := sample(families, "credprops_http_requests_in_flight", nil)
	if inFlight == nil {
		t.Fatal("no credprops_http_requests_in_flight")
	}
	// The scrape itself is in flight while the metrics are gathered.
	if got := inFlight.GetGauge().GetValue(); got != 1 {
		t.Errorf("credprops_http_requests_in_flight = %v, want 1", got)
	}
}

func TestMetrics_DatabasePools(t *testing.T) {
	s := newTestServer(t, "")

	families := s.scrape()

	cases := []struct {
		pool string
		min  float64
		max  float64
	}{
		{"write", 1, 1},
		{"read", 4, 1 << 10},
	}
	for _, c := range cases {
		t.Run(c.pool, func(t *testing.T) {
			m := sample(families, "go_sql_max_open_connections", map[string]string{"db_name": c.pool})
			if m == nil {
				t.Fatalf("no go_sql_max_open_connections{db_name=%q}", c.pool)
			}
			if got := m.GetGauge().GetValue(); got < c.min || got > c.max {
				t.Errorf("go_sql_max_open_connections{db_name=%q} = %v, want %v to %v", c.pool, got, c.min, c.max)
			}
			if sample(families, "go_sql_in_use_connections", map[string]string{"db_name": c.pool}) == nil {
				t.Errorf("no go_sql_in_use_connections{db_name=%q}", c.pool)
			}
		})
	}
}

func TestMetrics_ServersDoNotShareCounts(t *testing.T) {
	first := newTestServer(t, "")
	first.get(cred1)
	second := newTestServer(t, "")

	families := second.scrape()

	labels := map[string]string{"route": propertiesRoute, "method": "GET", "code": "200"}
	if m := sample(families, "credprops_http_requests_total", labels); m != nil {
		t.Errorf("the second server counts %v requests of the first, want none", m.GetCounter().GetValue())
	}
}
